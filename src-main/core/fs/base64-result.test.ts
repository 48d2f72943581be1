import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readBlockResult, readFileResult, writeBase64Json } from './base64-result.ts';
import { encodeResult, RawJson } from '../rpc/envelope.ts';

/** What the client receives for a result value (plain object or pre-serialized bytes). */
function wireText(result: unknown): string {
  assert.ok(result instanceof RawJson);
  return result.bytes.toString('latin1');
}

test('pre-serialized base64 JSON is byte-for-byte what JSON.stringify writes', async () => {
  for (const n of [0, 1, 2, 3, 4, 1024 * 1024, 3 * 1024 * 1024, 3 * 1024 * 1024 + 1, 7 * 1024 * 1024 + 2]) {
    const data = randomBytes(n + 5);
    const out = await writeBase64Json('{"chunk":"', data, n, '","eof":true}');
    assert.equal(out.toString('latin1'), JSON.stringify({ chunk: data.toString('base64', 0, n), eof: true }), `n=${n}`);
  }
});

test('result builders give the reference shapes', async () => {
  const data = randomBytes(1000);
  assert.equal(wireText(await readFileResult(data)), JSON.stringify({ dataBase64: data.toString('base64') }));
  assert.equal(wireText(await readBlockResult(data, 10, false)), JSON.stringify({ chunk: data.toString('base64', 0, 10), eof: false }));
  assert.equal(wireText(await readBlockResult(data, 0, true)), '{"chunk":"","eof":true}');
  const framed = encodeResult(7, await readBlockResult(data, 3, false));
  assert.equal(framed.toString(), `{"id":7,"result":${JSON.stringify({ chunk: data.toString('base64', 0, 3), eof: false })}}`);
});
