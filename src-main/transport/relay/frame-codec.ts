/**
 * RelayMessageFrame (codex.exec_server.relay.v1) encoding and validation, as codex-cli 0.169.0
 * does it (remote-protocol.md §5). One frame per binary WebSocket message, no length prefix.
 *
 * The generated protobufjs code does the byte work; this module adds what protobufjs does not:
 * prost rejects a known field sent with the wrong wire type (the whole frame is undecodable),
 * where protobufjs would silently skip it as unknown. Unknown field numbers are skipped by both.
 * Decoding never throws: a frame is either valid or carries the reference's warning text, and the
 * caller drops it without a reset, as the reference does.
 */
import protobuf from 'protobufjs/minimal.js';
import { codex } from '../../gen/relay.js';

const pb = codex.exec_server.relay.v1;

/** The only frame version 0.169.0 accepts and sends. */
export const RELAY_FRAME_VERSION = 1;
/** The executor drops its whole WebSocket on a message larger than this (read error). */
export const MAX_RELAY_WEBSOCKET_MESSAGE_BYTES = 256 * 1024;
/** The only reset reason a 0.169.0 executor sends. */
export const EXECUTOR_RESET_REASON = 'noise_relay_protocol_error';
/** What the rendezvous tells the executor when a harness socket goes away. */
export const HARNESS_DISCONNECTED_REASON = 'harness_disconnected';

export type RelayBody =
  | { kind: 'data'; seq: number; payload: Uint8Array }
  | { kind: 'ack' }
  | { kind: 'resume'; nextSeq: number }
  | { kind: 'reset'; reason: string }
  | { kind: 'heartbeat' }
  | { kind: 'handshake'; payload: Uint8Array };

export interface RelayFrame {
  streamId: string;
  body: RelayBody;
  /** Unused by 0.169.0: never sent, ignored on receipt. Omitted when 0. */
  ack?: number;
  ackBits?: number;
  /** W3C trace context (data frames carrying a request); explicit presence. */
  traceparent?: string;
  tracestate?: string;
}

export type RelayDecodeResult = { ok: true; frame: RelayFrame } | { ok: false; error: string };

/**
 * Encodes a frame the way the 0.169.0 executor and harness do: `version` 1 always, proto3 zero
 * values omitted (`seq` 0, `segment_index`), `segment_count` 1 on data frames.
 */
export function encodeRelayFrame(frame: RelayFrame): Uint8Array {
  const message: codex.exec_server.relay.v1.RelayMessageFrame.$Properties = {
    version: RELAY_FRAME_VERSION,
    streamId: frame.streamId,
  };
  if (frame.ack) message.ack = frame.ack;
  if (frame.ackBits) message.ackBits = frame.ackBits;
  const body = frame.body;
  switch (body.kind) {
    case 'data':
      message.data = body.seq ? { seq: body.seq, segmentCount: 1, payload: body.payload } : { segmentCount: 1, payload: body.payload };
      break;
    case 'ack':
      message.ackFrame = {};
      break;
    case 'resume':
      message.resume = body.nextSeq ? { nextSeq: body.nextSeq } : {};
      break;
    case 'reset':
      message.reset = { reason: body.reason };
      break;
    case 'heartbeat':
      message.heartbeat = {};
      break;
    case 'handshake':
      message.handshake = { payload: body.payload };
      break;
  }
  if (frame.traceparent !== undefined) message.traceparent = frame.traceparent;
  if (frame.tracestate !== undefined) message.tracestate = frame.tracestate;
  return pb.RelayMessageFrame.encode(message).finish();
}

// Tags (field number << 3 | wire type) of the fields a data frame carries.
const TAG_VERSION = 0x08;
const TAG_STREAM_ID = 0x12;
const TAG_DATA = 0x2a;
const TAG_DATA_SEQ = 0x08;
const TAG_DATA_SEGMENT_COUNT = 0x18;
const TAG_DATA_PAYLOAD = 0x22;

/**
 * A data frame, byte-identical to `encodeRelayFrame({streamId, body: {kind: 'data', seq, payload}})`
 * (frame-codec.test.ts compares them), written straight from the payload's pieces: the one frame
 * type on the output hot path, where protobufjs's writer costs two extra copies per record.
 */
export function encodeDataFrame(streamId: string, seq: number, payload: readonly Uint8Array[]): Uint8Array {
  let payloadLength = 0;
  for (const part of payload) payloadLength += part.length;
  const streamIdLength = Buffer.byteLength(streamId, 'utf8');
  const dataLength =
    (seq ? 1 + varintLength(seq) : 0) + 2 + (payloadLength ? 1 + varintLength(payloadLength) + payloadLength : 0);
  const total = 2 + (streamIdLength ? 1 + varintLength(streamIdLength) + streamIdLength : 0) + 1 + varintLength(dataLength) + dataLength;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  out[at++] = TAG_VERSION;
  out[at++] = RELAY_FRAME_VERSION;
  if (streamIdLength) {
    out[at++] = TAG_STREAM_ID;
    at = writeVarint(out, at, streamIdLength);
    at += out.write(streamId, at, 'utf8');
  }
  out[at++] = TAG_DATA;
  at = writeVarint(out, at, dataLength);
  if (seq) {
    out[at++] = TAG_DATA_SEQ;
    at = writeVarint(out, at, seq);
  }
  out[at++] = TAG_DATA_SEGMENT_COUNT;
  out[at++] = 1;
  if (payloadLength) {
    out[at++] = TAG_DATA_PAYLOAD;
    at = writeVarint(out, at, payloadLength);
    for (const part of payload) {
      out.set(part, at);
      at += part.length;
    }
  }
  return out;
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    length++;
  }
  return length;
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

/** Shorthand for the reset every 0.169.0 executor reset looks like. */
export function encodeExecutorReset(streamId: string): Uint8Array {
  return encodeRelayFrame({ streamId, body: { kind: 'reset', reason: EXECUTOR_RESET_REASON } });
}

// Protobuf wire types, named as prost names them in its errors.
const VARINT = 0;
const LENGTH_DELIMITED = 2;
const WIRE_TYPE_NAMES = ['Varint', 'SixtyFourBit', 'LengthDelimited', 'StartGroup', 'EndGroup', 'ThirtyTwoBit'];

/** field number → [name, wire type] for every message of the schema. */
const SCHEMA: Record<string, Record<number, [string, number]>> = {
  RelayMessageFrame: {
    1: ['version', VARINT],
    2: ['stream_id', LENGTH_DELIMITED],
    3: ['ack', VARINT],
    4: ['ack_bits', VARINT],
    5: ['data', LENGTH_DELIMITED],
    6: ['ack_frame', LENGTH_DELIMITED],
    7: ['resume', LENGTH_DELIMITED],
    8: ['reset', LENGTH_DELIMITED],
    9: ['heartbeat', LENGTH_DELIMITED],
    10: ['handshake', LENGTH_DELIMITED],
    11: ['traceparent', LENGTH_DELIMITED],
    12: ['tracestate', LENGTH_DELIMITED],
  },
  RelayData: { 1: ['seq', VARINT], 2: ['segment_index', VARINT], 3: ['segment_count', VARINT], 4: ['payload', LENGTH_DELIMITED] },
  RelayAck: {},
  RelayResume: { 1: ['next_seq', VARINT] },
  RelayReset: { 1: ['reason', LENGTH_DELIMITED] },
  RelayHeartbeat: {},
  RelayHandshake: { 1: ['payload', LENGTH_DELIMITED] },
};

/**
 * protobufjs keeps fields it did not consume in `$unknowns` (raw bytes starting with the tag).
 * A known field number among them was sent with the wrong wire type: prost's decode error.
 */
function wireTypeError(messageName: string, message: object | null | undefined): string | null {
  const unknowns = (message as { $unknowns?: Uint8Array[] } | null | undefined)?.$unknowns;
  if (!unknowns) return null;
  for (const raw of unknowns) {
    const tag = protobuf.Reader.create(raw).uint32();
    const known = SCHEMA[messageName]![tag >>> 3];
    if (known) {
      const got = WIRE_TYPE_NAMES[tag & 7] ?? String(tag & 7);
      const expected = WIRE_TYPE_NAMES[known[1]]!;
      return `${messageName}.${known[0]}: invalid wire type: ${got} (expected ${expected})`;
    }
  }
  return null;
}

/** Rust's `str::trim` whitespace (Unicode White_Space), which differs from JS `trim` on U+0085 and U+FEFF. */
const RUST_BLANK = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

export function isBlank(value: string): boolean {
  return RUST_BLANK.test(value);
}

/**
 * Decodes and validates one frame with the executor's rules, in its order: decode error →
 * version → stream_id → body → body fields. Failure texts are the reference's log texts.
 */
export function decodeRelayFrame(bytes: Uint8Array): RelayDecodeResult {
  let decoded: codex.exec_server.relay.v1.RelayMessageFrame;
  try {
    const reader = protobuf.Reader.create(bytes);
    reader.discardUnknown = false;
    decoded = pb.RelayMessageFrame.decode(reader);
    const wrongType =
      wireTypeError('RelayMessageFrame', decoded) ??
      wireTypeError('RelayData', decoded.data) ??
      wireTypeError('RelayAck', decoded.ackFrame) ??
      wireTypeError('RelayResume', decoded.resume) ??
      wireTypeError('RelayReset', decoded.reset) ??
      wireTypeError('RelayHeartbeat', decoded.heartbeat) ??
      wireTypeError('RelayHandshake', decoded.handshake);
    if (wrongType) throw new Error(wrongType);
  } catch (error) {
    return { ok: false, error: `invalid relay message frame: failed to decode Protobuf message: ${(error as Error).message}` };
  }

  if (decoded.version !== RELAY_FRAME_VERSION) {
    return { ok: false, error: `unsupported relay message frame version ${decoded.version}` };
  }
  if (isBlank(decoded.streamId)) return { ok: false, error: 'relay message frame is missing stream_id' };

  let body: RelayBody;
  switch (decoded.body) {
    case 'data': {
      const data = decoded.data!;
      const payload = view(data.payload);
      if ((data.segmentIndex ?? 0) !== 0 || (data.segmentCount ?? 0) !== 1 || payload.length === 0) {
        return { ok: false, error: 'relay data message frame is missing required fields' };
      }
      body = { kind: 'data', seq: data.seq ?? 0, payload };
      break;
    }
    case 'ackFrame':
      body = { kind: 'ack' };
      break;
    case 'resume':
      body = { kind: 'resume', nextSeq: decoded.resume!.nextSeq ?? 0 };
      break;
    case 'reset': {
      const reason = decoded.reset!.reason ?? '';
      if (reason.length === 0) return { ok: false, error: 'relay reset message frame is missing reason' };
      body = { kind: 'reset', reason };
      break;
    }
    case 'heartbeat':
      body = { kind: 'heartbeat' };
      break;
    case 'handshake': {
      const payload = view(decoded.handshake!.payload);
      if (payload.length === 0) return { ok: false, error: 'relay handshake message frame is missing payload' };
      body = { kind: 'handshake', payload };
      break;
    }
    default:
      return { ok: false, error: 'relay message frame is missing body' };
  }

  const frame: RelayFrame = { streamId: decoded.streamId, body };
  if (decoded.ack) frame.ack = decoded.ack;
  if (decoded.ackBits) frame.ackBits = decoded.ackBits;
  if (typeof decoded.traceparent === 'string') frame.traceparent = decoded.traceparent;
  if (typeof decoded.tracestate === 'string') frame.tracestate = decoded.tracestate;
  return { ok: true, frame };
}

/** A plain Uint8Array view (protobufjs hands out Buffers for Buffer input, Uint8Arrays otherwise). */
function view(bytes: Uint8Array | null | undefined): Uint8Array {
  if (!bytes) return new Uint8Array(0);
  return Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}

/** Reads just the stream id of a frame (for a router), or null when the frame is undecodable. */
export function peekStreamId(bytes: Uint8Array): string | null {
  try {
    return pb.RelayMessageFrame.decode(bytes).streamId;
  } catch {
    return null;
  }
}
