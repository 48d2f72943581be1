import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeCryptoBackend } from './crypto-backend.ts';
import { CipherState } from './symmetric-state.ts';
import {
  MAX_RECORD_PLAINTEXT_BYTES,
  NoiseTransport,
  REORDER_WINDOW,
  TransportError,
  type SealedRecord,
} from './transport.ts';

const crypto = nodeCryptoBackend;
const EMPTY = new Uint8Array(0);
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const utf8 = (s: string) => new TextEncoder().encode(s);

/** Two transports sharing keys: a → b and b → a. */
function pair() {
  const k1 = crypto.randomBytes(32);
  const k2 = crypto.randomBytes(32);
  const a = new NoiseTransport(new CipherState(crypto, k1), new CipherState(crypto, k2));
  const b = new NoiseTransport(new CipherState(crypto, k2), new CipherState(crypto, k1));
  return { a, b, k1 };
}

function framed(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + message.length);
  new DataView(out.buffer).setUint32(0, message.length);
  out.set(message, 4);
  return out;
}

test('a message is a 4-byte big-endian length plus its bytes, in one record when small', () => {
  const { a, k1 } = pair();
  const [record, ...rest] = a.sealMessage(utf8('{"id":1}'));
  assert.equal(rest.length, 0);
  assert.equal(record!.seq, 0);
  const nonce = new Uint8Array(12);
  const plaintext = crypto.aesGcmOpen(k1, nonce, EMPTY, record!.ciphertext)!;
  assert.equal(Buffer.from(plaintext).toString('hex'), '00000008' + Buffer.from('{"id":1}').toString('hex'));
  assert.equal(a.sealMessage(utf8('x'))[0]!.seq, 1);
});

test('large messages fill records to exactly 61440 bytes of plaintext, the last one shorter', () => {
  const { a, b } = pair();
  const message = crypto.randomBytes(300_000);
  const records = a.sealMessage(message);
  const plainSizes = records.map((r) => r.ciphertext.length - 16);
  assert.deepEqual(plainSizes.slice(0, -1), Array(plainSizes.length - 1).fill(MAX_RECORD_PLAINTEXT_BYTES));
  assert.equal(plainSizes.reduce((x, y) => x + y), 300_004);
  assert.deepEqual(records.map((r) => r.seq), [0, 1, 2, 3, 4]);
  const out: Uint8Array[] = [];
  for (const r of records) out.push(...b.receiveRecord(r.seq, r.ciphertext));
  assert.equal(out.length, 1);
  assert.deepEqual(out[0], message);
});

test('the length prefix counts against the first record: 61436 bytes fit in one record, 61437 need two', () => {
  for (const [size, plainSizes] of [
    [MAX_RECORD_PLAINTEXT_BYTES - 4, [MAX_RECORD_PLAINTEXT_BYTES]],
    [MAX_RECORD_PLAINTEXT_BYTES - 3, [MAX_RECORD_PLAINTEXT_BYTES, 1]],
  ] as const) {
    const { a, b } = pair();
    const message = crypto.randomBytes(size);
    const records = a.sealMessage(message);
    assert.deepEqual(records.map((r) => r.length - 16), plainSizes);
    const out = records.flatMap((r) => b.receiveRecord(r.seq, r.ciphertext));
    assert.deepEqual(out, [message]);
  }
});

test('the receiver accepts any split: several messages per record and one message across 20-byte records', () => {
  const { a, b } = pair();
  const stream = new Uint8Array(Buffer.concat([framed(utf8('{"a":1}')), framed(utf8('{"b":2}')), framed(utf8('{"c":"' + 'x'.repeat(100) + '"}'))]));
  const received: string[] = [];
  for (let offset = 0; offset < stream.length; offset += 20) {
    const r = a.sealRecord(stream.subarray(offset, offset + 20));
    received.push(...b.receiveRecord(r.seq, r.ciphertext).map(text));
  }
  assert.deepEqual(received, ['{"a":1}', '{"b":2}', '{"c":"' + 'x'.repeat(100) + '"}']);
  // all three in one record
  const one = a.sealRecord(stream);
  assert.equal(b.receiveRecord(one.seq, one.ciphertext).length, 3);
});

test('an empty record is accepted and just consumes a nonce', () => {
  const { a, b } = pair();
  const empty = a.sealRecord(EMPTY);
  assert.equal(empty.ciphertext.length, 16);
  assert.deepEqual(b.receiveRecord(empty.seq, empty.ciphertext), []);
  const [next] = a.sealMessage(utf8('{}'));
  assert.equal(next!.seq, 1);
  assert.deepEqual(b.receiveRecord(next!.seq, next!.ciphertext).map(text), ['{}']);
});

test('records are released in seq order; reversed order and duplicates are fine', () => {
  const { a, b } = pair();
  const records: SealedRecord[] = [];
  for (let i = 0; i < 10; i++) records.push(...a.sealMessage(utf8(`{"n":${i}}`)));
  const got: string[] = [];
  for (const r of [...records].reverse()) got.push(...b.receiveRecord(r.seq, r.ciphertext).map(text));
  assert.deepEqual(got, records.map((_, i) => `{"n":${i}}`));
  // everything again: duplicates are dropped silently
  for (const r of records) assert.deepEqual(b.receiveRecord(r.seq, r.ciphertext), []);
});

test('a gap of exactly 64 is buffered; 65 ahead resets', () => {
  const { a, b } = pair();
  const records = Array.from({ length: REORDER_WINDOW + 2 }, () => a.sealRecord(EMPTY));
  assert.deepEqual(b.receiveRecord(64, records[64]!.ciphertext), []);
  assert.throws(() => b.receiveRecord(65, records[65]!.ciphertext), (e: Error) => e instanceof TransportError && e.message === 'Noise relay ciphertext exceeds reorder window');
});

test('more than 1 MiB of buffered ciphertext resets', () => {
  const { a, b } = pair();
  const big = Array.from({ length: 20 }, () => a.sealRecord(crypto.randomBytes(MAX_RECORD_PLAINTEXT_BYTES)));
  // seq 0 held back: 17 × 61456 = 1,044,752 bytes ≤ 1 MiB, the 18th exceeds it
  for (let i = 1; i <= 17; i++) b.receiveRecord(i, big[i]!.ciphertext);
  assert.throws(() => b.receiveRecord(18, big[18]!.ciphertext), /pending ciphertext buffer is full/);
});

test('bad records reset: forged ciphertext, too large, too short, oversized plaintext', () => {
  const { a, b } = pair();
  const r = a.sealMessage(utf8('{}'))[0]!;
  const forged = new Uint8Array(r.ciphertext);
  forged[0]! ^= 1;
  assert.throws(() => b.receiveRecord(0, forged), /decryption failed/);
  assert.throws(() => pair().b.receiveRecord(0, new Uint8Array(65536)), /transport ciphertext is too large/);
  assert.throws(() => pair().b.receiveRecord(0, new Uint8Array(15)), /transport ciphertext is too short/);
  // a peer that encrypts more than 60 KiB in one record
  const { k1, b: receiver } = pair();
  const oversized = crypto.aesGcmSeal(k1, new Uint8Array(12), EMPTY, new Uint8Array(MAX_RECORD_PLAINTEXT_BYTES + 1));
  assert.throws(() => receiver.receiveRecord(0, oversized), /plaintext record exceeds maximum length/);
  assert.throws(() => a.sealRecord(new Uint8Array(MAX_RECORD_PLAINTEXT_BYTES + 1)), TransportError);
});

test('length prefixes of 0 or more than 64 MiB reset; 64 MiB itself is accepted', () => {
  const zero = pair();
  const r0 = zero.a.sealRecord(new Uint8Array(4));
  assert.throws(() => zero.b.receiveRecord(r0.seq, r0.ciphertext), /JSON-RPC message has invalid length/);
  const huge = pair();
  const prefix = new Uint8Array(4);
  new DataView(prefix.buffer).setUint32(0, 64 * 1024 * 1024 + 1);
  const r1 = huge.a.sealRecord(prefix);
  assert.throws(() => huge.b.receiveRecord(r1.seq, r1.ciphertext), /invalid length/);
  const max = pair();
  new DataView(prefix.buffer).setUint32(0, 64 * 1024 * 1024);
  const r2 = max.a.sealRecord(prefix);
  assert.deepEqual(max.b.receiveRecord(r2.seq, r2.ciphertext), []);
  assert.throws(() => max.a.sealMessage(EMPTY), /invalid length/);
});
