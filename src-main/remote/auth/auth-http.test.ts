import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authHttp, statusLine } from './auth-http.ts';
import { startRecordingServer } from './testing/registry-probe.ts';

test('headers in the given order, then host and content-length, no connection header', async () => {
  const server = await startRecordingServer();
  server.answer = () => ({ status: 418, body: { ok: 1 } });
  try {
    const response = await authHttp(new URL(`${server.url}/x`), {
      method: 'POST',
      headers: [['content-type', 'application/json'], ['originator', 'o'], ['accept', '*/*']],
      body: '{"a":1}',
      timeoutMs: 5_000,
    });
    assert.deepEqual(server.seen[0]!.headers, [
      ['content-type', 'application/json'],
      ['originator', 'o'],
      ['accept', '*/*'],
      ['host', `127.0.0.1:${server.port}`],
      ['content-length', '7'],
    ]);
    assert.deepEqual(response, { status: 418, statusLine: "418 I'm a Teapot", body: '{"ok":1}' });
    assert.equal(statusLine(503), '503 Service Unavailable');
  } finally {
    await server.close();
  }
});
