import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BodyReadError, executeHttpRequest, HttpRequestError, type HttpRequestInput, type HttpResponse, type ClientOptions } from './client.ts';
import { ConnectionPool, type LookupFunction } from './transport.ts';
import { response, sleep, startTestServer, type Route, type TestServer } from './test-support.ts';
import { TEST_CA_PEM, TEST_LEAF_CERT_PEM, TEST_LEAF_KEY_PEM, UNTRUSTED_CERT_PEM, UNTRUSTED_KEY_PEM } from './test-certs.ts';

const MiB = 1024 * 1024;

/** A resolver that must not be used: every test host is an address or `localhost`. */
const noDns: LookupFunction = (hostname, options, callback) => {
  if (hostname === 'localhost') {
    if ((options as { all?: boolean }).all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
    return;
  }
  throw new Error(`unexpected lookup of ${hostname}`);
};

function options(extra: Partial<ClientOptions> = {}): ClientOptions {
  return { env: {}, pool: new ConnectionPool(), lookup: noDns, ...extra };
}

function input(url: string, extra: Partial<HttpRequestInput> = {}): HttpRequestInput {
  return { method: 'GET', url: new URL(url), headers: [], body: null, redirect: 'follow', timeoutMs: 10_000, ...extra };
}

const text =
  (body: string, headers: Array<[string, string]> = []): Route =>
  (s) =>
    void s.write(response('200 OK', [...headers, ['content-length', String(Buffer.byteLength(body))]], body));
const echo: Route = (s, r) => void s.write(response('200 OK', [['x-method', r.method], ['content-length', String(r.body.length)]], r.body));
const redirect =
  (status: string, location: string): Route =>
  (s) =>
    void s.write(response(status, [['location', location], ['content-length', '0']]));

async function body(res: HttpResponse): Promise<string> {
  return (await res.readAll(256 * MiB, () => new Error('too large'))).toString('latin1');
}

async function withServer(routes: Record<string, Route>, run: (server: TestServer) => Promise<void>, tlsCert?: { cert: string; key: string }): Promise<void> {
  const server = await startTestServer(routes, { tls: tlsCert, lifetimeMs: 60_000 });
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

test('request heads as the reference writes them', async () => {
  await withServer({ '/echo': echo, '/hello': text('hello') }, async (server) => {
    const opts = options();
    const send = async (extra: Partial<HttpRequestInput>, url = server.url('/echo')) => {
      const before = server.requests.length;
      await body(await executeHttpRequest(input(url, extra), opts));
      return server.requests.slice(before).map((r) => r.head);
    };
    const port = server.port;
    assert.deepEqual(await send({}), [`GET /echo HTTP/1.1\r\naccept: */*\r\nhost: 127.0.0.1:${port}`]);
    assert.deepEqual(
      await send({
        headers: [
          ['x-a', '1'],
          ['x-a', '2'],
          ['x-b', 'Bearer secret'],
          ['x-a', '3'],
          ['x-u', 'é'],
        ],
      }),
      [`GET /echo HTTP/1.1\r\nx-a: 1\r\nx-a: 2\r\nx-a: 3\r\nx-b: Bearer secret\r\nx-u: ${Buffer.from('é').toString('latin1')}\r\naccept: */*\r\nhost: 127.0.0.1:${port}`],
    );
    assert.deepEqual(await send({ headers: [['host', 'example.test'], ['accept', 'text/x'], ['user-agent', 'me']] }), [
      'GET /echo HTTP/1.1\r\nhost: example.test\r\naccept: text/x\r\nuser-agent: me',
    ]);
    assert.deepEqual(await send({ method: 'POST', body: Buffer.from('payload') }), [`POST /echo HTTP/1.1\r\naccept: */*\r\nhost: 127.0.0.1:${port}\r\ncontent-length: 7`]);
    assert.deepEqual(await send({ method: 'POST', body: Buffer.alloc(0) }), [`POST /echo HTTP/1.1\r\naccept: */*\r\nhost: 127.0.0.1:${port}`]);
    assert.deepEqual(await send({ method: 'POST', body: Buffer.from('abc'), headers: [['content-length', '2'], ['transfer-encoding', 'chunked']] }), [
      `POST /echo HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ntransfer-encoding: chunked\r\naccept: */*`,
    ]);
    assert.equal(server.requests[server.requests.length - 1]!.body.toString(), 'abc');
    // URL credentials become Basic auth, which a caller's Authorization replaces in place.
    assert.deepEqual(await send({ headers: [['x-first', '1']] }, `http://us%20er:p%40w@127.0.0.1:${port}/echo?q=1#frag`), [
      `GET /echo?q=1 HTTP/1.1\r\nauthorization: Basic ${Buffer.from('us er:p@w').toString('base64')}\r\nx-first: 1\r\naccept: */*\r\nhost: 127.0.0.1:${port}`,
    ]);
    assert.deepEqual(await send({ headers: [['x-first', '1'], ['authorization', 'mine']] }, `http://u:p@127.0.0.1:${port}/echo`), [
      `GET /echo HTTP/1.1\r\nauthorization: mine\r\nx-first: 1\r\naccept: */*\r\nhost: 127.0.0.1:${port}`,
    ]);
    assert.deepEqual(await send({}, `http://127.0.0.1:${port}/a b/%zz?x=é`), [`GET /a%20b/%zz?x=%C3%A9 HTTP/1.1\r\naccept: */*\r\nhost: 127.0.0.1:${port}`]);
    assert.deepEqual(await send({ method: 'OPTIONS' }, `http://127.0.0.1:${port}/x/?`), [`OPTIONS /x/? HTTP/1.1\r\naccept: */*\r\nhost: 127.0.0.1:${port}`]);
    assert.deepEqual(await send({}, `http://localhost:${port}/hello`), [`GET /hello HTTP/1.1\r\naccept: */*\r\nhost: localhost:${port}`]);
  });
});

test('responses: status, grouped headers as Latin-1, bodies of every framing', async () => {
  await withServer(
    {
      '/inter': (s) =>
        void s.write(
          response('299 Whatever', [
            ['A', '1'],
            ['B', '2'],
            ['a', '3'],
            ['content-length', '0'],
          ]),
        ),
      '/chunked': (s) => void s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n4\r\ndefg\r\n0\r\nt: 1\r\n\r\n'),
      '/close': (s) => void s.end('HTTP/1.1 200 OK\r\n\r\nuntil-close'),
      '/http10': (s) => void s.end('HTTP/1.0 200 OK\r\n\r\nten'),
      '/head': (s) => void s.write(response('200 OK', [['content-length', '100']])),
      '/204': (s) => void s.write(response('204 No Content', [])),
      '/100': (s) => void s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'),
      '/101': (s) => void s.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\nraw'),
      '/nonascii': (s) => void s.write(Buffer.from('HTTP/1.1 200 OK\r\nx-bin: caf\xe9\r\ncontent-length: 0\r\n\r\n', 'latin1')),
    },
    async (server) => {
      const opts = options();
      const inter = await executeHttpRequest(input(server.url('/inter')), opts);
      assert.equal(inter.status, 299);
      assert.deepEqual([...inter.headers.pairs()], [
        ['a', '1'],
        ['a', '3'],
        ['b', '2'],
        ['content-length', '0'],
      ]);
      assert.equal(await body(inter), '');
      assert.equal(await body(await executeHttpRequest(input(server.url('/chunked')), opts)), 'abcdefg');
      assert.equal(await body(await executeHttpRequest(input(server.url('/close')), opts)), 'until-close');
      assert.equal(await body(await executeHttpRequest(input(server.url('/http10')), opts)), 'ten');
      assert.equal(await body(await executeHttpRequest(input(server.url('/head'), { method: 'HEAD' }), opts)), '');
      // `head` is not HEAD: a body of content-length bytes is expected (and never comes).
      const lower = await executeHttpRequest(input(server.url('/head'), { method: 'head', timeoutMs: 150 }), opts);
      await assert.rejects(lower.readAll(1024, () => new Error('x')), BodyReadError);
      assert.equal((await executeHttpRequest(input(server.url('/204')), opts)).status, 204);
      assert.equal(await body(await executeHttpRequest(input(server.url('/100')), opts)), 'ok');
      const up = await executeHttpRequest(input(server.url('/101')), opts);
      assert.equal(up.status, 101);
      assert.equal(await body(up), '');
      const bin = await executeHttpRequest(input(server.url('/nonascii')), opts);
      assert.equal(bin.headers.get('x-bin'), 'caf\xe9');
    },
  );
});

test('keep-alive: sequential requests share a connection; a stale pooled one is replaced', async () => {
  let dropNext = false;
  await withServer(
    {
      '/hello': (s, r) => {
        s.write(response('200 OK', [['content-length', '5']], 'hello'));
        if (dropNext) setTimeout(() => s.destroy(), 20);
        void r;
      },
      '/close': text('bye', [['connection', 'close']]),
    },
    async (server) => {
      const opts = options();
      await body(await executeHttpRequest(input(server.url('/hello')), opts));
      await body(await executeHttpRequest(input(server.url('/hello')), opts));
      assert.deepEqual(server.requests.map((r) => r.connection), [1, 1]);
      await body(await executeHttpRequest(input(server.url('/close')), opts));
      await body(await executeHttpRequest(input(server.url('/hello')), opts));
      assert.equal(server.requests[3]!.connection, 2);
      // The server closes the idle connection: the next request still succeeds on a new one.
      dropNext = true;
      await body(await executeHttpRequest(input(server.url('/hello')), opts));
      dropNext = false;
      await sleep(100);
      await body(await executeHttpRequest(input(server.url('/hello')), opts));
      assert.equal(server.connections(), 3);
      // Other redirect policies use their own connections.
      await body(await executeHttpRequest(input(server.url('/hello'), { redirect: 'stop' }), opts));
      assert.equal(server.connections(), 4);
      opts.pool!.clear();
    },
  );
});

test('redirects: methods, bodies, header removal order, credentials, referer, limits', async () => {
  await withServer(
    {
      '/echo': echo,
      '/r301': redirect('301 Moved', '/echo'),
      '/r302': redirect('302 Found', '/echo'),
      '/r303': redirect('303 See Other', '/echo'),
      '/r307': redirect('307 Temporary', '/echo'),
      '/r308': redirect('308 Permanent', '/echo'),
      '/r300': redirect('300 Multiple', '/echo'),
      '/rrel': redirect('302 Found', 'echo?x=1#f'),
      '/rftp': redirect('302 Found', 'ftp://127.0.0.1/x'),
      '/rbad': redirect('302 Found', 'http://[bad'),
      '/rdead': redirect('302 Found', 'http://127.0.0.1:1/dead?x#frag'),
      '/rnoloc': (s) => void s.write(response('302 Found', [['content-length', '0']])),
      '/rnonascii': (s) => void s.write(Buffer.from('HTTP/1.1 302 Found\r\nlocation: /ech\xc3\xb6\r\ncontent-length: 0\r\n\r\n', 'latin1')),
      '/loop': (s, r) => void s.write(response('302 Found', [['location', `/loop?${Number(r.target.split('?')[1] ?? 0) + 1}`], ['content-length', '0']])),
      '/rhost': (s, r) => void s.write(response('302 Found', [['location', `http://localhost:${/:(\d+)$/.exec(r.headers.find(([k]) => k === 'host')![1])![1]}/echo?a=1`], ['content-length', '0']])),
    },
    async (server) => {
      const opts = options();
      const port = server.port;
      const hop = async (extra: Partial<HttpRequestInput>, path: string, url = server.url(path)) => {
        const before = server.requests.length;
        const res = await executeHttpRequest(input(url, extra), opts);
        const text = await body(res);
        return { status: res.status, text, heads: server.requests.slice(before).map((r) => r.head), method: res.headers.get('x-method') };
      };
      const B = Buffer.from('posted');
      let r = await hop({}, '/r301');
      assert.deepEqual(r.heads, [`GET /r301 HTTP/1.1\r\naccept: */*\r\nhost: 127.0.0.1:${port}`, `GET /echo HTTP/1.1\r\nreferer: http://127.0.0.1:${port}/r301\r\naccept: */*\r\nhost: 127.0.0.1:${port}`]);
      r = await hop({ redirect: 'stop' }, '/r301');
      assert.equal(r.status, 301);
      // POST → GET on 302: body dropped, content headers swap-removed (content-type, content-encoding, content-length, transfer-encoding).
      r = await hop({ method: 'POST', body: B, headers: [['transfer-encoding', 'chunked'], ['x-1', 'v'], ['content-encoding', 'v'], ['x-2', 'v'], ['content-type', 'v'], ['x-3', 'v'], ['content-length', '6'], ['x-4', 'v']] }, '/r302');
      assert.equal(r.method, 'GET');
      assert.equal(r.heads[1], `GET /echo HTTP/1.1\r\nx-4: v\r\nx-1: v\r\nx-3: v\r\nx-2: v\r\nreferer: http://127.0.0.1:${port}/r302\r\naccept: */*\r\nhost: 127.0.0.1:${port}`);
      // Other methods keep method and body on 301/302; 303 makes everything but HEAD a GET; 307/308 keep all.
      assert.deepEqual([(await hop({ method: 'PUT', body: B }, '/r301')).method, (await hop({ method: 'PUT', body: B }, '/r302')).text], ['PUT', 'posted']);
      assert.equal((await hop({ method: 'DELETE' }, '/r303')).method, 'GET');
      assert.equal((await hop({ method: 'HEAD' }, '/r303')).heads[1]!.split(' ')[0], 'HEAD');
      assert.equal((await hop({ headers: [['content-type', 'v'], ['x-1', 'v'], ['content-encoding', 'v'], ['x-2', 'v']] }, '/r303')).heads[1], `GET /echo HTTP/1.1\r\nx-2: v\r\nx-1: v\r\nreferer: http://127.0.0.1:${port}/r303\r\naccept: */*\r\nhost: 127.0.0.1:${port}`);
      // Methods are case-sensitive: `post` is an extension method and keeps its body; `head` becomes GET on 303.
      assert.deepEqual([(await hop({ method: 'post', body: B }, '/r302')).method, (await hop({ method: 'head' }, '/r303')).method], ['post', 'GET']);
      r = await hop({ method: 'PATCH', body: B, headers: [['content-type', 'v']] }, '/r308');
      assert.deepEqual([r.method, r.text], ['PATCH', 'posted']);
      assert.equal((await hop({ method: 'POST', body: B }, '/r307')).text, 'posted');
      // Cross-host: credentials swap-removed, referer reduced to the origin; an old referer is replaced at the end.
      r = await hop({ headers: [['authorization', 'a'], ['x-1', '1'], ['cookie', 'c'], ['x-2', '2']] }, '/rhost');
      assert.equal(r.heads[1], `GET /echo?a=1 HTTP/1.1\r\nx-2: 2\r\nx-1: 1\r\nreferer: http://127.0.0.1:${port}/\r\naccept: */*\r\nhost: localhost:${port}`);
      r = await hop({ headers: [['x-1', '1'], ['referer', 'mine'], ['x-2', '2']] }, '/r302');
      assert.equal(r.heads[1], `GET /echo HTTP/1.1\r\nx-1: 1\r\nx-2: 2\r\nreferer: http://127.0.0.1:${port}/r302\r\naccept: */*\r\nhost: 127.0.0.1:${port}`);
      r = await hop({}, '/rrel', `http://u:p@127.0.0.1:${port}/rrel`);
      assert.equal(r.heads[1], `GET /echo?x=1 HTTP/1.1\r\nauthorization: Basic dTpw\r\nreferer: http://127.0.0.1:${port}/rrel\r\naccept: */*\r\nhost: 127.0.0.1:${port}`);
      // Not followed: 300, no location, unparsable or non-ASCII location.
      for (const path of ['/r300', '/rnoloc', '/rbad', '/rnonascii']) assert.equal((await hop({}, path)).heads.length, 1, path);
      await assert.rejects(executeHttpRequest(input(server.url('/rftp')), opts), new HttpRequestError('redirect target uses unsupported URL scheme: ftp'));
      await assert.rejects(executeHttpRequest(input(server.url('/rdead')), opts), new HttpRequestError('error sending request for url (http://127.0.0.1:1/dead?x#frag)'));
      const before = server.requests.length;
      await assert.rejects(executeHttpRequest(input(server.url('/loop')), opts), new HttpRequestError('too many redirects'));
      assert.equal(server.requests.length - before, 11);
    },
  );
});

test('transport failures fail with the reference texts', async () => {
  await withServer(
    {
      '/garbage': (s) => void s.end('NOT HTTP AT ALL\r\n\r\n'),
      '/close': (s) => void s.destroy(),
      '/h101': (s) => void s.write(response('200 OK', [...Array.from({ length: 100 }, (_, i): [string, string] => [`h${i}`, 'v']), ['content-length', '0']])),
      '/truncated': async (s) => {
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly-some');
        await sleep(50);
        s.destroy();
      },
    },
    async (server) => {
      const opts = options();
      const sendError = (url: string) => new HttpRequestError(`error sending request for url (${url})`);
      await assert.rejects(executeHttpRequest(input('http://u:p@127.0.0.1:1/x?q#f'), opts), sendError('http://127.0.0.1:1/x?q#f'));
      await assert.rejects(executeHttpRequest(input('http://[::1]:1/x'), opts), sendError('http://[::1]:1/x'));
      // Names that cannot resolve fail before any lookup (the guard runs in front of the resolver).
      const lookups: string[] = [];
      const recording: LookupFunction = (hostname, o, cb) => {
        lookups.push(hostname);
        cb(Object.assign(new Error('no'), { code: 'ENOTFOUND' }), '');
      };
      const invalid = `http://${'a'.repeat(64)}.invalid/`;
      await assert.rejects(executeHttpRequest(input(invalid), options()), sendError(invalid));
      await assert.rejects(executeHttpRequest(input('http://nothing-here.invalid:8080/x'), options()), sendError('http://nothing-here.invalid:8080/x'));
      await assert.rejects(executeHttpRequest(input('http://resolver-says-no.test/'), options({ lookup: recording })), sendError('http://resolver-says-no.test/'));
      assert.deepEqual(lookups, ['resolver-says-no.test']);
      for (const path of ['/garbage', '/close', '/h101']) await assert.rejects(executeHttpRequest(input(server.url(path)), opts), sendError(server.url(path)));
      const res = await executeHttpRequest(input(server.url('/truncated')), opts);
      await assert.rejects(res.readAll(MiB, () => new Error('x')), BodyReadError);
      await assert.rejects(executeHttpRequest(input(server.url('/x'), { timeoutMs: 0 }), opts), new HttpRequestError('route-aware request timed out'));
    },
  );
});

test('one deadline covers the head, every hop and the body', async () => {
  await withServer(
    {
      '/slowhead': async (s) => {
        await sleep(600);
        if (!s.destroyed) s.write(response('200 OK', [['content-length', '2']], 'ok'));
      },
      '/slowbody': async (s) => {
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
        await sleep(600);
        if (!s.destroyed) s.write('defghij');
      },
      '/rslow': async (s) => {
        await sleep(150);
        s.write(response('302 Found', [['location', '/slowhead'], ['content-length', '0']]));
      },
    },
    async (server) => {
      const opts = options();
      const t0 = Date.now();
      await assert.rejects(executeHttpRequest(input(server.url('/slowhead'), { timeoutMs: 200 }), opts), new HttpRequestError(`error sending request for url (${server.url('/slowhead')})`));
      assert.ok(Date.now() - t0 < 550);
      await assert.rejects(executeHttpRequest(input(server.url('/rslow'), { timeoutMs: 300 }), opts), new HttpRequestError(`error sending request for url (${server.url('/slowhead')})`));
      const res = await executeHttpRequest(input(server.url('/slowbody'), { timeoutMs: 200 }), opts);
      const seen: string[] = [];
      await new Promise<void>((resolve) =>
        res.pipe({
          data: (c) => seen.push(c.toString()),
          end: () => (seen.push('end'), resolve()),
          error: (e) => (seen.push(e.message), resolve()),
        }),
      );
      assert.deepEqual(seen, ['abc', 'error decoding response body']);
      // A deadline beyond what a timer can hold is no deadline.
      assert.equal(await body(await executeHttpRequest(input(server.url('/slowhead'), { timeoutMs: 2 ** 40 }), opts)), 'ok');
    },
  );
});

test('aborting (the connection went away) closes the upstream socket', async () => {
  await withServer(
    {
      '/drip': async (s) => {
        s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
        for (let i = 0; i < 100 && !s.destroyed; i++) {
          s.write('1\r\nx\r\n');
          await sleep(20);
        }
      },
      '/never': () => {},
    },
    async (server) => {
      const controller = new AbortController();
      const pending = executeHttpRequest(input(server.url('/never')), options({ signal: controller.signal }));
      await sleep(50);
      const closed = server.nextClose();
      controller.abort(new Error('gone'));
      await assert.rejects(pending, /gone/);
      await closed;
      const res = await executeHttpRequest(input(server.url('/drip')), options());
      let chunks = 0;
      res.pipe({ data: () => chunks++, end: () => {}, error: () => {} });
      await sleep(100);
      const closed2 = server.nextClose();
      res.destroy();
      await closed2;
      assert.ok(chunks > 0);
    },
  );
});

test('TLS: verified against the roots, custom CA from the environment, SNI for names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'http-tls-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), TEST_CA_PEM);
    await withServer(
      { '*': text('secure') },
      async (server) => {
        const url = `https://127.0.0.1:${server.port}/x`;
        const byName = `https://localhost:${server.port}/x`;
        await assert.rejects(executeHttpRequest(input(url), options()), new HttpRequestError(`error sending request for url (${url})`));
        const env = { CODEX_CA_CERTIFICATE: join(dir, 'ca.pem') };
        assert.equal(await body(await executeHttpRequest(input(url), options({ env }))), 'secure');
        assert.equal(await body(await executeHttpRequest(input(byName), options({ env }))), 'secure');
        assert.equal(await body(await executeHttpRequest(input(url), options({ env: { SSL_CERT_FILE: join(dir, 'ca.pem') } }))), 'secure');
        await assert.rejects(executeHttpRequest(input(url), options({ env: { CODEX_CA_CERTIFICATE: join(dir, 'missing') } })), /Failed to read CA certificate file/);
      },
      { cert: TEST_LEAF_CERT_PEM, key: TEST_LEAF_KEY_PEM },
    );
    await withServer(
      { '*': text('secure') },
      async (server) => {
        const url = `https://127.0.0.1:${server.port}/x`;
        await assert.rejects(executeHttpRequest(input(url), options({ env: { CODEX_CA_CERTIFICATE: join(dir, 'ca.pem') } })), new HttpRequestError(`error sending request for url (${url})`));
        assert.equal(server.requests.length, 0);
      },
      { cert: UNTRUSTED_CERT_PEM, key: UNTRUSTED_KEY_PEM },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('proxies: absolute-form through an HTTP proxy, CONNECT tunnels for https, NO_PROXY', async () => {
  await withServer({ '*': text('target') }, async (target) => {
    await withServer(
      {
        '*': (s, r) => {
          if (r.method === 'CONNECT') {
            if (r.target.endsWith(':1')) return void s.write('HTTP/1.1 407 Proxy Auth\r\ncontent-length: 0\r\n\r\n');
            // Tunnel: splice the client socket to the target's port.
            const port = Number(r.target.split(':')[1]);
            import('node:net').then((net) => {
              const up = net.connect(port, '127.0.0.1', () => {
                s.removeAllListeners('data');
                s.write('HTTP/1.1 200 Connection established\r\n\r\n');
                s.pipe(up).pipe(s);
              });
              up.on('error', () => s.destroy());
            });
            return;
          }
          s.write(response('200 OK', [['content-length', '5']], 'proxy'));
        },
      },
      async (proxy) => {
        const env = { HTTP_PROXY: `http://u:p@127.0.0.1:${proxy.port}`, HTTPS_PROXY: `http://u:p@127.0.0.1:${proxy.port}` };
        const res = await executeHttpRequest(input(`http://127.0.0.1:${target.port}/x?q=1#f`, { method: 'POST', body: Buffer.from('a') }), options({ env }));
        assert.equal(await body(res), 'proxy');
        assert.equal(
          proxy.requests[0]!.head,
          `POST http://127.0.0.1:${target.port}/x?q=1 HTTP/1.1\r\naccept: */*\r\nproxy-authorization: Basic dTpw\r\nhost: 127.0.0.1:${target.port}\r\ncontent-length: 1`,
        );
        // A caller's Proxy-Authorization wins.
        await body(await executeHttpRequest(input(`http://127.0.0.1:${target.port}/y`, { headers: [['proxy-authorization', 'mine']] }), options({ env })));
        assert.match(proxy.requests[1]!.head, /proxy-authorization: mine\r\naccept/);
        // NO_PROXY.
        assert.equal(await body(await executeHttpRequest(input(`http://127.0.0.1:${target.port}/z`), options({ env: { ...env, NO_PROXY: '127.0.0.0/8' } }))), 'target');
        // A refused tunnel is a send error; a working one carries TLS... here to a plain server, so the handshake fails.
        const refused = 'https://127.0.0.1:1/z';
        await assert.rejects(executeHttpRequest(input(refused), options({ env })), new HttpRequestError(`error sending request for url (${refused})`));
        assert.equal(proxy.requests[2]!.head, 'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\nProxy-Authorization: Basic dTpw');
      },
    );
  });
  // A TLS origin through a tunnel.
  const dir = mkdtempSync(join(tmpdir(), 'http-tunnel-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), TEST_CA_PEM);
    await withServer(
      { '*': text('secure') },
      async (origin) => {
        await withServer(
          {
            '*': (s, r) => {
              const port = Number(r.target.split(':')[1]);
              import('node:net').then((net) => {
                const up = net.connect(port, '127.0.0.1', () => {
                  s.removeAllListeners('data');
                  s.write('HTTP/1.1 200 OK\r\n\r\n');
                  s.pipe(up).pipe(s);
                });
              });
            },
          },
          async (proxy) => {
            const env = { HTTPS_PROXY: `127.0.0.1:${proxy.port}`, CODEX_CA_CERTIFICATE: join(dir, 'ca.pem') };
            assert.equal(await body(await executeHttpRequest(input(`https://localhost:${origin.port}/s`), options({ env }))), 'secure');
            assert.equal(proxy.requests[0]!.head, `CONNECT localhost:${origin.port} HTTP/1.1\r\nHost: localhost:${origin.port}`);
            assert.equal(origin.requests[0]!.head, `GET /s HTTP/1.1\r\naccept: */*\r\nhost: localhost:${origin.port}`);
          },
        );
      },
      { cert: TEST_LEAF_CERT_PEM, key: TEST_LEAF_KEY_PEM },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('64 MiB streamed in order; readAll enforces its limit', async () => {
  const size = 64 * MiB;
  const big = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4096) big.writeUInt32BE(i, i);
  await withServer(
    {
      '/big': (s) => {
        s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n`);
        s.write(big);
      },
    },
    async (server) => {
      const res = await executeHttpRequest(input(server.url('/big')), options());
      const hash = createHash('sha256');
      let total = 0;
      await new Promise<void>((resolve, reject) =>
        res.pipe({
          data: (c) => {
            total += c.length;
            hash.update(c);
          },
          end: resolve,
          error: reject,
        }),
      );
      assert.equal(total, size);
      assert.equal(hash.digest('hex'), createHash('sha256').update(big).digest('hex'));
      const again = await executeHttpRequest(input(server.url('/big')), options());
      await assert.rejects(again.readAll(MiB, () => new Error('too large')), /too large/);
    },
  );
});
