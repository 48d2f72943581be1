/**
 * The error every control carrier rejects with. Free of Node imports: the browser dashboard,
 * the preload and main all use it.
 */
import type { ControlErrorPayload } from './contract.ts';

export class ControlError extends Error {
  override readonly name = 'ControlError';

  constructor(
    readonly code: ControlErrorPayload['code'],
    message: string,
  ) {
    super(message);
  }

  toPayload(): ControlErrorPayload {
    return { code: this.code, message: this.message };
  }

  /** Any thrown value as a payload; unexpected errors become `failed`. */
  static payloadOf(err: unknown): ControlErrorPayload {
    if (err instanceof ControlError) return err.toPayload();
    return { code: 'failed', message: err instanceof Error ? err.message : String(err) };
  }

  static fromPayload(payload: ControlErrorPayload): ControlError {
    return new ControlError(payload.code, payload.message);
  }
}

const CODES: ReadonlySet<string> = new Set(['unknown_command', 'invalid_params', 'not_found', 'unavailable', 'failed']);

/** True for a well-formed ControlErrorPayload (what a carrier received over the wire). */
export function isControlErrorPayload(value: unknown): value is ControlErrorPayload {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'string' && CODES.has(v.code) && typeof v.message === 'string';
}
