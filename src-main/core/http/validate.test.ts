import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayUrl, isValidHeaderName, isValidHeaderValue, isValidMethod, isVisibleAscii, parseRequestUrl, urlParseError } from './validate.ts';

test('methods are tokens of any case', () => {
  for (const ok of ['GET', 'get', 'BREW', "G!#$%&'*+-.^_`|~T", 'GET'.repeat(10000)]) assert.equal(isValidMethod(ok), true, ok);
  for (const bad of ['', 'BREW COFFEE', 'GET/', 'GÉT', 'A\tB']) assert.equal(isValidMethod(bad), false, bad);
});

test('header names: tokens up to 65535 bytes; values: no control characters but HTAB', () => {
  assert.equal(isValidHeaderName('X-Api-Key'), true);
  assert.equal(isValidHeaderName('x'.repeat(65535)), true);
  for (const bad of ['', 'bad name', 'X-é', 'a:b', 'x'.repeat(65536)]) assert.equal(isValidHeaderName(bad), false, bad);
  for (const ok of ['', ' padded ', 'a\tb', 'é ü', '😀', 'v'.repeat(100000)]) assert.equal(isValidHeaderValue(ok), true, ok);
  for (const bad of ['a\nb', 'a\rb', 'a\u0000b', 'a\u007fb', '\u0001']) assert.equal(isValidHeaderValue(bad), false, JSON.stringify(bad));
});

test('response header values are kept only when visible ASCII (or HTAB)', () => {
  assert.equal(isVisibleAscii('a\tb ~'), true);
  assert.equal(isVisibleAscii('caf\u00e9'), false); // UTF-8 é arrives as two bytes >= 0x80
  assert.equal(isVisibleAscii('\u00ff'), false);
});

// Every case here was answered by the 0.169.0 binary (timeoutMs 0, so nothing was sent).
const REFERENCE_URL_ERRORS: Array<[string, string | null]> = [
  ['http://', 'empty host'],
  ['http:///x', null],
  ['http://:80/', 'empty host'],
  ['http://a:b/', 'invalid port number'],
  ['http://a:99999/', 'invalid port number'],
  ['http://[::1/', 'invalid IPv6 address'],
  ['http://[:::1]/', 'invalid IPv6 address'],
  ['http://1.2.3.256/', 'invalid IPv4 address'],
  ['http://0x100000000/', 'invalid IPv4 address'],
  ['http://a b/', 'invalid international domain name'],
  ['http://a<b/', 'invalid international domain name'],
  ['http://a%20b/', 'invalid international domain name'],
  ['http://%zz/', 'invalid international domain name'],
  ['http://xn--a/', 'invalid international domain name'],
  ['http://ä.com/', null],
  ['http://user@/', 'empty host'],
  ['http://999999999999/', 'invalid IPv4 address'],
  ['http://a.b.c.1/', 'invalid IPv4 address'],
  ['http://a.1/', 'invalid IPv4 address'],
  ['http://1.a/', null],
  ['http://x\u0000y/', 'invalid international domain name'],
  ['http://\u200b/', 'empty host'],
  ['http://\u00ad/', 'empty host'],
  ['http://[v1.x]/', 'invalid IPv6 address'],
  ['http://xn--/', 'invalid international domain name'],
  ['http://[::1]:65536/', 'invalid port number'],
  ['http://x:-1/', 'invalid port number'],
  ['http://x:+1/', 'invalid port number'],
  ['http://x: 1/', 'invalid port number'],
  ['http://10.0.0.1.5/', 'invalid IPv4 address'],
  ['http://x%00/', 'invalid international domain name'],
  ['http://a^b/', 'invalid international domain name'],
  ['http://a|b/', 'invalid international domain name'],
  ['http://x.\u0301/', 'invalid international domain name'],
  ['http://[1:2:3:4:5:6:7:8:9]/', 'invalid IPv6 address'],
  ['http://[::1]x/', 'invalid IPv6 address'],
  ['http://%5B::1%5D/', 'invalid international domain name'],
  ['http://a%/', 'invalid international domain name'],
  ['http://\ufffd/', 'invalid international domain name'],
  ['h ttp://x/', 'relative URL without a base'],
  ['1http://x/', 'relative URL without a base'],
  ['not a url', 'relative URL without a base'],
  ['', 'relative URL without a base'],
  ['http://09/', 'invalid IPv4 address'],
  ['http://foo.0x4/', 'invalid IPv4 address'],
  ['http://127.0.0.1:99999/', 'invalid port number'],
  ['http://exa mple/', 'invalid international domain name'],
];

test('URL errors carry the url crate reason the reference reports', () => {
  for (const [input, reason] of REFERENCE_URL_ERRORS) {
    const result = parseRequestUrl(input);
    if (reason === null) assert.equal(result.ok, true, input);
    else {
      assert.equal(result.ok, false, input);
      assert.equal(!result.ok && result.message, `http/request url is invalid: ${reason}`, input);
      assert.equal(urlParseError(input), reason, input);
    }
  }
});

test('only http and https are accepted, with the scheme named', () => {
  for (const [input, scheme] of [
    ['ftp://127.0.0.1/x', 'ftp'],
    ['file:///etc/passwd', 'file'],
    ['data:text/plain,x', 'data'],
    ['mailto:x@y', 'mailto'],
    ['wss://x', 'wss'],
    ['http+x://y/', 'http+x'],
    ['blob:http://x/', 'blob'],
  ]) {
    const result = parseRequestUrl(input!);
    assert.equal(!result.ok && result.message, `http/request only supports http and https URLs, got ${scheme}`);
  }
  const ok = parseRequestUrl('HTTPS://X:443/a b?é#f');
  assert.equal(ok.ok && ok.url.href, 'https://x/a%20b?%C3%A9#f');
});

test('displayUrl drops credentials but keeps the fragment', () => {
  assert.equal(displayUrl(new URL('http://u:p@127.0.0.1:1/x?q#f')), 'http://127.0.0.1:1/x?q#f');
  assert.equal(displayUrl(new URL('http://ünicode.invalid/')), 'http://xn--nicode-2ya.invalid/');
});
