/**
 * Tests for path-uri.ts.
 *
 * URI_CASES was recorded from the reference binary with `fs/readFile {path: <input>}` against a
 * fixture directory /tmp/uriprobe (subdirectories `plain`, `a b`, `a\b`, `x\xFFy`, `%41`, … and
 * `plain/f.txt`). The reply was classified as:
 *   `parse: <m>`  → -32602 <m> (rejected while deserializing the params)
 *   `native: <m>` → -32600 <m> (a valid URI that is not a path on this host; `process/start` with the
 *                   same URI as cwd answered -32602 "cwd URI `<uri>` is not valid on this exec-server
 *                   host: <m>", checked by the collector)
 *   `path: <p>`   → -32600 "path `<p>` is not a file": the input named directory <p>
 *   `notfound` / `ok` → -32004 / success: accepted, names a missing path / a file
 * CANONICAL is what `fs/canonicalize` returned for each fixture entry (how the reference encodes
 * native bytes into URIs). The last test rebuilds the fixture in a fresh temp dir and replays all of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import {
  HOST_OS,
  PathUri,
  PathUriError,
  displayPath,
  fsPath,
  nativePathFromBytes,
  nativePathToBytes,
  parsePathUri,
  toPathUri,
} from './path-uri.ts';
import { RpcClient } from '../../testkit/rpc-client.ts';
import { referenceAvailable, startServer } from '../../testkit/server-process.ts';

const ROOT = '/tmp/uriprobe';

const URI_CASES: Array<[string, string]> = [
  ["", "parse: invalid URI: relative URL without a base"],
  ["file:", "path: /"],
  ["file://", "path: /"],
  ["file:///", "path: /"],
  ["file:tmp", "path: /tmp"],
  ["file:/tmp", "path: /tmp"],
  ["file:../tmp", "path: /tmp"],
  ["file:///tmp/./uriprobe/../uriprobe/plain/", "path: /tmp/uriprobe/plain"],
  ["file://localhost/tmp", "path: /tmp"],
  ["file://LOCALHOST/tmp", "path: /tmp"],
  ["file://host/tmp", "native: 'file://host/tmp' is invalid on 'linux'"],
  ["file://127.0.0.1/tmp", "native: 'file://127.0.0.1/tmp' is invalid on 'linux'"],
  ["file://[::1]/tmp", "native: 'file://[::1]/tmp' is invalid on 'linux'"],
  ["file://localhost:80/tmp", "parse: invalid URI: invalid international domain name"],
  ["file://user@localhost/tmp", "parse: invalid URI: invalid international domain name"],
  ["FILE:///tmp", "path: /tmp"],
  ["File:///tmp", "path: /tmp"],
  ["http://x/", "parse: unsupported path URI scheme `http`"],
  ["https://x/tmp", "parse: unsupported path URI scheme `https`"],
  ["file:///tmp?x", "parse: query parameters are not allowed in path URIs"],
  ["file:///tmp#x", "parse: fragments are not allowed in path URIs"],
  ["file:///tmp?", "parse: query parameters are not allowed in path URIs"],
  ["file:///tmp#", "parse: fragments are not allowed in path URIs"],
  ["file:///tmp?x#y", "parse: query parameters are not allowed in path URIs"],
  ["file:///tmp\\uriprobe", "path: /tmp/uriprobe"],
  ["file:///tmp/\turiprobe", "path: /tmp/uriprobe"],
  [" file:///tmp ", "path: /tmp"],
  ["file:///tmp/uriprobe/a b", "path: /tmp/uriprobe/a b"],
  ["file:///tmp/uriprobe/a%20b", "path: /tmp/uriprobe/a b"],
  ["file:///tmp/uriprobe/a%2", "notfound"],
  ["file:///tmp/uriprobe/%zz", "notfound"],
  ["file:////tmp", "path: /tmp"],
  ["file://///tmp", "path: /tmp"],
  ["file:///../../tmp", "path: /tmp"],
  ["file:///tmp/%2e%2e/tmp", "path: /tmp"],
  ["file:///tmp/%2E/uriprobe", "path: /tmp/uriprobe"],
  ["file:///tmp/uriprobe%2Fplain", "path: /tmp/uriprobe/plain"],
  ["file:///tmp/%00", "parse: 'file:///tmp/%00' is invalid on 'linux'"],
  ["file:///tmp/uriprobe/x%FFy", "path: /tmp/uriprobe/x�y"],
  ["file:///C:/Users", "native: 'file:///C:/Users' is invalid on 'linux'"],
  ["file:///c|/x", "notfound"],
  ["file://C:/x", "native: 'file:///C:/x' is invalid on 'linux'"],
  ["file:C:/x", "native: 'file:///C:/x' is invalid on 'linux'"],
  ["/tmp", "parse: invalid URI: relative URL without a base"],
  ["tmp", "parse: invalid URI: relative URL without a base"],
  ["a:b", "parse: unsupported path URI scheme `a`"],
  ["file:///tmp/uriprobe/ä", "path: /tmp/uriprobe/ä"],
  ["file://ho st/tmp", "parse: invalid URI: invalid international domain name"],
  ["file://%41/tmp", "native: 'file://a/tmp' is invalid on 'linux'"],
  ["file://[::1/tmp", "parse: invalid URI: invalid IPv6 address"],
  ["file://1.2.3.256/tmp", "parse: invalid URI: invalid IPv4 address"],
  ["file://xn--/tmp", "parse: invalid URI: invalid international domain name"],
  ["urn:x", "parse: unsupported path URI scheme `urn`"],
  ["mailto:x", "parse: unsupported path URI scheme `mailto`"],
  ["file:/C:/x", "native: 'file:///C:/x' is invalid on 'linux'"],
  ["file:\\\\server\\share", "native: 'file://server/share' is invalid on 'linux'"],
  ["file:///tmp/..", "path: /"],
  ["file:///..", "path: /"],
  ["file:///tmp/uriprobe/./plain/.", "path: /tmp/uriprobe/plain"],
  ["file:///%2e%2e", "path: /"],
  ["data:,x", "parse: unsupported path URI scheme `data`"],
  ["file://localhost", "path: /"],
  ["file://localhost/", "path: /"],
  ["file:?x", "parse: query parameters are not allowed in path URIs"],
  ["file:#x", "parse: fragments are not allowed in path URIs"],
  ["file:///tmp/uriprobe/a%3Fb", "path: /tmp/uriprobe/a?b"],
  ["file:///tmp/uriprobe/a?b", "parse: query parameters are not allowed in path URIs"],
  ["file:///tmp/uriprobe/a#b", "parse: fragments are not allowed in path URIs"],
  ["file:///C:", "native: 'file:///C:' is invalid on 'linux'"],
  ["file:///c:/x", "native: 'file:///C:/x' is invalid on 'linux'"],
  ["file:///tmp/C:/x", "notfound"],
  ["file://C|/x", "native: 'file:///C:/x' is invalid on 'linux'"],
  ["file:///tmp/uriprobe/%41", "notfound"],
  ["file:///tmp/uriprobe/%2541", "path: /tmp/uriprobe/%41"],
  ["file://localhost/tmp/uriprobe/../uriprobe", "path: /tmp/uriprobe"],
  ["file:/", "path: /"],
  ["file:.", "path: /"],
  ["file:..", "path: /"],
  ["file:///tmp/uriprobe/a%5Cb", "path: /tmp/uriprobe/a\\b"],
  ["file://[v1.x]/tmp", "parse: invalid URI: invalid IPv6 address"],
  ["file://0x7f.1/tmp", "native: 'file://127.0.0.1/tmp' is invalid on 'linux'"],
  ["file://example.com/tmp", "native: 'file://example.com/tmp' is invalid on 'linux'"],
  ["file://EXAMPLE.com:/tmp", "parse: invalid URI: invalid international domain name"],
  ["file://loc%61lhost/tmp", "path: /tmp"],
  ["file://localhost./tmp", "native: 'file://localhost./tmp' is invalid on 'linux'"],
  ["File://LocalHost/tmp", "path: /tmp"],
  ["file:%2Ftmp", "path: /tmp"],
  ["file:/%2Ftmp", "path: /tmp"],
  ["file:///tmp/uriprobe/%C3%A4", "path: /tmp/uriprobe/ä"],
  ["ws://x", "parse: unsupported path URI scheme `ws`"],
  ["FILE:tmp", "path: /tmp"],
  ["f:x", "parse: unsupported path URI scheme `f`"],
  ["1:x", "parse: invalid URI: relative URL without a base"],
  ["file\u0000:///tmp", "parse: invalid URI: relative URL without a base"],
  ["\u0000file:///tmp", "path: /tmp"],
  ["file:///tmp\u0000", "path: /tmp"],
  ["file:///tmp/uriprobe/ctl\u0001x", "path: /tmp/uriprobe/ctl\u0001x"],
  ["file:///tmp/uriprobe/del", "path: /tmp/uriprobe/del"],
  ["file:///tmp/uriprobe/nl\nx", "notfound"],
  ["file:///tmp/uriprobe%2F..%2Furiprobe%2F.%2Fplain", "path: /tmp/uriprobe/plain"],
  ["file:///tmp/uriprobe/plain%2F", "path: /tmp/uriprobe/plain"],
  ["file:///%2E%2E%2F..%2Ftmp", "path: /tmp"],
  ["file:///tmp//uriprobe///plain", "path: /tmp/uriprobe/plain"],
  ["file:////C:/x", "native: 'file:///C:/x' is invalid on 'linux'"],
  ["file://localhost/tmp/%00", "parse: 'file:///tmp/%00' is invalid on 'linux'"],
  ["file://LOCALHOST/tmp/%00", "parse: 'file:///tmp/%00' is invalid on 'linux'"],
  ["file:c|/x", "native: 'file:///C:/x' is invalid on 'linux'"],
  ["file:/c|/x", "native: 'file:///C:/x' is invalid on 'linux'"],
  ["file:///c|", "notfound"],
  ["file:///%00/bad/path/L3RtcA", "native: 'file:///%00/bad/path/L3RtcA' is invalid on 'linux'"],
  ["file:///%00/bad/path/", "parse: 'file:///%00/bad/path/' is invalid on 'linux'"],
  ["file:///%00/bad/path/L3RtcAB4/y", "parse: 'file:///%00/bad/path/L3RtcAB4/y' is invalid on 'linux'"],
  ["file://[::1]:80/tmp", "parse: invalid URI: invalid IPv6 address"],
  ["file://a:b@c/tmp", "parse: invalid URI: invalid international domain name"],
  ["http://ho st/", "parse: invalid URI: invalid international domain name"],
  ["http://", "parse: invalid URI: empty host"],
  ["http:///x", "parse: unsupported path URI scheme `http`"],
  ["http://x:99999/", "parse: invalid URI: invalid port number"],
  ["http://x:8a/", "parse: invalid URI: invalid port number"],
  ["http://[::1/", "parse: invalid URI: invalid IPv6 address"],
  ["http://1.2.3.4.5/", "parse: invalid URI: invalid IPv4 address"],
  ["http://user@/", "parse: invalid URI: empty host"],
  ["a://ho st/", "parse: invalid URI: invalid domain character"],
  ["a://[x/", "parse: invalid URI: invalid IPv6 address"],
  ["a://x:99999/", "parse: invalid URI: invalid port number"],
  ["http://xn--/", "parse: invalid URI: invalid international domain name"],
  ["http://0x100000000/", "parse: invalid URI: invalid IPv4 address"],
  ["https://ex ample.com:99999/", "parse: invalid URI: invalid international domain name"],
  ["file://ex%20ample/x", "parse: invalid URI: invalid international domain name"],
  ["file://%zz/x", "parse: invalid URI: invalid international domain name"],
  ["file://%FF/x", "parse: invalid URI: invalid international domain name"],
  ["file://ä/tmp", "native: 'file://xn--4ca/tmp' is invalid on 'linux'"],
  ["file://xn--nxasmq6b/tmp", "native: 'file://xn--nxasmq6b/tmp' is invalid on 'linux'"],
  ["file://1.2.3/tmp", "native: 'file://1.2.0.3/tmp' is invalid on 'linux'"],
  ["file://999999999999/tmp", "parse: invalid URI: invalid IPv4 address"],
  ["file://a.b.1/tmp", "parse: invalid URI: invalid IPv4 address"],
  ["file://[1:2::3]/tmp", "native: 'file://[1:2::3]/tmp' is invalid on 'linux'"],
  ["file://[::ffff:1.2.3.4]/tmp", "native: 'file://[::ffff:102:304]/tmp' is invalid on 'linux'"],
  ["file:///tmp#a?b", "parse: fragments are not allowed in path URIs"],
  ["file:///C%3A/x", "native: 'file:///C%3A/x' is invalid on 'linux'"],
  ["file:///c:", "native: 'file:///C:' is invalid on 'linux'"],
  ["file:///z:/", "native: 'file:///Z:/' is invalid on 'linux'"],
  ["fi\tle:///tmp", "path: /tmp"],
  ["file:///tmp/uriprobe/%E2%82%AC%F0%9F%98%80", "path: /tmp/uriprobe/€😀"],
  ["file:///tmp/uriprobe/sp;=@!$&'()*+,~^|", "path: /tmp/uriprobe/sp;=@!$&'()*+,~^|"],
  ["file://localhost/c|/x", "notfound"],
  ["file:///c|/%00", "parse: 'file:///c|/%00' is invalid on 'linux'"],
  ["file://host/tmp/%00", "parse: 'file://host/tmp/%00' is invalid on 'linux'"],
  ["file:///tmp/uriprobe/plain/f.txt/", "ok"],
];

/** [file-name bytes under the fixture root, URI the reference emitted for it] */
const CANONICAL: Array<[number[], string]> = [
  [[37,52,49], "file:///tmp/uriprobe/%2541"],
  [[97,32,98], "file:///tmp/uriprobe/a%20b"],
  [[97,35,98], "file:///tmp/uriprobe/a%23b"],
  [[97,37,98], "file:///tmp/uriprobe/a%25b"],
  [[97,58,98], "file:///tmp/uriprobe/a:b"],
  [[97,63,98], "file:///tmp/uriprobe/a%3Fb"],
  [[97,91,98,93], "file:///tmp/uriprobe/a[b]"],
  [[97,92,98], "file:///tmp/uriprobe/a%5Cb"],
  [[98,113,96], "file:///tmp/uriprobe/bq%60"],
  [[98,114,123,125], "file:///tmp/uriprobe/br%7B%7D"],
  [[99,116,108,1,120], "file:///tmp/uriprobe/ctl%01x"],
  [[100,101,108,127], "file:///tmp/uriprobe/del%7F"],
  [[100,113,34], "file:///tmp/uriprobe/dq%22"],
  [[108,116,60,62], "file:///tmp/uriprobe/lt%3C%3E"],
  [[110,108,10,120], "file:///tmp/uriprobe/nl%0Ax"],
  [[112,108,97,105,110], "file:///tmp/uriprobe/plain"],
  [[115,112,59,61,64,33,36,38,39,40,41,42,43,44,126,94,124], "file:///tmp/uriprobe/sp;=@!$&'()*+,~^|"],
  [[116,97,98,9,120], "file:///tmp/uriprobe/tab%09x"],
  [[120,255,121], "file:///tmp/uriprobe/x%FFy"],
  [[195,164], "file:///tmp/uriprobe/%C3%A4"],
  [[226,130,172,240,159,152,128], "file:///tmp/uriprobe/%E2%82%AC%F0%9F%98%80"],
];

function classify(input: string): string {
  let uri: PathUri;
  try {
    uri = PathUri.parse(input);
  } catch (e) {
    assert.ok(e instanceof PathUriError && e.stage === 'parse', String(e));
    return `parse: ${e.message}`;
  }
  try {
    return `path: ${displayPath(uri.toNativePath())}`;
  } catch (e) {
    assert.ok(e instanceof PathUriError && e.stage === 'native', String(e));
    return `native: ${e.message}`;
  }
}

test('path URIs are accepted, rejected and resolved like the reference', { skip: HOST_OS !== 'linux' && 'recorded on linux' }, () => {
  assert.ok(URI_CASES.length >= 100);
  for (const [input, expected] of URI_CASES) {
    const got = classify(input);
    if (expected === 'notfound' || expected === 'ok') assert.ok(got.startsWith('path: '), `${JSON.stringify(input)} → ${got}`);
    else assert.equal(got, expected, JSON.stringify(input));
  }
});

test('canonical URIs encode the same bytes as the reference', () => {
  for (const [bytes, expected] of CANONICAL) {
    const native = `${ROOT}/${nativePathFromBytes(Buffer.from(bytes))}`;
    assert.equal(toPathUri(native), expected, Buffer.from(bytes).toString('latin1'));
    // and back
    assert.equal(parsePathUri(expected), native);
  }
  assert.equal(toPathUri('/'), 'file:///');
  assert.equal(toPathUri('/a/./b//c/../d/'), 'file:///a/b/d');
  assert.throws(() => toPathUri('relative/x'), /path is not absolute/);
});

test('native paths carry non-UTF-8 bytes losslessly (surrogateescape)', () => {
  const bytes = Buffer.from([0x2f, 0x78, 0xff, 0xc3, 0xa9, 0xed, 0xa0, 0x80, 0xc3, 0x2f, 0xf0, 0x9f, 0x98, 0x80]);
  const path = nativePathFromBytes(bytes);
  assert.equal(path, '/x\udcffé\udced\udca0\udc80\udcc3/😀');
  assert.deepEqual(nativePathToBytes(path), bytes);
  assert.deepEqual(fsPath(path), bytes);
  assert.equal(fsPath('/plain/é'), '/plain/é');
  assert.equal(displayPath(path), '/x\ufffdé\ufffd\ufffd\ufffd\ufffd/😀');
  assert.equal(toPathUri(path), 'file:///x%FF%C3%A9%ED%A0%80%C3/%F0%9F%98%80');
  assert.equal(parsePathUri('file:///x%FF%C3%A9%ED%A0%80%C3/%F0%9F%98%80'), path);
  // random byte names round-trip through URI and back
  for (let n = 0; n < 500; n++) {
    const name = Buffer.from(Array.from({ length: 1 + (n % 9) }, () => 1 + Math.floor(Math.random() * 255)).filter((b) => b !== 0x2f));
    if (name.length === 0 || name.equals(Buffer.from('.')) || name.equals(Buffer.from('..'))) continue;
    const native = `/d/${nativePathFromBytes(name)}`;
    assert.deepEqual(nativePathToBytes(parsePathUri(toPathUri(native))), Buffer.concat([Buffer.from('/d/'), name]));
  }
});

test('paths containing NUL use the reference fallback form', () => {
  const uri = toPathUri('/tmp\u0000x');
  assert.equal(uri, 'file:///%00/bad/path/L3RtcAB4');
  assert.equal(parsePathUri(uri), '/tmp\u0000x');
  // from the binary: a fallback that decodes to a NUL-free path is refused
  assert.equal(classify('file:///%00/bad/path/L3RtcA'), "native: 'file:///%00/bad/path/L3RtcA' is invalid on 'linux'");
});

test('PathUri keeps its canonical text', () => {
  const uri = PathUri.parse('FILE://LocalHost/ws/a b/./c/../%C3%A4');
  assert.equal(uri.href, 'file:///ws/a%20b/%C3%A4');
  assert.equal(String(uri), uri.href);
  assert.equal(JSON.stringify({ p: uri }), '{"p":"file:///ws/a%20b/%C3%A4"}');
});

test('cases still match the reference binary', { skip: !referenceAvailable() && 'reference binary not installed' }, async () => {
  // The recorded inputs spell the fixture as /tmp/…uriprobe…; use a fresh sibling instead.
  const root = mkdtempSync('/tmp/pathuri-');
  const name = root.slice('/tmp/'.length);
  const sub = (s: string) => s.split('uriprobe').join(name);
  const server = await startServer('reference');
  try {
    for (const [bytes] of CANONICAL) mkdirSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from(bytes)]));
    writeFileSync(`${root}/plain/f.txt`, 'hi');
    const client = await RpcClient.connect(server.url);
    await client.handshake();
    for (const [input, expected] of URI_CASES) {
      const reply = await client.request('fs/readFile', { path: sub(input) });
      let got: string;
      if (!reply.error) got = 'ok';
      else if (reply.error.code === -32602) got = `parse: ${reply.error.message}`;
      else if (reply.error.code === -32004) got = 'notfound';
      else {
        const m = /^path `(.*)` is not a file$/s.exec(reply.error.message);
        got = m ? `path: ${m[1]}` : `native: ${reply.error.message}`;
      }
      assert.equal(got, sub(expected), JSON.stringify(input));
    }
    for (const [bytes, expected] of CANONICAL) {
      const enc = [...bytes].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
      const reply = await client.call('fs/canonicalize', { path: `file://${root}/${enc}` });
      assert.equal(reply.path, sub(expected));
    }
    client.close();
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
