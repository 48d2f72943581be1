/**
 * The exec-server's JSON-RPC dialect (local-protocol.md §1.4): JSON-RPC 2.0 without the
 * "jsonrpc" member. Decoding follows the reference's order of checks so that malformed
 * messages are answered with the same serde texts; encoding emits members in the reference's
 * order (responses `id, result`; errors `error, id`; notifications `method, params`).
 */

import { inputKeyOrder, JsonFloat, stringifyJson } from './json-text.ts';

/** A request id: an i64 or a string. Integers beyond 2^53 stay exact as bigint. */
export type RequestId = number | bigint | string;

export type IncomingMessage =
  | { kind: 'request'; id: RequestId; method: string; params: unknown }
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'response'; id: RequestId; result: unknown }
  | { kind: 'error'; id: RequestId; error: { code: number; message: string; data?: unknown } }
  | { kind: 'malformed'; reason: string };

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const UNTAGGED_REQUEST_ID = 'data did not match any variant of untagged enum RequestId';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonFloat);
}

/** serde's rendering of an unexpected JSON value in "invalid type" messages. */
export function describeUnexpected(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'bigint' || value instanceof JsonFloat) return 'number';
  if (typeof value === 'boolean') return `boolean \`${value}\``;
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (Array.isArray(value)) return 'sequence';
  return 'map';
}

function invalidType(value: unknown, expected: string): string {
  return `invalid type: ${describeUnexpected(value)}, expected ${expected}`;
}

function decodeRequestId(value: unknown): RequestId | string[] {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isInteger(value) && Number.isSafeInteger(value)) return value;
  if (typeof value === 'bigint' && value >= I64_MIN && value <= I64_MAX) return value;
  return [UNTAGGED_REQUEST_ID];
}

/** Thrown inside the field walk; carries serde's message. */
class Malformed {
  constructor(readonly reason: string) {}
}

function checkString(value: unknown): string {
  if (typeof value !== 'string') throw new Malformed(invalidType(value, 'a string'));
  return value;
}

function checkId(value: unknown): RequestId {
  const id = decodeRequestId(value);
  if (Array.isArray(id)) throw new Malformed(id[0]!);
  return id;
}

function checkTrace(value: unknown): void {
  if (value === null || value === undefined) return;
  if (!isObject(value)) throw new Malformed(invalidType(value, 'struct W3cTraceContext'));
  for (const key of inputKeyOrder(value)) {
    const member = value[key];
    if ((key === 'traceparent' || key === 'tracestate') && member !== null) checkString(member);
  }
}

function checkErrorObject(value: unknown): { code: number; message: string; data?: unknown } {
  if (!isObject(value)) throw new Malformed(invalidType(value, 'struct JSONRPCErrorError'));
  let code: number | undefined;
  let message: string | undefined;
  for (const key of inputKeyOrder(value)) {
    const member = value[key];
    if (key === 'code') {
      if (typeof member === 'bigint') code = Number(member);
      else if (typeof member === 'number' && Number.isInteger(member)) code = member;
      else throw new Malformed(typeof member === 'number' || member instanceof JsonFloat ? 'invalid number' : invalidType(member, 'i64'));
    } else if (key === 'message') {
      message = checkString(member);
    }
  }
  if (code === undefined) throw new Malformed('missing field `code`');
  if (message === undefined) throw new Malformed('missing field `message`');
  return 'data' in value ? { code, message, data: value.data } : { code, message };
}

/**
 * Classifies a parsed JSON value as the reference does: with `method` it is a request (if it
 * has an `id`) or a notification; otherwise a response (with `result`) or an error. Within
 * the chosen shape, members are checked in the order they appear in the input, and missing
 * members are reported afterwards, as serde's derived struct visitors do.
 */
export function decodeEnvelope(value: unknown): IncomingMessage {
  if (!isObject(value)) return { kind: 'malformed', reason: 'expected a JSON-RPC object' };
  try {
    if ('method' in value) {
      const isRequest = 'id' in value && value.id !== undefined;
      let id: RequestId | undefined;
      let method: string | undefined;
      for (const key of inputKeyOrder(value)) {
        const member = value[key];
        if (key === 'id' && isRequest) id = checkId(member);
        else if (key === 'method') method = checkString(member);
        else if (key === 'trace' && isRequest) checkTrace(member);
      }
      const params = value.params ?? null;
      if (isRequest) return { kind: 'request', id: id!, method: method!, params };
      return { kind: 'notification', method: method!, params };
    }
    if ('result' in value) {
      let id: RequestId | undefined;
      for (const key of inputKeyOrder(value)) if (key === 'id') id = checkId(value[key]);
      if (id === undefined) throw new Malformed('missing field `id`');
      return { kind: 'response', id, result: value.result };
    }
    let error: { code: number; message: string; data?: unknown } | undefined;
    let id: RequestId | undefined;
    for (const key of inputKeyOrder(value)) {
      if (key === 'error') error = checkErrorObject(value[key]);
      else if (key === 'id') id = checkId(value[key]);
    }
    if (error === undefined) throw new Malformed('missing field `error`');
    if (id === undefined) throw new Malformed('missing field `id`');
    return { kind: 'error', id, error };
  } catch (err) {
    if (err instanceof Malformed) return { kind: 'malformed', reason: err.reason };
    throw err;
  }
}

function idText(id: RequestId): string {
  return typeof id === 'string' ? JSON.stringify(id) : String(id);
}

/**
 * A result already serialized as one JSON value in bytes. Hot paths (fs/readFile, fs/readBlock)
 * use it so megabytes of base64 are neither scanned by JSON.stringify nor transcoded again.
 * The JSON sits at `buffer[start..end)`; a producer may leave room before `start` and one byte
 * after `end`, so the envelope is written around it in place instead of copying the payload.
 */
export class RawJson {
  constructor(
    readonly buffer: Buffer,
    readonly start = 0,
    readonly end = buffer.length,
  ) {}

  get bytes(): Buffer {
    return this.buffer.subarray(this.start, this.end);
  }
}

/** Room a RawJson producer should leave before its JSON for `{"id":…,"result":`. */
export const RAW_JSON_HEADROOM = 64;

export function encodeResult(id: RequestId, result: unknown): string | Buffer {
  if (result instanceof RawJson) {
    const head = `{"id":${idText(id)},"result":`;
    const headLength = Buffer.byteLength(head);
    const { buffer, start, end } = result;
    if (headLength <= start && end < buffer.length) {
      buffer.write(head, start - headLength, 'utf8');
      buffer[end] = 0x7d; // }
      return buffer.subarray(start - headLength, end + 1);
    }
    const out = Buffer.allocUnsafe(headLength + (end - start) + 1);
    out.write(head, 0, 'utf8');
    buffer.copy(out, headLength, start, end);
    out[out.length - 1] = 0x7d;
    return out;
  }
  return `{"id":${idText(id)},"result":${JSON.stringify(result ?? null)}}`;
}

export function encodeError(id: RequestId, code: number, message: string, data?: unknown): string {
  const error = data === undefined ? { code, message } : { code, message, data };
  return `{"error":${JSON.stringify(error)},"id":${idText(id)}}`;
}

export function encodeNotification(method: string, params: unknown): string | Buffer {
  if (method === 'process/output') return encodeOutputNotification(params as OutputParams);
  // stringifyJson writes bigints exactly (u64 ids such as fs/missingChanged's watchId).
  return `{"method":${JSON.stringify(method)},"params":${stringifyJson(params ?? null)}}`;
}

interface OutputParams {
  processId: string;
  seq: number;
  stream: string;
  /** Standard base64: never needs JSON escaping. */
  chunk: string;
}

/**
 * `process/output` is the one hot message: building it as bytes, with the base64 chunk copied
 * in as Latin-1, avoids JSON.stringify scanning and a UTF-8 transcode of every chunk (it more
 * than doubled output throughput). The text is identical to the generic encoding.
 */
function encodeOutputNotification(p: OutputParams): Buffer {
  const head = `{"method":"process/output","params":{"processId":${JSON.stringify(p.processId)},"seq":${p.seq},"stream":${JSON.stringify(p.stream)},"chunk":"`;
  const headLength = Buffer.byteLength(head);
  const out = Buffer.allocUnsafe(headLength + p.chunk.length + 3);
  out.write(head, 0, 'utf8');
  out.write(p.chunk, headLength, 'latin1');
  out.write('"}}', headLength + p.chunk.length, 'latin1');
  return out;
}

/** The id the reference uses when it cannot tell which request a malformed message was. */
export const MALFORMED_MESSAGE_ID = -1;
