import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEnvelope, encodeError, encodeNotification, encodeResult, RawJson } from './envelope.ts';

// Expected reasons were observed on codex exec-server 0.169.0 by sending each shape raw.
const malformed: Array<[unknown, string]> = [
  [5, 'expected a JSON-RPC object'],
  ['s', 'expected a JSON-RPC object'],
  [null, 'expected a JSON-RPC object'],
  [[1], 'expected a JSON-RPC object'],
  [{ method: 5 }, 'invalid type: number, expected a string'],
  [{ id: 1, method: 5 }, 'invalid type: number, expected a string'],
  [{ id: true, method: 'x' }, 'data did not match any variant of untagged enum RequestId'],
  [{ id: {}, method: 'x' }, 'data did not match any variant of untagged enum RequestId'],
  [{ id: null, method: 'x' }, 'data did not match any variant of untagged enum RequestId'],
  [{ id: 1.5, method: 'x' }, 'data did not match any variant of untagged enum RequestId'],
  [{ id: 1, method: 'x', trace: 5 }, 'invalid type: number, expected struct W3cTraceContext'],
  [{ id: 1, method: 'x', trace: { traceparent: 5 } }, 'invalid type: number, expected a string'],
  [{ id: 1, error: 5 }, 'invalid type: number, expected struct JSONRPCErrorError'],
  [{ id: 1, error: { code: 1 } }, 'missing field `message`'],
  [{ result: 1 }, 'missing field `id`'],
  [{ id: 1 }, 'missing field `error`'],
  [{ foo: 1 }, 'missing field `error`'],
];

for (const [value, reason] of malformed) {
  test(`malformed ${JSON.stringify(value)} → ${reason}`, () => {
    assert.deepEqual(decodeEnvelope(value), { kind: 'malformed', reason });
  });
}

test('the first bad member in input order wins', () => {
  assert.deepEqual(decodeEnvelope({ method: 5, id: true }), { kind: 'malformed', reason: 'invalid type: number, expected a string' });
  assert.deepEqual(decodeEnvelope({ id: true, method: 5 }), {
    kind: 'malformed',
    reason: 'data did not match any variant of untagged enum RequestId',
  });
});

test('classifies requests, notifications, responses and errors', () => {
  assert.deepEqual(decodeEnvelope({ id: 7, method: 'm', params: { a: 1 } }), { kind: 'request', id: 7, method: 'm', params: { a: 1 } });
  assert.deepEqual(decodeEnvelope({ id: 'x', method: 'm' }), { kind: 'request', id: 'x', method: 'm', params: null });
  // A request that also carries result is still a request (observed on the binary).
  assert.equal(decodeEnvelope({ method: 'environment/status', id: 3, result: {} }).kind, 'request');
  assert.deepEqual(decodeEnvelope({ method: 'initialized' }), { kind: 'notification', method: 'initialized', params: null });
  assert.deepEqual(decodeEnvelope({ id: 1, result: 2 }), { kind: 'response', id: 1, result: 2 });
  assert.deepEqual(decodeEnvelope({ id: 1, error: { code: -1, message: 'm' } }), {
    kind: 'error',
    id: 1,
    error: { code: -1, message: 'm' },
  });
  assert.deepEqual(decodeEnvelope({ jsonrpc: '1.0', id: 0, method: 'm', extra: [] }).kind, 'request');
});

test('i64 ids survive exactly, beyond-i64 ids are malformed', () => {
  const max = 2n ** 63n - 1n;
  assert.deepEqual(decodeEnvelope({ id: max, method: 'x' }), { kind: 'request', id: max, method: 'x', params: null });
  assert.equal(encodeResult(max, {}), '{"id":9223372036854775807,"result":{}}');
  assert.deepEqual(decodeEnvelope({ id: 2n ** 63n, method: 'x' }), {
    kind: 'malformed',
    reason: 'data did not match any variant of untagged enum RequestId',
  });
  assert.equal(decodeEnvelope({ id: -5, method: 'x' }).kind, 'request');
});

test('encoders emit the reference member order and no jsonrpc member', () => {
  assert.equal(encodeResult(1, { a: 1 }), '{"id":1,"result":{"a":1}}');
  assert.equal(encodeResult('s', {}), '{"id":"s","result":{}}');
  assert.equal(encodeError(-1, -32600, 'bad'), '{"error":{"code":-32600,"message":"bad"},"id":-1}');
  assert.equal(encodeError(2, -32603, 'x', { d: 1 }), '{"error":{"code":-32603,"message":"x","data":{"d":1}},"id":2}');
  assert.equal(encodeNotification('process/closed', { processId: 'p', seq: 2 }), '{"method":"process/closed","params":{"processId":"p","seq":2}}');
});

test('process/output is encoded as bytes, identical to the generic text', () => {
  for (const params of [
    { processId: 'p1', seq: 7, stream: 'stdout', chunk: Buffer.from('héllo\n').toString('base64') },
    { processId: 'quote"é\u2028\\', seq: 1, stream: 'pty', chunk: '' },
  ]) {
    const bytes = encodeNotification('process/output', params);
    assert.ok(Buffer.isBuffer(bytes));
    assert.equal(bytes.toString('utf8'), `{"method":"process/output","params":${JSON.stringify(params)}}`);
  }
});

test('a RawJson result is framed in place when it has room, and copied when it has not', () => {
  const json = '{"chunk":"AAEC","eof":false}';
  const roomy = Buffer.alloc(64 + json.length + 1);
  roomy.write(json, 64, 'latin1');
  const inPlace = encodeResult('req-1', new RawJson(roomy, 64, 64 + json.length)) as Buffer;
  assert.equal(inPlace.toString(), `{"id":"req-1","result":${json}}`);
  assert.equal(inPlace.buffer, roomy.buffer, 'no copy of the payload');
  const tight = Buffer.from(json);
  const longId = 'x'.repeat(100);
  assert.equal(encodeResult(longId, new RawJson(tight)).toString(), `{"id":"${longId}","result":${json}}`);
  assert.equal(tight.toString(), json, 'the producer buffer is untouched when copied');
});
