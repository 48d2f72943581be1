import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeRelayFrame,
  encodeDataFrame,
  encodeExecutorReset,
  encodeRelayFrame,
  isBlank,
  peekStreamId,
  type RelayFrame,
} from './frame-codec.ts';

// A hand-rolled protobuf writer, independent of protobufjs, to build expected bytes and
// malformed frames.
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}
const tag = (field: number, wire: number) => varint((field << 3) | wire);
const vfield = (field: number, value: number) => [...tag(field, 0), ...varint(value)];
const lfield = (field: number, bytes: number[] | Uint8Array | string) => {
  const b = typeof bytes === 'string' ? [...Buffer.from(bytes, 'utf8')] : [...bytes];
  return [...tag(field, 2), ...varint(b.length), ...b];
};
const bytes = (...parts: number[][]) => Uint8Array.from(parts.flat());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function decodeOk(b: Uint8Array): RelayFrame {
  const result = decodeRelayFrame(b);
  if (!result.ok) assert.fail(result.error);
  return result.frame;
}
function decodeErr(b: Uint8Array): string {
  const result = decodeRelayFrame(b);
  assert.equal(result.ok, false, 'expected the frame to be rejected');
  return (result as { error: string }).error;
}

test('the executor reset for s-1 is byte-identical to the capture in the spec', () => {
  assert.equal(hex(encodeExecutorReset('s-1')), '08011203732d3142' + '1c0a1a' + Buffer.from('noise_relay_protocol_error').toString('hex'));
});

test('the harness resume is 08 01 12 24 <uuid> 3a 00', () => {
  const sid = '6f10db64-8ad7-4c57-981c-367033a13649';
  const encoded = encodeRelayFrame({ streamId: sid, body: { kind: 'resume', nextSeq: 0 } });
  assert.equal(hex(encoded), '08011224' + Buffer.from(sid).toString('hex') + '3a00');
  assert.deepEqual(decodeOk(encoded), { streamId: sid, body: { kind: 'resume', nextSeq: 0 } });
});

test('data frames omit seq 0 and segment_index, and always carry segment_count 1', () => {
  const payload = Uint8Array.from([1, 2, 3]);
  const first = encodeRelayFrame({ streamId: 'a', body: { kind: 'data', seq: 0, payload } });
  assert.equal(hex(first), hex(bytes(vfield(1, 1), lfield(2, 'a'), lfield(5, [...vfield(3, 1), ...lfield(4, payload)]))));
  const later = encodeRelayFrame({ streamId: 'a', body: { kind: 'data', seq: 300, payload } });
  assert.equal(hex(later), hex(bytes(vfield(1, 1), lfield(2, 'a'), lfield(5, [...vfield(1, 300), ...vfield(3, 1), ...lfield(4, payload)]))));
  assert.deepEqual(decodeOk(later), { streamId: 'a', body: { kind: 'data', seq: 300, payload } });
  assert.deepEqual(decodeOk(Buffer.from(later)).body, { kind: 'data', seq: 300, payload });
});

test('encodeDataFrame writes exactly what the protobufjs encoder writes, from payload pieces', () => {
  const sizes = [0, 1, 16, 127, 128, 16_383, 16_384, 61_456];
  const seqs = [0, 1, 127, 128, 300, 2 ** 21, 0xffff_ffff];
  const streamIds = ['', 'a', 's-1', 'ström-ü', 'x'.repeat(200)];
  let checked = 0;
  for (const size of sizes) {
    const payload = Uint8Array.from({ length: size }, (_, i) => (i * 31 + size) & 0xff);
    // Cut into uneven pieces, as the cipher hands them out (body, final, tag).
    const cut = [payload.subarray(0, size >> 1), payload.subarray(size >> 1, size - (size > 16 ? 16 : 0)), payload.subarray(size - (size > 16 ? 16 : 0))];
    for (const seq of seqs) {
      for (const streamId of streamIds) {
        const expected = encodeRelayFrame({ streamId, body: { kind: 'data', seq, payload } });
        assert.equal(hex(encodeDataFrame(streamId, seq, cut)), hex(expected), `size ${size} seq ${seq} stream ${streamId}`);
        checked++;
      }
    }
  }
  assert.equal(checked, sizes.length * seqs.length * streamIds.length);
  const frame = encodeDataFrame('s', 7, [Uint8Array.from([9]), Uint8Array.from([8, 7])]);
  assert.deepEqual(decodeOk(frame), { streamId: 's', body: { kind: 'data', seq: 7, payload: Uint8Array.from([9, 8, 7]) } });
});

test('handshake, ack, heartbeat and trace fields round-trip', () => {
  const hs = encodeRelayFrame({ streamId: 'x', body: { kind: 'handshake', payload: Uint8Array.from([9]) } });
  assert.equal(hex(hs), hex(bytes(vfield(1, 1), lfield(2, 'x'), lfield(10, lfield(1, [9])))));
  assert.deepEqual(decodeOk(encodeRelayFrame({ streamId: 'x', body: { kind: 'ack' }, ack: 4, ackBits: 5 })), {
    streamId: 'x',
    body: { kind: 'ack' },
    ack: 4,
    ackBits: 5,
  });
  assert.deepEqual(decodeOk(encodeRelayFrame({ streamId: 'x', body: { kind: 'heartbeat' } })).body, { kind: 'heartbeat' });
  // explicit presence: an empty traceparent is still present
  const traced = decodeOk(encodeRelayFrame({ streamId: 'x', body: { kind: 'heartbeat' }, traceparent: '', tracestate: 'k=v' }));
  assert.equal(traced.traceparent, '');
  assert.equal(traced.tracestate, 'k=v');
  assert.equal('traceparent' in decodeOk(encodeRelayFrame({ streamId: 'x', body: { kind: 'heartbeat' } })), false);
});

test('unknown field numbers are skipped at every level', () => {
  const frame = bytes(
    vfield(1, 1),
    lfield(99, 'whatever'),
    lfield(2, 'sid'),
    vfield(13, 7),
    lfield(10, [...lfield(1, [1, 2]), ...vfield(7, 1)]),
  );
  assert.deepEqual(decodeOk(frame), { streamId: 'sid', body: { kind: 'handshake', payload: Uint8Array.from([1, 2]) } });
});

test('a known field with the wrong wire type makes the frame undecodable', () => {
  const cases: Array<[Uint8Array, string]> = [
    [bytes(lfield(1, [1]), lfield(2, 's'), lfield(9, [])), 'RelayMessageFrame.version'],
    [bytes(vfield(1, 1), vfield(2, 5), lfield(9, [])), 'RelayMessageFrame.stream_id'],
    [bytes(vfield(1, 1), lfield(2, 's'), lfield(4, [1]), lfield(9, [])), 'RelayMessageFrame.ack_bits'],
    [bytes(vfield(1, 1), lfield(2, 's'), vfield(5, 1)), 'RelayMessageFrame.data'],
    [bytes(vfield(1, 1), lfield(2, 's'), lfield(9, []), vfield(11, 1)), 'RelayMessageFrame.traceparent'],
    [bytes(vfield(1, 1), lfield(2, 's'), lfield(5, [...lfield(1, [1]), ...vfield(3, 1), ...lfield(4, [1])])), 'RelayData.seq'],
    [bytes(vfield(1, 1), lfield(2, 's'), lfield(5, [...vfield(3, 1), ...vfield(4, 1)])), 'RelayData.payload'],
    [bytes(vfield(1, 1), lfield(2, 's'), lfield(7, lfield(1, [0]))), 'RelayResume.next_seq'],
    [bytes(vfield(1, 1), lfield(2, 's'), lfield(8, vfield(1, 3))), 'RelayReset.reason'],
    [bytes(vfield(1, 1), lfield(2, 's'), lfield(10, vfield(1, 3))), 'RelayHandshake.payload'],
  ];
  for (const [frame, field] of cases) {
    const error = decodeErr(frame);
    assert.match(error, /^invalid relay message frame: failed to decode Protobuf message: /);
    assert.ok(error.includes(`${field}: invalid wire type`), error);
  }
});

test('truncated frames, bad UTF-8 and invalid wire types are decode errors', () => {
  for (const frame of [
    bytes(vfield(1, 1), [0x12, 0x05, 0x61]),
    bytes(vfield(1, 1), lfield(2, [0xff, 0xfe]), lfield(9, [])),
    bytes(vfield(1, 1), [0x16]), // field 2, wire type 6
    Uint8Array.from([0x80]),
  ]) {
    assert.match(decodeErr(frame), /^invalid relay message frame: failed to decode Protobuf message: /);
  }
});

test('validation failures carry the reference log texts, in its order', () => {
  const data = (inner: number[]) => bytes(vfield(1, 1), lfield(2, 's'), lfield(5, inner));
  assert.equal(decodeErr(bytes(lfield(2, 's'), lfield(9, []))), 'unsupported relay message frame version 0');
  assert.equal(decodeErr(bytes(vfield(1, 2), lfield(9, []))), 'unsupported relay message frame version 2');
  assert.equal(decodeErr(bytes(vfield(1, 1), lfield(9, []))), 'relay message frame is missing stream_id');
  assert.equal(decodeErr(bytes(vfield(1, 1), lfield(2, ' \t\u0085'), lfield(9, []))), 'relay message frame is missing stream_id');
  assert.equal(decodeErr(bytes(vfield(1, 1), lfield(2, 's'))), 'relay message frame is missing body');
  assert.equal(decodeErr(data([...vfield(3, 1)])), 'relay data message frame is missing required fields');
  assert.equal(decodeErr(data([...lfield(4, [1])])), 'relay data message frame is missing required fields');
  assert.equal(decodeErr(data([...vfield(2, 1), ...vfield(3, 1), ...lfield(4, [1])])), 'relay data message frame is missing required fields');
  assert.equal(decodeErr(data([...vfield(3, 2), ...lfield(4, [1])])), 'relay data message frame is missing required fields');
  assert.equal(decodeErr(bytes(vfield(1, 1), lfield(2, 's'), lfield(8, []))), 'relay reset message frame is missing reason');
  assert.equal(decodeErr(bytes(vfield(1, 1), lfield(2, 's'), lfield(10, []))), 'relay handshake message frame is missing payload');
  // an empty resume / ack / heartbeat body is a body
  assert.deepEqual(decodeOk(bytes(vfield(1, 1), lfield(2, 's'), lfield(6, []))).body, { kind: 'ack' });
});

test('the last oneof member on the wire wins', () => {
  const frame = bytes(vfield(1, 1), lfield(2, 's'), lfield(10, lfield(1, [1])), lfield(8, lfield(1, 'bye')));
  assert.deepEqual(decodeOk(frame).body, { kind: 'reset', reason: 'bye' });
});

test('blank is Rust trim, not JS trim', () => {
  assert.equal(isBlank(''), true);
  assert.equal(isBlank(' \u3000\u0085'), true);
  assert.equal(isBlank('\ufeff'), false);
  assert.equal(isBlank(' a '), false);
});

test('peekStreamId reads a stream id without validating', () => {
  assert.equal(peekStreamId(bytes(vfield(1, 7), lfield(2, 'abc'))), 'abc');
  assert.equal(peekStreamId(Uint8Array.from([0x80])), null);
});
