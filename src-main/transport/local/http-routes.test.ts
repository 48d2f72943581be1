import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routeHttpRequest } from './http-routes.ts';

const upgrade = {
  connection: 'Upgrade',
  upgrade: 'websocket',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
};

// Answers observed on codex exec-server 0.169.0 with curl.
test('Origin is refused before routing', () => {
  assert.deepEqual(routeHttpRequest('GET', '/readyz', { origin: 'http://127.0.0.1' }), { kind: 'answer', status: 403, body: '' });
  assert.deepEqual(routeHttpRequest('GET', '/', { ...upgrade, origin: 'x' }), { kind: 'answer', status: 403, body: '' });
  assert.deepEqual(routeHttpRequest('GET', '/nope', { origin: 'x' }), { kind: 'answer', status: 403, body: '' });
});

test('/readyz answers GET and HEAD, 405 otherwise, and ignores the query', () => {
  assert.equal((routeHttpRequest('GET', '/readyz?x=1', {}) as { status: number }).status, 200);
  assert.equal((routeHttpRequest('HEAD', '/readyz', {}) as { status: number }).status, 200);
  assert.equal((routeHttpRequest('POST', '/readyz', {}) as { status: number }).status, 405);
  assert.equal((routeHttpRequest('GET', '/readyz', upgrade) as { status: number }).status, 200);
});

test('other paths are 404', () => {
  for (const path of ['/healthz', '/readyz/', '//readyz', '/foo']) {
    assert.deepEqual(routeHttpRequest('GET', path, upgrade), { kind: 'answer', status: 404, body: '' }, path);
  }
});

test('upgrade checks come in axum order with its texts', () => {
  assert.deepEqual(routeHttpRequest('POST', '/', upgrade), { kind: 'answer', status: 405, body: 'Request method must be `GET`' });
  assert.deepEqual(routeHttpRequest('GET', '/', {}), { kind: 'answer', status: 400, body: "Connection header did not include 'upgrade'" });
  assert.deepEqual(routeHttpRequest('GET', '/', { connection: 'upgrade' }), {
    kind: 'answer',
    status: 400,
    body: "`Upgrade` header did not include 'websocket'",
  });
  assert.deepEqual(routeHttpRequest('GET', '/', { connection: 'upgrade', upgrade: 'websocket' }), {
    kind: 'answer',
    status: 400,
    body: '`Sec-WebSocket-Key` header missing',
  });
  assert.deepEqual(
    routeHttpRequest('GET', '/', { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k', 'sec-websocket-version': '12' }),
    { kind: 'answer', status: 400, body: "`Sec-WebSocket-Version` header did not include '13'" },
  );
  assert.deepEqual(routeHttpRequest('GET', '/?token=x', { ...upgrade, connection: 'keep-alive, Upgrade' }), { kind: 'upgrade' });
});
