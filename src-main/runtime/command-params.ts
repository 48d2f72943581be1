/** Validation of control command params (untrusted input from any carrier). */
import type { ProcessRef } from '../control/contract.ts';
import { ControlError } from '../control/control-error.ts';

const MAX_ID = 256;

function invalid(message: string): ControlError {
  return new ControlError('invalid_params', message);
}

/** Commands without params accept nothing, null or an empty object. */
export function noParams(command: string, params: unknown): void {
  if (params === undefined || params === null) return;
  if (typeof params === 'object' && !Array.isArray(params) && Object.keys(params).length === 0) return;
  throw invalid(`${command} takes no params`);
}

function objectParams(command: string, params: unknown, keys: readonly string[]): Record<string, unknown> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw invalid(`${command} needs params {${keys.join(', ')}}`);
  }
  const record = params as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!keys.includes(key)) throw invalid(`${command}: unknown param ${JSON.stringify(key)}`);
  return record;
}

function id(command: string, record: Record<string, unknown>, key: string): string {
  const value = record[key];
  if (typeof value !== 'string' || value === '' || value.length > MAX_ID) {
    throw invalid(`${command}: ${key} must be a non-empty string of at most ${MAX_ID} characters`);
  }
  return value;
}

export function processRef(command: string, params: unknown): ProcessRef {
  const record = objectParams(command, params, ['sessionId', 'processId']);
  return { sessionId: id(command, record, 'sessionId'), processId: id(command, record, 'processId') };
}

export function sessionRef(command: string, params: unknown): { sessionId: string } {
  return { sessionId: id(command, objectParams(command, params, ['sessionId']), 'sessionId') };
}

export function streamRef(command: string, params: unknown): { streamId: string } {
  return { streamId: id(command, objectParams(command, params, ['streamId']), 'streamId') };
}
