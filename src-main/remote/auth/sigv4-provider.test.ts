import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthError } from './auth-provider.ts';
import { createAuthProvider } from './create-auth-provider.ts';
import { CREDENTIALS_NOT_CONFIGURED_MESSAGE, CREDENTIALS_NOT_ENABLED_MESSAGE, NO_REGION_MESSAGE } from './aws-credentials.ts';
import { checkDirectWebSocketUrl, DIRECT_HTTPS_RULE_MESSAGE, DIRECT_WSS_RULE_MESSAGE, SigV4Provider } from './sigv4-provider.ts';
import { context, NO_FLAGS, tempHome } from './testing/fixtures.ts';
import { authHeadersOf, probeRegistry, startRecordingServer } from './testing/registry-probe.ts';
import { signRequest } from './sigv4.ts';

const KEYS = { AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'secret-env' };
const FILES = {
  credentials: '[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n[p1]\naws_access_key_id = AKIDP1\naws_secret_access_key = s2\naws_session_token = tokp1\n\n[half]\naws_access_key_id = AKIDHALF\n',
  config: '[default]\nregion = ap-south-1\n\n[profile p1]\nregion = eu-central-1\n',
};

async function awsHome() {
  const home = await tempHome();
  await mkdir(join(home.dir, '.aws'));
  await writeFile(join(home.dir, '.aws', 'credentials'), FILES.credentials);
  await writeFile(join(home.dir, '.aws', 'config'), FILES.config);
  return home;
}

function scopeOf(headers: Array<[string, string]>): string {
  return /Credential=([^,]+),/.exec(headers.find(([n]) => n === 'authorization')![1])![1]!;
}

const REQUEST = { url: new URL('http://127.0.0.1:1/api/cloud/environment/e1/direct/register'), method: 'POST' as const, body: Buffer.from('{"transport":"direct_jsonrpc_v1"}') };

test('credential and region chain as observed on the binary', async () => {
  const home = await awsHome();
  try {
    const cases: Array<[string, NodeJS.ProcessEnv, { profile: string | null; region: string | null }, string]> = [
      ['profile default from files', {}, { profile: null, region: null }, 'AKIDDEFAULT/DAY/ap-south-1/execute-api/aws4_request'],
      ['--aws-profile p1', {}, { profile: 'p1', region: null }, 'AKIDP1/DAY/eu-central-1/execute-api/aws4_request'],
      ['AWS_PROFILE p1', { AWS_PROFILE: 'p1' }, { profile: null, region: null }, 'AKIDP1/DAY/eu-central-1/execute-api/aws4_request'],
      ['--aws-profile beats env keys', KEYS, { profile: 'p1', region: null }, 'AKIDP1/DAY/eu-central-1/execute-api/aws4_request'],
      ['env region beats the profile region', { ...KEYS, AWS_REGION: 'us-west-2' }, { profile: 'p1', region: null }, 'AKIDP1/DAY/us-west-2/execute-api/aws4_request'],
      ['flag region wins', { AWS_REGION: 'us-west-2' }, { profile: 'p1', region: 'sa-east-1' }, 'AKIDP1/DAY/sa-east-1/execute-api/aws4_request'],
      ['env keys beat AWS_PROFILE', { ...KEYS, AWS_PROFILE: 'p1' }, { profile: null, region: null }, 'AKIDENV/DAY/eu-central-1/execute-api/aws4_request'],
      ['AWS_DEFAULT_REGION', { ...KEYS, AWS_DEFAULT_REGION: 'ca-central-1', HOME: '/nonexistent' }, { profile: null, region: null }, 'AKIDENV/DAY/ca-central-1/execute-api/aws4_request'],
    ];
    for (const [name, env, flags, expected] of cases) {
      const provider = new SigV4Provider({ env: { HOME: home.dir, ...env }, ...flags, service: null, now: () => new Date('2026-01-02T03:04:05Z') });
      assert.equal(scopeOf(await provider.headers(REQUEST)), expected.replace('DAY', '20260102'), name);
    }
    const failures: Array<[string, NodeJS.ProcessEnv, { profile: string | null; region: string | null }, string]> = [
      ['unknown profile, no region', {}, { profile: 'nope', region: null }, NO_REGION_MESSAGE],
      ['unknown profile with a region', {}, { profile: 'nope', region: 'us-east-1' }, CREDENTIALS_NOT_CONFIGURED_MESSAGE],
      ['profile without a secret', {}, { profile: 'half', region: 'us-east-1' }, CREDENTIALS_NOT_CONFIGURED_MESSAGE],
      ['nothing at all', { HOME: '/nonexistent' }, { profile: null, region: 'us-east-1' }, CREDENTIALS_NOT_ENABLED_MESSAGE],
      ['a key id alone', { HOME: '/nonexistent', AWS_ACCESS_KEY_ID: 'AKID' }, { profile: null, region: 'us-east-1' }, CREDENTIALS_NOT_ENABLED_MESSAGE],
      ['no region anywhere', { HOME: '/nonexistent', ...KEYS }, { profile: null, region: null }, NO_REGION_MESSAGE],
    ];
    for (const [name, env, flags, message] of failures) {
      assert.throws(() => new SigV4Provider({ env: { HOME: home.dir, ...env }, ...flags, service: null }), (err: unknown) => err instanceof AuthError && err.message === message, name);
    }
  } finally {
    await home.cleanup();
  }
});

test('headers on the wire: x-amz-date, authorization, x-amz-security-token; signature checks out', async () => {
  const server = await startRecordingServer();
  const home = await tempHome();
  try {
    const now = new Date('2026-11-22T05:23:06Z');
    const env = { ...KEYS, AWS_SESSION_TOKEN: 'sess', HOME: home.dir };
    const provider = await createAuthProvider(
      { ...NO_FLAGS, awsSigv4: { profile: null, region: 'us-east-1', service: 'svc' } },
      context(home.dir, { env }),
    );
    assert.equal(provider.method, 'aws-sigv4');
    // Pin the clock through a fresh provider with the same inputs (createAuthProvider uses the real one).
    const pinned = new SigV4Provider({ env, profile: null, region: 'us-east-1', service: 'svc', now: () => now });
    await probeRegistry(pinned, new URL(`${server.url}/api`), 'cloud/environment/e1/direct/register', { transport: 'direct_jsonrpc_v1' });
    const sent = authHeadersOf(server.seen[0]!);
    assert.deepEqual(sent.map(([n]) => n), ['x-amz-date', 'authorization', 'x-amz-security-token']);
    const expected = signRequest({
      method: 'POST',
      url: new URL(`${server.url}/api/cloud/environment/e1/direct/register`),
      headers: [['content-type', 'application/json']],
      body: server.seen[0]!.body,
      region: 'us-east-1',
      service: 'svc',
      credentials: { accessKeyId: 'AKIDENV', secretAccessKey: 'secret-env', sessionToken: 'sess' },
      date: now,
    });
    assert.deepEqual(sent, [['x-amz-date', '20261122T052306Z'], ['authorization', expected.authorization], ['x-amz-security-token', 'sess']]);
    assert.match(expected.authorization, /SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,/);
    assert.equal(await provider.refreshAfterUnauthorized(), false);
  } finally {
    await server.close();
    await home.cleanup();
  }
});

test('URL rules: https or loopback http; wss or loopback ws', () => {
  const provider = new SigV4Provider({ env: { ...KEYS, HOME: '/nonexistent' }, profile: null, region: 'us-east-1', service: null });
  for (const ok of ['https://example.com/api', 'http://127.0.0.1:1/api', 'http://localhost:1/']) assert.doesNotThrow(() => provider.checkRegistryUrl(new URL(ok)), ok);
  for (const bad of ['http://example.invalid/api', 'ws://127.0.0.1:1/']) {
    assert.throws(() => provider.checkRegistryUrl(new URL(bad)), { message: DIRECT_HTTPS_RULE_MESSAGE }, bad);
  }
  for (const ok of ['wss://example.com/ws', 'ws://127.0.0.1:1/ws']) assert.doesNotThrow(() => checkDirectWebSocketUrl(new URL(ok)), ok);
  for (const bad of ['ws://example.invalid/ws', 'http://127.0.0.1:1/']) assert.throws(() => checkDirectWebSocketUrl(new URL(bad)), { message: DIRECT_WSS_RULE_MESSAGE }, bad);
});
