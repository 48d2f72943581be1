/**
 * Tests for base64.ts.
 *
 * Expected values in CASES come from the reference binary: each input was sent as
 * `process/write` `chunk` (error `-32602 <text>`) and as `fs/writeFile` `dataBase64` (error
 * `-32600 fs/writeFile requires valid base64 dataBase64: <text>`, same text in every case); for
 * accepted inputs, `OK:<hex>` is the content fs/writeFile wrote. The last test replays the table
 * against the binary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Base64Error, decodeBase64, decodeBase64Exact, encodeBase64 } from './base64.ts';
import { RpcClient } from '../../testkit/rpc-client.ts';
import { referenceAvailable, startServer } from '../../testkit/server-process.ts';

const A = (n: number) => 'A'.repeat(n);

const CASES: Array<[string, string]> = [
  ["", "OK:"],
  ["!", "Invalid symbol 33, offset 0."],
  ["a!", "Invalid symbol 33, offset 1."],
  ["QQ==", "OK:41"],
  ["QQ=", "Invalid padding"],
  ["QQ", "Invalid padding"],
  ["Q", "Invalid input length: 1"],
  ["QUI", "Invalid padding"],
  ["QUJD", "OK:414243"],
  ["QR==", "Invalid last symbol 82, offset 1."],
  ["QUJ=", "Invalid last symbol 74, offset 2."],
  ["Q===", "Invalid symbol 61, offset 1."],
  ["====", "Invalid symbol 61, offset 0."],
  ["=", "Invalid symbol 61, offset 0."],
  ["==", "Invalid symbol 61, offset 0."],
  ["===", "Invalid symbol 61, offset 0."],
  ["QQ==QQ==", "Invalid symbol 61, offset 2."],
  ["QQ=a", "Invalid symbol 61, offset 2."],
  ["QUJD=", "Invalid symbol 61, offset 4."],
  ["QUJDRA", "Invalid padding"],
  ["QUJDRA=", "Invalid padding"],
  ["QUJDRA==", "OK:41424344"],
  ["Q\n", "Invalid symbol 10, offset 1."],
  [" QQ==", "Invalid symbol 32, offset 0."],
  ["QQ== ", "Invalid symbol 32, offset 4."],
  ["QUJD\nRA==", "Invalid symbol 10, offset 4."],
  ["-_", "Invalid symbol 45, offset 0."],
  ["QUJD!", "Invalid symbol 33, offset 4."],
  ["QUJDRA===", "Invalid symbol 61, offset 6."],
  ["QUJDR===", "Invalid symbol 61, offset 5."],
  ["QUJDRQ", "Invalid padding"],
  ["A", "Invalid input length: 1"],
  ["AA", "Invalid padding"],
  ["AAA", "Invalid padding"],
  ["AAAA", "OK:000000"],
  ["AAAAA", "Invalid input length: 5"],
  ["AA=A", "Invalid symbol 61, offset 2."],
  ["A=AA", "Invalid symbol 61, offset 1."],
  ["AAA=A", "Invalid symbol 61, offset 3."],
  ["AAAAAAAAA", "Invalid input length: 9"],
  ["AAAAAAAA=", "Invalid symbol 61, offset 8."],
  ["AAAAAAAA==", "Invalid symbol 61, offset 8."],
  ["AAAAAAAAAA=", "Invalid padding"],
  ["AAAAAA=A", "Invalid symbol 61, offset 6."],
  ["QR", "Invalid padding"],
  ["QUI=", "OK:4142"],
  ["QUJDRB==", "Invalid last symbol 66, offset 5."],
  ["QUJDRA=A", "Invalid symbol 61, offset 6."],
  ["QUJDRA=!", "Invalid symbol 61, offset 6."],
  ["QUJD====", "Invalid symbol 61, offset 4."],
  ["QUJD=AAA", "Invalid symbol 61, offset 4."],
  ["AAAA!AAA", "Invalid symbol 33, offset 4."],
  [A(100) + "!", "Invalid symbol 33, offset 100."],
  [A(1001), "Invalid input length: 1001"],
  [A(1003) + "==", "Invalid symbol 61, offset 1003."],
  [A(1002) + "==", 'OK:' + '00'.repeat(751)],
  ["é", "Invalid symbol 195, offset 0."],
  ["AAAé", "Invalid symbol 169, offset 4."],
  ["AAAAé", "Invalid symbol 195, offset 4."],
  ["AAÿ=", "Invalid symbol 195, offset 2."],
  ["AB==", "Invalid last symbol 66, offset 1."],
  ["AC==", "Invalid last symbol 67, offset 1."],
  ["AAB=", "Invalid last symbol 66, offset 2."],
  ["AAC=", "Invalid last symbol 67, offset 2."],
  ["AAE=", "OK:0001"],
  ["+/==", "Invalid last symbol 47, offset 1."],
  ["//8=", "OK:ffff"],
  ["/w==", "OK:ff"],
  ["/x==", "Invalid last symbol 120, offset 1."],
  ["QQ==\r\n", "Invalid symbol 61, offset 2."],
  [A(34) + "!" + A(45), "Invalid symbol 33, offset 34."],
  ["A=", "Invalid symbol 61, offset 1."],
  ["A==", "Invalid symbol 61, offset 1."],
  ["AA==A", "Invalid symbol 61, offset 2."],
  ["AA==AA", "Invalid symbol 61, offset 2."],
  ["AA==AAA", "Invalid symbol 61, offset 2."],
  ["AA==AAAA", "Invalid symbol 61, offset 2."],
  ["AAA=AAAA", "Invalid symbol 61, offset 3."],
  ["AA=", "Invalid padding"],
  ["A======", "Invalid symbol 61, offset 1."],
  ["AAAAA=", "Invalid symbol 61, offset 5."],
  ["AAAAA==", "Invalid symbol 61, offset 5."],
  ["AAAAAA=", "Invalid padding"],
  ["AAAAAAA=AAAA", "Invalid symbol 61, offset 7."],
  [A(40) + "=" + A(23), "Invalid symbol 61, offset 40."],
  [A(64) + "!", "Invalid symbol 33, offset 64."],
  [A(65) + "=", "Invalid symbol 61, offset 65."],
  ["aGVsbG8gd29ybGQK", "OK:68656c6c6f20776f726c640a"],
  ["aGVsbG8gd29ybGQ", "Invalid padding"],
  ["aGVsbG8gd29ybGQ=", "OK:68656c6c6f20776f726c64"],
  ["aGVsbG8gd29ybA", "Invalid padding"],
  ["aGVsbG8gd29ybA==", "OK:68656c6c6f20776f726c"],
  ["😀", "Invalid symbol 240, offset 0."],
  ["AAA😀", "Invalid symbol 240, offset 3."],
  ["\u0000AAA", "Invalid symbol 0, offset 0."],
  ["AAA\u0000", "Invalid symbol 0, offset 3."],
  ["QUJD RA==", "Invalid symbol 32, offset 4."],
  ["****", "Invalid symbol 42, offset 0."],
];

function outcome(decode: (s: string) => Buffer, input: string): string {
  try {
    return `OK:${decode(input).toString('hex')}`;
  } catch (e) {
    assert.ok(e instanceof Base64Error, String(e));
    return e.message;
  }
}

test('decodeBase64 matches the reference on every table case', () => {
  for (const [input, expected] of CASES) {
    assert.equal(outcome(decodeBase64, input), expected, JSON.stringify(input));
    assert.equal(outcome(decodeBase64Exact, input), expected, `exact: ${JSON.stringify(input)}`);
  }
});

test('fast path and exact decoder agree on random inputs', () => {
  const alphabet = 'AQgw/+=!é \n';
  for (let n = 0; n < 5000; n++) {
    const len = n % 13;
    let s = '';
    for (let k = 0; k < len; k++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
    assert.equal(outcome(decodeBase64, s), outcome(decodeBase64Exact, s), JSON.stringify(s));
  }
  for (let n = 0; n < 200; n++) {
    const bytes = randomBytes(n);
    const text = encodeBase64(bytes);
    assert.deepEqual(decodeBase64(text), bytes);
    assert.deepEqual(decodeBase64Exact(text), bytes);
  }
});

test('encodeBase64 is standard padded base64 for Buffer and Uint8Array views', () => {
  assert.equal(encodeBase64(Buffer.from('hello')), 'aGVsbG8=');
  const u8 = new Uint8Array([0, 0xff, 0xfe, 0x41]).subarray(1, 3);
  assert.equal(encodeBase64(u8), '//4=');
  assert.equal(encodeBase64(new Uint8Array()), '');
});

test('multi-MiB input decodes quickly and errors deep inside are located', () => {
  const data = randomBytes(8 * 1024 * 1024);
  const text = encodeBase64(data);
  const t0 = performance.now();
  const decoded = decodeBase64(text);
  const elapsed = performance.now() - t0;
  assert.ok(decoded.equals(data));
  assert.ok(elapsed < 500, `took ${elapsed} ms`);
  const broken = text.slice(0, 5_000_001) + '!' + text.slice(5_000_002);
  assert.throws(() => decodeBase64(broken), { name: 'Base64Error', message: 'Invalid symbol 33, offset 5000001.' });
});

test('table still matches the reference binary', { skip: !referenceAvailable() && 'reference binary not installed' }, async () => {
  const server = await startServer('reference');
  try {
    const client = await RpcClient.connect(server.url);
    await client.handshake();
    for (const [input, expected] of CASES) {
      const reply = await client.request('process/write', { processId: 'no-such-process', chunk: input, writeId: 'w' });
      const got = reply.error ? reply.error.message : 'OK';
      assert.equal(got, expected.startsWith('OK:') ? 'OK' : expected, JSON.stringify(input));
      if (reply.error) assert.equal(reply.error.code, -32602);
    }
    client.close();
  } finally {
    await server.stop();
  }
});
