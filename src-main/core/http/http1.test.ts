import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderMap } from './header-map.ts';
import {
  encodeRequestBody,
  frameRequestBody,
  isChunked,
  MAX_RESPONSE_HEAD_BYTES,
  parseContentLength,
  ResponseDecoder,
  serializeHead,
  type DecoderEvent,
} from './http1.ts';

const names = (m: HeaderMap) => [...m.pairs()].map(([k, v]) => `${k}: ${v}`);

test('content-length and transfer-encoding helpers', () => {
  assert.equal(parseContentLength([]), null);
  assert.equal(parseContentLength(['5']), 5);
  assert.equal(parseContentLength(['5', '5, 5']), 5);
  assert.equal(parseContentLength(['2', '3']), null);
  assert.equal(parseContentLength(['xyz']), null);
  assert.equal(parseContentLength(['-1']), null);
  assert.equal(isChunked(['gzip, chunked']), true);
  assert.equal(isChunked(['chunked', 'gzip']), false);
  assert.equal(isChunked([' Chunked ']), true);
});

test('request framing follows hyper, swap-removes included', () => {
  // No body: transfer-encoding goes, a user content-length stays (the reference sends it as is).
  let h = HeaderMap.from([
    ['transfer-encoding', 'chunked'],
    ['accept', '*/*'],
    ['host', 'h'],
  ]);
  assert.deepEqual(frameRequestBody(h, null), { kind: 'none' });
  assert.deepEqual(names(h), ['host: h', 'accept: */*']);
  h = HeaderMap.from([['content-length', '3']]);
  assert.deepEqual(frameRequestBody(h, Buffer.alloc(0)), { kind: 'none' });
  assert.deepEqual(names(h), ['content-length: 3']);

  // A body: content-length appended.
  h = HeaderMap.from([
    ['accept', '*/*'],
    ['host', 'h'],
  ]);
  assert.deepEqual(frameRequestBody(h, Buffer.from('payload')), { kind: 'length', length: 7 });
  assert.deepEqual(names(h), ['accept: */*', 'host: h', 'content-length: 7']);

  // User content-length + chunked: content-length swap-removed (host moves to the front).
  h = HeaderMap.from([
    ['content-length', '2'],
    ['transfer-encoding', 'chunked'],
    ['accept', '*/*'],
    ['host', 'h'],
  ]);
  assert.deepEqual(frameRequestBody(h, Buffer.from('abc')), { kind: 'chunked' });
  assert.deepEqual(names(h), ['host: h', 'transfer-encoding: chunked', 'accept: */*']);

  // A non-chunked transfer-encoding gets ", chunked".
  h = HeaderMap.from([['transfer-encoding', 'gzip']]);
  frameRequestBody(h, Buffer.from('abcdef'));
  assert.deepEqual(names(h), ['transfer-encoding: gzip, chunked']);

  // An invalid user content-length is replaced in place; a valid one is kept.
  h = HeaderMap.from([
    ['content-length', 'xyz'],
    ['accept', '*/*'],
  ]);
  assert.deepEqual(frameRequestBody(h, Buffer.from('abc')), { kind: 'length', length: 3 });
  assert.deepEqual(names(h), ['content-length: 3', 'accept: */*']);
  h = HeaderMap.from([['content-length', '6']]);
  assert.deepEqual(frameRequestBody(h, Buffer.from('abc')), { kind: 'length', length: 6 });
});

test('request bodies: fixed length (short and long) and one chunk', () => {
  const body = Buffer.from('abcdef');
  assert.deepEqual(encodeRequestBody({ kind: 'length', length: 3 }, body), { bytes: Buffer.from('abc'), complete: true, truncated: true });
  assert.deepEqual(encodeRequestBody({ kind: 'length', length: 9 }, body), { bytes: body, complete: false, truncated: false });
  assert.equal(encodeRequestBody({ kind: 'chunked' }, Buffer.alloc(26, 0x61)).bytes.toString(), `1A\r\n${'a'.repeat(26)}\r\n0\r\n\r\n`);
  assert.equal(encodeRequestBody({ kind: 'none' }, body).bytes.length, 0);
  assert.equal(
    serializeHead('get', '/a?b', [
      ['x', ' v '],
      ['y', 'é'],
    ]).toString('utf8'),
    'get /a?b HTTP/1.1\r\nx:  v \r\ny: é\r\n\r\n',
  );
});

function decode(method: string, ...chunks: Array<string | Buffer>): { events: DecoderEvent[]; decoder: ResponseDecoder } {
  const decoder = new ResponseDecoder(method);
  const events: DecoderEvent[] = [];
  for (const c of chunks) events.push(...decoder.push(Buffer.isBuffer(c) ? c : Buffer.from(c, 'latin1')));
  return { events, decoder };
}

function summary(events: DecoderEvent[]): unknown[] {
  return events.map((e) => {
    if (e.type === 'head') return { status: e.head.status, headers: [...e.head.headers.pairs()], keepAlive: e.head.keepAlive };
    if (e.type === 'data') return e.chunk.toString('latin1');
    if (e.type === 'error') return `error:${e.phase}`;
    return 'end';
  });
}

test('response heads: grouping, trimming, LF line ends, 1xx skipped, bytes kept as Latin-1', () => {
  const { events, decoder } = decode(
    'GET',
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nA: 1\r\nB:   2  \r\na: 3\r\nX-Bin: caf\xe9\xff\r\nx-tab: a\tb\r\ncontent-length: 2\r\n\r\nokEXTRA',
  );
  assert.deepEqual(summary(events), [
    {
      status: 200,
      headers: [
        ['a', '1'],
        ['a', '3'],
        ['b', '2'],
        ['x-bin', 'caf\xe9\xff'],
        ['x-tab', 'a\tb'],
        ['content-length', '2'],
      ],
      keepAlive: true,
    },
    'ok',
    'end',
  ]);
  assert.equal(decoder.leftover, 5);
  assert.deepEqual(summary(decode('GET', 'HTTP/1.1 200\nx-lf: v\ncontent-length: 2\n\nok').events).slice(1), ['ok', 'end']);
  assert.deepEqual(summary(decode('GET', 'HTTP/1.1 999 X\r\ncontent-length: 0\r\n\r\n').events), [{ status: 999, headers: [['content-length', '0']], keepAlive: true }, 'end']);
});

test('malformed heads are head errors', () => {
  const bad = [
    'HTTP/2 200 OK\r\n\r\n',
    'HTTP/1.1 099 X\r\n\r\n',
    'HTTP/1.1  200 OK\r\n\r\n',
    'NOT HTTP AT ALL\r\n\r\n',
    'HTTP/1.1 200 OK\r\nx-a: one\r\n two\r\n\r\n',
    'HTTP/1.1 200 OK\r\nx bad: v\r\n\r\n',
    'HTTP/1.1 200 OK\r\nx-sp : v\r\n\r\n',
    'HTTP/1.1 200 OK\r\nx: a\x01b\r\n\r\n',
    'HTTP/1.1 200 OK\r\nx: a\x7fb\r\n\r\n',
    'HTTP/1.1 200 OK\r\nx: a\x00b\r\n\r\n',
    'HTTP/1.1 200 OK\r\ncontent-length: abc\r\n\r\n',
    'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc',
    'HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n',
  ];
  for (const text of bad) assert.deepEqual(summary(decode('GET', text).events), ['error:head'], JSON.stringify(text));
});

test('at most 100 headers and a head of at most 417,792 bytes', () => {
  const head = (n: number) => `HTTP/1.1 200 OK\r\n${Array.from({ length: n }, (_, i) => `h${i}: v\r\n`).join('')}\r\n`;
  assert.equal(decode('GET', head(100)).events[0]!.type, 'head');
  assert.deepEqual(summary(decode('GET', head(101)).events), ['error:head']);
  const big = (n: number) => `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(n)}\r\ncontent-length: 0\r\n\r\n`;
  assert.equal(decode('GET', big(400_000)).events[0]!.type, 'head');
  assert.deepEqual(summary(decode('GET', big(MAX_RESPONSE_HEAD_BYTES)).events), ['error:head']);
  // Also when it arrives in pieces and never ends.
  const d = new ResponseDecoder('GET');
  assert.deepEqual(d.push(Buffer.from('HTTP/1.1 200 OK\r\nx: ')), []);
  assert.deepEqual(summary(d.push(Buffer.alloc(MAX_RESPONSE_HEAD_BYTES, 0x61))), ['error:head']);
});

test('body framing: HEAD, 204, 304, 101, CONNECT 2xx have none; TE beats CL; non-chunked TE and no framing read to EOF', () => {
  assert.deepEqual(summary(decode('HEAD', 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n').events).slice(1), ['end']);
  assert.deepEqual(summary(decode('GET', 'HTTP/1.1 204 No Content\r\n\r\n').events).slice(1), ['end']);
  assert.deepEqual(summary(decode('GET', 'HTTP/1.1 304 Not Modified\r\netag: x\r\n\r\n').events).slice(1), ['end']);
  const up = decode('GET', 'HTTP/1.1 101 Switching Protocols\r\nupgrade: foo\r\n\r\nraw');
  assert.deepEqual(summary(up.events).slice(1), ['end']);
  assert.equal(up.events[0]!.type === 'head' && up.events[0]!.head.keepAlive, false);
  assert.deepEqual(summary(decode('CONNECT', 'HTTP/1.1 200 OK\r\n\r\n').events).slice(1), ['end']);
  assert.deepEqual(summary(decode('GET', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 100\r\n\r\n3\r\nabc\r\n0\r\n\r\n').events).slice(1), ['abc', 'end']);

  const gzip = decode('GET', 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nabc');
  assert.deepEqual(summary(gzip.events).slice(1), ['abc']);
  assert.deepEqual(summary(gzip.decoder.eof()), ['end']);
  const close = decode('GET', 'HTTP/1.0 200 OK\r\n\r\nten');
  assert.equal(close.events[0]!.type === 'head' && close.events[0]!.head.keepAlive, false);
  assert.deepEqual(summary(close.decoder.eof()), ['end']);
});

test('keep-alive: HTTP/1.1 unless connection: close; HTTP/1.0 only with keep-alive', () => {
  const ka = (text: string) => {
    const e = decode('GET', text).events[0]!;
    return e.type === 'head' && e.head.keepAlive;
  };
  assert.equal(ka('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'), true);
  assert.equal(ka('HTTP/1.1 200 OK\r\nConnection: Close\r\ncontent-length: 0\r\n\r\n'), false);
  assert.equal(ka('HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n'), false);
  assert.equal(ka('HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n'), true);
});

test('chunked bodies: split anywhere, extensions and trailers, strict framing', () => {
  const text = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA \r\n0123456789\r\n0\r\ntrailer-x: t\r\n\r\n';
  const d = new ResponseDecoder('GET');
  const data: string[] = [];
  let ended = false;
  for (const byte of Buffer.from(text, 'latin1')) {
    for (const e of d.push(Buffer.from([byte]))) {
      if (e.type === 'data') data.push(e.chunk.toString());
      if (e.type === 'end') ended = true;
      assert.notEqual(e.type, 'error');
    }
  }
  assert.equal(data.join(''), 'abc0123456789');
  assert.equal(ended, true);
  for (const body of ['zz\r\n', '3\nabc\r\n', '3\r\nabcX', '3\r\nabc\r\n0\r\n\rX', '10000000000000000\r\n']) {
    const events = decode('GET', `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${body}`).events;
    assert.equal(events[events.length - 1]!.type, 'error', JSON.stringify(body));
  }
});

test('a body that ends early is a body error; before the head, a head error', () => {
  const cl = decode('GET', 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly-some');
  assert.deepEqual(summary(cl.events).slice(1), ['only-some']);
  assert.deepEqual(summary(cl.decoder.eof()), ['error:body']);
  const chunked = decode('GET', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n');
  assert.deepEqual(summary(chunked.decoder.eof()), ['error:body']);
  const none = decode('GET', 'HTTP/1.1 200');
  assert.deepEqual(summary(none.decoder.eof()), ['error:head']);
  assert.equal(none.decoder.started, true);
  assert.equal(new ResponseDecoder('GET').started, false);
});
