import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amzDate, signRequest } from './sigv4.ts';

// AWS's published SigV4 test suite (aws-sig-v4-test-suite): shared context.
const SUITE = {
  region: 'us-east-1',
  service: 'service',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  date: new Date('2015-08-30T12:36:00Z'),
};
const SCOPE = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';
const STS_TOKEN =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';

test('AWS SigV4 test suite vectors', () => {
  const cases: Array<{ name: string; method: string; url: string; headers?: Array<[string, string]>; token?: string; expected: string }> = [
    { name: 'get-vanilla', method: 'GET', url: 'https://example.amazonaws.com/', expected: `${SCOPE}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31` },
    { name: 'post-vanilla', method: 'POST', url: 'https://example.amazonaws.com/', expected: `${SCOPE}, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b` },
    {
      name: 'get-vanilla-query-order-key-case',
      method: 'GET',
      url: 'https://example.amazonaws.com/?Param2=value2&Param1=value1',
      expected: `${SCOPE}, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`,
    },
    {
      name: 'post-header-value-case',
      method: 'POST',
      url: 'https://example.amazonaws.com/',
      headers: [['My-Header1', 'VALUE1']],
      expected: `${SCOPE}, SignedHeaders=host;my-header1;x-amz-date, Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d`,
    },
    {
      name: 'get-unreserved',
      method: 'GET',
      url: 'https://example.amazonaws.com/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
      expected: `${SCOPE}, SignedHeaders=host;x-amz-date, Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f`,
    },
    {
      name: 'post-sts-header-after (session token signed)',
      method: 'POST',
      url: 'https://example.amazonaws.com/',
      token: STS_TOKEN,
      expected: `${SCOPE}, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead`,
    },
  ];
  for (const c of cases) {
    const signed = signRequest({
      ...SUITE,
      method: c.method,
      url: new URL(c.url),
      headers: c.headers,
      credentials: { ...SUITE.credentials, sessionToken: c.token },
    });
    assert.equal(signed.authorization, c.expected, c.name);
    assert.equal(signed.amzDate, '20150830T123600Z');
  }
});

// Requests the 0.169.0 binary signed (captured on the wire; test credentials).
const CAPTURED = {
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'sess' },
  region: 'us-east-1',
  service: 'execute-api',
  date: new Date('2026-11-22T05:23:06Z'),
};

test('the binary\'s direct registration and websocket upgrade signatures', () => {
  const register = signRequest({
    ...CAPTURED,
    method: 'POST',
    url: new URL('http://127.0.0.1:38797/api/cloud/environment/e1/direct/register'),
    headers: [['content-type', 'application/json']],
    body: '{"transport":"direct_jsonrpc_v1"}',
  });
  assert.equal(
    register.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=262dc1645890a537335bff988768e620d65f1263ee8c6d7c9398d9a7dcb3979b',
  );
  const upgrade = signRequest({ ...CAPTURED, method: 'GET', url: new URL('ws://127.0.0.1:38797/ws/e1?sig=abc&x=1') });
  assert.equal(
    upgrade.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=4eb0e947065dec70c928ee3a7979719538b649e3c1febcf16b37c306d78c341a',
  );
});

test('amz date format', () => {
  assert.equal(amzDate(new Date('2026-01-02T03:04:05.678Z')), '20260102T030405Z');
});
