import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { ConnectionPool, guardedLookup, isUnresolvableName, noProxyMatches, parseProxy, pemCertificates, proxyFor, tlsRoots } from './transport.ts';
import { TEST_CA_PEM, UNTRUSTED_CERT_PEM } from './test-certs.ts';

test('names that cannot resolve are refused without a lookup', async () => {
  for (const name of ['nothing-here.invalid', 'x.INVALID.', 'invalid', `${'a'.repeat(64)}.com`, `${'a.'.repeat(127)}b`, 'a..b', '.a', '']) {
    assert.equal(isUnresolvableName(name), true, name);
  }
  for (const name of ['localhost', 'example.com', 'a.', `${'a'.repeat(63)}.com`, 'invalid.example']) assert.equal(isUnresolvableName(name), false, name);
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup('x.invalid', {}, (e) => resolve(e)));
  assert.equal(err?.code, 'ENOTFOUND');
});

test('proxies from the environment, as reqwest picks them', () => {
  const http = new URL('http://127.0.0.1:9/x');
  const https = new URL('https://example.test/');
  assert.equal(proxyFor(http, {}), null);
  assert.equal(proxyFor(http, { HTTP_PROXY: 'http://127.0.0.1:3128' })?.port, 3128);
  assert.equal(proxyFor(http, { http_proxy: '127.0.0.1:3128' })?.host, '127.0.0.1');
  assert.equal(proxyFor(http, { HTTPS_PROXY: 'http://p:1' }), null);
  assert.equal(proxyFor(https, { HTTPS_PROXY: 'http://p:1' })?.host, 'p');
  assert.equal(proxyFor(https, { ALL_PROXY: 'http://p:2' })?.port, 2);
  assert.equal(proxyFor(http, { HTTP_PROXY: '', ALL_PROXY: 'http://p:2' })?.port, 2);
  assert.equal(proxyFor(http, { HTTP_PROXY: 'not a url' }), null);
  // Under CGI the upper-case HTTP_PROXY is ignored (it could come from a request header).
  assert.equal(proxyFor(http, { HTTP_PROXY: 'http://p:1', REQUEST_METHOD: 'GET' }), null);
  assert.equal(proxyFor(http, { HTTP_PROXY: 'http://p:1', NO_PROXY: '127.0.0.1' }), null);
  const withAuth = parseProxy('http://us%20er:p%40ss@127.0.0.1:8080');
  assert.equal(withAuth?.authorization, `Basic ${Buffer.from('us er:p@ss').toString('base64')}`);
  assert.equal(parseProxy('https://proxy')?.tls, true);
  assert.equal(parseProxy('https://proxy')?.port, 443);
  assert.equal(parseProxy('socks5://127.0.0.1:1080')?.tls, false);
});

test('NO_PROXY matching: domains, suffixes, *, addresses and CIDR blocks', () => {
  assert.equal(noProxyMatches('localhost,.example', 'localhost'), true);
  assert.equal(noProxyMatches('localhost,.example', 'a.example'), true);
  assert.equal(noProxyMatches('example', 'a.example'), true);
  assert.equal(noProxyMatches('example', 'aexample'), false);
  assert.equal(noProxyMatches('.example', 'example'), true);
  assert.equal(noProxyMatches('*', 'anything.test'), true);
  assert.equal(noProxyMatches('*', '127.0.0.1'), false); // observed on the reference
  assert.equal(noProxyMatches('127.0.0.0/8', '127.0.0.1'), true);
  assert.equal(noProxyMatches('10.0.0.0/8', '127.0.0.1'), false);
  assert.equal(noProxyMatches(' 127.0.0.1 ', '127.0.0.1'), true);
  assert.equal(noProxyMatches('::1', '[::1]'), true);
  assert.equal(noProxyMatches('fe80::/10', 'fe80::1'), true);
  assert.equal(noProxyMatches('127.0.0.1', 'localhost'), false);
});

test('custom CA variables: texts of the reference, trusted-certificate blocks, native overrides', () => {
  const dir = mkdtempSync(join(tmpdir(), 'http-ca-'));
  try {
    assert.deepEqual(tlsRoots({}), { key: 'default' });
    const hint = 'If you set CODEX_CA_CERTIFICATE or SSL_CERT_FILE, ensure it points to a PEM file containing one or more CERTIFICATE blocks, or unset it to use system roots.';
    assert.throws(() => tlsRoots({ CODEX_CA_CERTIFICATE: join(dir, 'missing.pem') }), {
      message: `Failed to read CA certificate file ${join(dir, 'missing.pem')} selected by CODEX_CA_CERTIFICATE: No such file or directory (os error 2). ${hint}`,
    });
    assert.throws(() => tlsRoots({ SSL_CERT_FILE: dir }), { message: `Failed to read CA certificate file ${dir} selected by SSL_CERT_FILE: Is a directory (os error 21). ${hint}` });
    writeFileSync(join(dir, 'junk.pem'), 'not a pem');
    assert.throws(() => tlsRoots({ CODEX_CA_CERTIFICATE: join(dir, 'junk.pem') }), {
      message: `Failed to load CA certificates from ${join(dir, 'junk.pem')} selected by CODEX_CA_CERTIFICATE: no certificates found in PEM file. ${hint}`,
    });
    // An empty CODEX_CA_CERTIFICATE falls through to SSL_CERT_FILE.
    assert.throws(() => tlsRoots({ CODEX_CA_CERTIFICATE: '', SSL_CERT_FILE: join(dir, 'none') }), /selected by SSL_CERT_FILE/);
    writeFileSync(join(dir, 'ca.pem'), `junk\n${TEST_CA_PEM}`);
    const roots = tlsRoots({ CODEX_CA_CERTIFICATE: join(dir, 'ca.pem') });
    assert.equal(roots.ca?.length, tls.rootCertificates.length + 1);
    // SSL_CERT_DIR (unreadable entries skipped) adds to the roots; a missing dir is ignored.
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'certs', 'a.pem'), UNTRUSTED_CERT_PEM);
    assert.equal(tlsRoots({ SSL_CERT_DIR: `${join(dir, 'certs')}:/nonexistent` }).ca?.length, tls.rootCertificates.length + 1);
    // OpenSSL TRUSTED CERTIFICATE: the certificate followed by trust settings.
    const der = Buffer.from(TEST_CA_PEM.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const trusted = Buffer.concat([der, Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])]).toString('base64');
    const [cert] = pemCertificates(`-----BEGIN TRUSTED CERTIFICATE-----\n${trusted}\n-----END TRUSTED CERTIFICATE-----\n`);
    assert.equal(cert?.replace(/\s/g, ''), TEST_CA_PEM.replace(/\s/g, ''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the pool hands back live idle sockets only, most recent first', async () => {
  const server = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const accepted: net.Socket[] = [];
  server.on('connection', (s) => accepted.push(s));
  const open = () => new Promise<net.Socket>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
  });
  const pool = new ConnectionPool(200);
  try {
    const a = await open();
    const b = await open();
    pool.put('k', a);
    pool.put('k', b);
    assert.equal(pool.idleCount, 2);
    assert.equal(pool.take('k'), b);
    assert.equal(pool.take('other'), undefined);
    // The server closes a's peer: the idle socket is dropped.
    while (accepted.length < 2) await new Promise((r) => setTimeout(r, 10));
    accepted[0]!.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(pool.idleCount, 0);
    assert.equal(pool.take('k'), undefined);
    // Unexpected bytes on an idle socket drop it too; the idle timeout closes the rest.
    const c = await open();
    pool.put('k', c);
    while (accepted.length < 3) await new Promise((r) => setTimeout(r, 10));
    accepted[2]!.write('surprise');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(pool.idleCount, 0);
    const d = await open();
    pool.put('k', d);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(pool.idleCount, 0);
    assert.equal(d.destroyed, true);
    b.destroy();
  } finally {
    pool.clear();
    for (const s of accepted) s.destroy();
    server.close();
  }
});
