import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecServer } from '../exec-server.ts';
import { silentLogger } from '../log.ts';
import { MemoryPipe } from '../../testkit/memory-pipe.ts';
import type { ConnectionScope } from '../rpc/method-table.ts';
import { RpcError } from '../rpc/errors.ts';
import { createHttpMethods, type HttpMethodOptions } from './http-methods.ts';
import { ConnectionPool } from './transport.ts';
import { response, sleep, startTestServer, type Route, type TestServer } from './test-support.ts';

const text =
  (body: string, headers: Array<[string, string]> = []): Route =>
  (s) =>
    void s.write(response('200 OK', [...headers, ['content-length', String(Buffer.byteLength(body))]], body));

async function withServer(routes: Record<string, Route>, run: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer(routes, { lifetimeMs: 60_000 });
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

/** A connection scope that records notifications, as the ConnectionProcessor's does. */
class FakeConnection implements ConnectionScope {
  readonly peer = 'test';
  readonly state = new Map<symbol, unknown>();
  readonly notes: Array<{ method: string; params: any }> = [];
  private disposers: Array<() => void> = [];
  closed = false;
  /** What `congested()` answers: a test flips it to play a slow client. */
  slow = false;
  congested(): boolean {
    return this.slow;
  }
  onClose(dispose: () => void): void {
    if (this.closed) dispose();
    else this.disposers.push(dispose);
  }
  notify(method: string, params: unknown): void {
    if (!this.closed) this.notes.push({ method, params });
  }
  close(): void {
    this.closed = true;
    for (const d of this.disposers.splice(0)) d();
  }
  deltas(requestId: string) {
    return this.notes.filter((n) => n.params.requestId === requestId).map((n) => n.params);
  }
  async done(requestId: string, count = 1): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if (this.deltas(requestId).filter((d) => d.done).length >= count) return;
      await sleep(10);
    }
    throw new Error(`no final delta for ${requestId}`);
  }
}

function harness(options: HttpMethodOptions = {}) {
  const spec = createHttpMethods({ client: { pool: new ConnectionPool() }, ...options })[0]![1];
  return async (connection: FakeConnection, params: unknown, signal = new AbortController().signal): Promise<any> => {
    try {
      const decoded = spec.decode(params);
      return { result: await spec.handle(decoded, { session: null as never, connection, signal }) };
    } catch (err) {
      if (err instanceof RpcError) return { error: { code: err.code, message: err.message } };
      throw err;
    }
  };
}

test('params decode with serde texts (struct names, field order, defaults)', async () => {
  const call = harness();
  const c = new FakeConnection();
  const U = 'http://127.0.0.1:1/';
  const cases: Array<[unknown, string]> = [
    [null, 'invalid type: null, expected struct HttpRequestParams'],
    [{}, 'missing field `method`'],
    [[], 'invalid length 0, expected struct HttpRequestParams with 8 elements'],
    [{ method: 'GET', url: U }, 'missing field `requestId`'],
    [['GET', U, []], 'invalid length 6, expected struct HttpRequestParams with 8 elements'],
    [['GET', U, 'r1'], 'invalid type: string "r1", expected a sequence'],
    [{ method: 'GET', url: U, requestId: 'r', headers: [['a']] }, 'invalid length 1, expected struct HttpHeader with 3 elements'],
    [{ method: 'GET', url: U, requestId: 'r', headers: [null] }, 'invalid type: null, expected struct HttpHeader'],
    [{ method: 'GET', url: U, requestId: 'r', bodyBase64: 'not base64!' }, 'Invalid symbol 32, offset 3.'],
    [{ method: 'GET', url: U, requestId: 'r', timeoutMs: -1 }, 'invalid number'],
    [{ method: 'GET', url: U, requestId: 'r', redirectPolicy: 'Stop' }, 'unknown variant `Stop`, expected `follow` or `stop`'],
    [{ method: 'GET', url: U, requestId: 'r', redirectPolicy: null }, 'invalid type: null, expected string or map'],
    [{ method: 'GET', url: U, requestId: 'r', streamResponse: null }, 'invalid type: null, expected a boolean'],
  ];
  for (const [params, message] of cases) assert.deepEqual(await call(c, params), { error: { code: -32602, message } }, JSON.stringify(params));
  // Positional forms and unknown fields are accepted (timeoutMs 0 answers before any network use).
  const zero = { error: { code: -32603, message: 'http/request failed: route-aware request timed out' } };
  assert.deepEqual(await call(c, ['GET', U, [['a', 'b']], null, 0, { stop: null }, 'rid']), zero);
  assert.deepEqual(await call(c, { method: 'GET', url: U, requestId: 'r', timeoutMs: 0, extra: 1 }), zero);
});

test('validation texts and their order; environment values are used, never echoed', async () => {
  const call = harness({ env: () => ({ SECRET: 'sekrit-value', EMPTY: '', NEWLINE: 'a\nb' }) });
  const c = new FakeConnection();
  const at = (extra: Record<string, unknown>) => call(c, { method: 'GET', url: 'http://127.0.0.1:1/', requestId: 'r', timeoutMs: 0, ...extra });
  const e = (code: number, message: string) => ({ error: { code, message } });
  assert.deepEqual(await at({ method: 'BREW COFFEE', url: 'ftp://x' }), e(-32602, 'http/request method is invalid: invalid HTTP method'));
  assert.deepEqual(await at({ url: 'not a url' }), e(-32602, 'http/request url is invalid: relative URL without a base'));
  assert.deepEqual(await at({ url: 'ftp://x', headers: [{ name: 'bad name', value: 'v' }] }), e(-32602, 'http/request only supports http and https URLs, got ftp'));
  assert.deepEqual(await at({ headers: [{ name: 'bad name', value: 'v', valueEnvVar: 'NOPE' }] }), e(-32602, 'http/request header name is invalid: invalid HTTP header name'));
  assert.deepEqual(await at({ headers: [{ name: 'X-M', value: '\n', valueEnvVar: 'NOPE' }] }), e(-32602, 'http/request header X-M requires executor environment variable NOPE'));
  assert.deepEqual(await at({ headers: [{ name: 'X-E', value: 'v', valueEnvVar: 'EMPTY' }] }), e(-32602, 'http/request header X-E requires a non-empty executor environment variable EMPTY'));
  assert.deepEqual(await at({ headers: [{ name: 'X-E', value: 'v', valueEnvVar: '' }] }), e(-32602, 'http/request header X-E requires executor environment variable '));
  assert.deepEqual(await at({ headers: [{ name: 'X-E', value: 'v', valueEnvVar: 'A=B' }] }), e(-32602, 'http/request header X-E requires executor environment variable A=B'));
  for (const inherited of ['toString', '__proto__', 'constructor']) {
    assert.deepEqual(await at({ headers: [{ name: 'X-E', value: 'v', valueEnvVar: inherited }] }), e(-32602, `http/request header X-E requires executor environment variable ${inherited}`));
  }
  const bad = await at({ headers: [{ name: 'X-Bad', value: 'p-', valueEnvVar: 'NEWLINE' }] });
  assert.deepEqual(bad, e(-32602, 'http/request header value is invalid for X-Bad: failed to parse header value'));
  assert.deepEqual(await at({ headers: [{ name: 'ok', value: 'Bearer ', valueEnvVar: 'SECRET' }] }), e(-32603, 'http/request failed: route-aware request timed out'));
  await withServer({ '/echo': (s, r) => void s.write(response('200 OK', [['content-length', '0']])) }, async (server) => {
    const ok = await call(c, { method: 'GET', url: server.url('/echo'), requestId: 'r', headers: [{ name: 'Authorization', value: 'Bearer ', valueEnvVar: 'SECRET' }] });
    assert.equal(ok.result.status, 200);
    assert.match(server.requests[0]!.head, /\r\nauthorization: Bearer sekrit-value\r\n/);
    assert.doesNotMatch(JSON.stringify(ok), /sekrit/);
  });
});

test('buffered results: status, filtered headers in order, whole body; body errors and the buffered limit', async () => {
  await withServer(
    {
      '/hello': (s) =>
        void s.write(
          Buffer.concat([
            Buffer.from('HTTP/1.1 404 Not Found\r\nB: 1\r\nX-Bin: caf'),
            Buffer.from([0xe9]),
            Buffer.from('\r\nb: 2\r\nX-Ws:   padded   \r\ncontent-length: 5\r\n\r\nhello'),
          ]),
        ),
      '/truncated': async (s) => {
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly-some');
        await sleep(50);
        s.destroy();
      },
      '/big': text('x'.repeat(2048)),
    },
    async (server) => {
      const call = harness({ maxBufferedBytes: 1024 });
      const c = new FakeConnection();
      assert.deepEqual(await call(c, { method: 'GET', url: server.url('/hello'), requestId: 'r' }), {
        result: {
          status: 404,
          headers: [
            { name: 'b', value: '1' },
            { name: 'b', value: '2' },
            { name: 'x-ws', value: 'padded' },
            { name: 'content-length', value: '5' },
          ],
          bodyBase64: Buffer.from('hello').toString('base64'),
        },
      });
      assert.deepEqual(await call(c, { method: 'GET', url: server.url('/truncated'), requestId: 'r' }), {
        error: { code: -32603, message: 'failed to read http/request response body: error decoding response body' },
      });
      assert.deepEqual(await call(c, { method: 'GET', url: server.url('/big'), requestId: 'r' }), {
        error: { code: -32603, message: "failed to read http/request response body: response body is larger than 1024 bytes (exec-desk's buffered limit); use streamResponse" },
      });
      assert.deepEqual(c.notes, []);
    },
  );
});

test('streamed: empty bodyBase64, then deltas in order, then one final frame (or an error frame)', async () => {
  await withServer(
    {
      '/events': async (s) => {
        s.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n');
        for (let i = 0; i < 3; i++) {
          await sleep(60);
          const d = `data: event${i}\n\n`;
          s.write(`${d.length.toString(16)}\r\n${d}\r\n`);
        }
        s.write('0\r\n\r\n');
      },
      '/empty': text(''),
      '/truncated': async (s) => {
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly-some');
        await sleep(50);
        s.destroy();
      },
    },
    async (server) => {
      const call = harness();
      const c = new FakeConnection();
      const r = await call(c, { method: 'GET', url: server.url('/events'), requestId: 's1', streamResponse: true });
      assert.deepEqual(r.result, {
        status: 200,
        headers: [
          { name: 'content-type', value: 'text/event-stream' },
          { name: 'transfer-encoding', value: 'chunked' },
        ],
        bodyBase64: '',
      });
      assert.equal(c.notes.length, 0, 'no delta before the result is out');
      await c.done('s1');
      assert.deepEqual(
        c.deltas('s1'),
        [0, 1, 2]
          .map((i) => ({ requestId: 's1', seq: i + 1, deltaBase64: Buffer.from(`data: event${i}\n\n`).toString('base64'), done: false, error: null }))
          .concat([{ requestId: 's1', seq: 4, deltaBase64: '', done: true, error: null }]),
      );
      assert.deepEqual(Object.keys(c.notes[0]!.params), ['requestId', 'seq', 'deltaBase64', 'done', 'error']);
      assert.equal(c.notes[0]!.method, 'http/request/bodyDelta');
      await call(c, { method: 'GET', url: server.url('/empty'), requestId: 'e', streamResponse: true });
      await call(c, { method: 'HEAD', url: server.url('/empty'), requestId: 'h', streamResponse: true });
      await call(c, { method: 'GET', url: server.url('/truncated'), requestId: 't', streamResponse: true });
      await c.done('e');
      await c.done('h');
      await c.done('t');
      assert.deepEqual(c.deltas('e'), [{ requestId: 'e', seq: 1, deltaBase64: '', done: true, error: null }]);
      assert.deepEqual(c.deltas('h'), [{ requestId: 'h', seq: 1, deltaBase64: '', done: true, error: null }]);
      assert.deepEqual(c.deltas('t'), [
        { requestId: 't', seq: 1, deltaBase64: Buffer.from('only-some').toString('base64'), done: false, error: null },
        { requestId: 't', seq: 2, deltaBase64: '', done: true, error: 'error decoding response body' },
      ]);
    },
  );
});

test('requestId: unique among active streams of a connection, checked first, released when done or failed', async () => {
  await withServer(
    {
      '/slow': async (s) => {
        s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n');
        await sleep(300);
        if (!s.destroyed) s.write('3\r\ndef\r\n0\r\n\r\n');
      },
      '/slowhead': async (s) => {
        await sleep(200);
        if (!s.destroyed) s.write(response('200 OK', [['content-length', '2']], 'ok'));
      },
      '/hello': text('hello'),
    },
    async (server) => {
      const call = harness();
      const c = new FakeConnection();
      const active = { error: { code: -32602, message: 'http/request streamResponse requestId `dup` is already active' } };
      assert.equal((await call(c, { method: 'GET', url: server.url('/slow'), requestId: 'dup', streamResponse: true })).result.status, 200);
      assert.deepEqual(await call(c, { method: 'GET', url: server.url('/hello'), requestId: 'dup', streamResponse: true }), active);
      assert.deepEqual(await call(c, { method: 'BREW COFFEE', url: 'ftp://x', requestId: 'dup', streamResponse: true }), active);
      assert.equal((await call(c, { method: 'GET', url: server.url('/hello'), requestId: 'dup' })).result.status, 200); // buffered: fine
      const other = new FakeConnection();
      assert.equal((await call(other, { method: 'GET', url: server.url('/hello'), requestId: 'dup', streamResponse: true })).result.status, 200);
      await c.done('dup');
      assert.equal((await call(c, { method: 'GET', url: server.url('/hello'), requestId: 'dup', streamResponse: true })).result.status, 200);
      await c.done('dup', 2);
      // A failed streamed request does not keep its id.
      assert.equal((await call(c, { method: 'GET', url: 'http://127.0.0.1:1/', requestId: 'f', streamResponse: true })).error.code, -32603);
      assert.equal((await call(c, { method: 'GET', url: server.url('/hello'), requestId: 'f', streamResponse: true })).result.status, 200);
      // The id is taken from the start of the request, not from its response (concurrent requests).
      const first = call(c, { method: 'GET', url: server.url('/slowhead'), requestId: 'same', streamResponse: true });
      await sleep(20);
      assert.deepEqual(await call(c, { method: 'GET', url: server.url('/hello'), requestId: 'same', streamResponse: true }), {
        error: { code: -32602, message: 'http/request streamResponse requestId `same` is already active' },
      });
      assert.equal((await first).result.status, 200);
      await c.done('same');
      await other.done('dup');
    },
  );
});

test('a congested connection pauses the upstream body (no unbounded buffering) and resumes on drain', async () => {
  const total = 48 * 1024 * 1024;
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  let written = 0;
  await withServer(
    {
      '/big': async (s) => {
        s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${total}\r\n\r\n`);
        while (written < total && !s.destroyed) {
          written += chunk.length;
          if (!s.write(chunk)) await new Promise((resolve) => s.once('drain', resolve));
        }
      },
    },
    async (server) => {
      const call = harness();
      const c = new FakeConnection();
      c.slow = true;
      const received = () => c.deltas('big').reduce((n, d) => n + Buffer.from(d.deltaBase64, 'base64').length, 0);
      assert.equal((await call(c, { method: 'GET', url: server.url('/big'), requestId: 'big', streamResponse: true })).result.status, 200);
      // Wait until the server stalls: its writes stop advancing while the client is slow.
      let last = -1;
      for (let i = 0; i < 100 && written !== last; i++) {
        last = written;
        await sleep(100);
      }
      assert.ok(written < total / 2, `server kept writing while the connection was congested (${written} of ${total} bytes)`);
      assert.ok(received() <= written);
      c.slow = false;
      await c.done('big');
      const deltas = c.deltas('big');
      assert.equal(received(), total);
      assert.deepEqual(deltas.map((d) => d.seq), deltas.map((_, i) => i + 1));
      assert.equal(deltas.at(-1)!.done, true);
      assert.equal(deltas.at(-1)!.error, null);
    },
  );
});

test('a connection that ends takes its streams and pending requests with it', async () => {
  let dripClosed = 0;
  await withServer(
    {
      '/drip': async (s) => {
        s.on('close', () => dripClosed++);
        s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
        for (let i = 0; i < 200 && !s.destroyed; i++) {
          s.write('1\r\nx\r\n');
          await sleep(10);
        }
      },
      '/never': () => {},
    },
    async (server) => {
      const call = harness();
      const c = new FakeConnection();
      await call(c, { method: 'GET', url: server.url('/drip'), requestId: 'd', streamResponse: true });
      await sleep(80);
      const seen = c.notes.length;
      assert.ok(seen > 0);
      const closed = server.nextClose();
      c.close();
      await closed;
      await sleep(50);
      assert.equal(dripClosed, 1);
      assert.ok(c.notes.every((n) => !n.params.done));
      // A request still waiting for its head when the connection ends is abandoned the same way.
      const c2 = new FakeConnection();
      const controller = new AbortController();
      const pending = call(c2, { method: 'GET', url: server.url('/never'), requestId: 'n', streamResponse: true }, controller.signal);
      pending.catch(() => {});
      await sleep(50);
      const closed2 = server.nextClose();
      c2.close();
      controller.abort(new Error('connection closed'));
      await closed2;
      await assert.rejects(pending, /connection closed/);
      // So is a buffered body still downloading.
      const c3 = new FakeConnection();
      const controller3 = new AbortController();
      const buffered = call(c3, { method: 'GET', url: server.url('/drip'), requestId: 'b' }, controller3.signal);
      buffered.catch(() => {});
      await sleep(80);
      const closed3 = server.nextClose();
      c3.close();
      controller3.abort(new Error('connection closed'));
      await closed3;
      assert.equal(dripClosed, 2);
    },
  );
});

test('through the exec-server: result before deltas on the wire, and the body pump does not block the connection', async () => {
  await withServer(
    {
      '/slow': async (s) => {
        s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
        await sleep(150);
        s.write('5\r\nfirst\r\n');
        await sleep(150);
        s.write('6\r\nsecond\r\n0\r\n\r\n');
      },
    },
    async (server) => {
      const s = new ExecServer({ concurrency: 1, log: silentLogger, detachedTtlMs: 60_000, processRetentionMs: 60_000 });
      const pipe = new MemoryPipe();
      s.serve(pipe);
      await pipe.handshake();
      const reply = await pipe.request(2, 'http/request', { method: 'GET', url: server.url('/slow'), requestId: 'a', streamResponse: true });
      assert.equal(reply.result.bodyBase64, '');
      // Inline mode: this is answered while the body is still streaming.
      const status = await pipe.request(3, 'environment/status');
      assert.deepEqual(status.result, { status: 'ready' });
      await pipe.next((m) => m.method === 'http/request/bodyDelta' && m.params.done, 5000);
      const order = pipe.sent.filter((m) => m.id === 2 || m.id === 3 || m.method === 'http/request/bodyDelta').map((m) => (m.id !== undefined ? `reply ${m.id}` : `delta ${m.params.seq}${m.params.done ? ' done' : ''}`));
      assert.deepEqual(order, ['reply 2', 'reply 3', 'delta 1', 'delta 2', 'delta 3 done']);
      const before = await pipe.request(4, 'http/request', { method: 'GET', url: 'http://127.0.0.1:1/', requestId: 'x' });
      assert.equal(before.error.message, 'http/request failed: error sending request for url (http://127.0.0.1:1/)');
      await s.shutdown();
    },
  );
});
