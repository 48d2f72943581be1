import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verify } from 'node:crypto';
import { AuthError } from './auth-provider.ts';
import { createAuthProvider } from './create-auth-provider.ts';
import { ACCESS_TOKEN_REQUIRED_MESSAGE, AGENT_IDENTITY_UNAVAILABLE_MESSAGE } from './agent-identity-provider.ts';
import { codexUserAgent } from './codex-user-agent.ts';
import { context, fakeJwt, NO_FLAGS, tempHome } from './testing/fixtures.ts';
import { agentIdentityFixture, type AgentIdentityFixture } from './testing/agent-identity-fixture.ts';
import { sealTaskId } from './testing/seal-task-id.ts';

const FLAGS = { ...NO_FLAGS, useAgentIdentityAuth: true };
const REQUEST = { url: new URL('http://127.0.0.1:1/api/x'), method: 'POST' as const, body: new Uint8Array() };
const RFC3339_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

async function create(f: AgentIdentityFixture, env: Record<string, string>) {
  const home = await tempHome();
  try {
    return await createAuthProvider(FLAGS, context(home.dir, { env: { ...f.env, ...env } }));
  } finally {
    await home.cleanup();
  }
}

function verifies(f: AgentIdentityFixture, message: string, signatureBase64: string): boolean {
  return verify(null, Buffer.from(message), f.agentKey.publicKey, Buffer.from(signatureBase64, 'base64'));
}

test('JWKS, signed task registration, then AgentAssertion + chatgpt-account-id (wins over CODEX_API_KEY)', async () => {
  const f = await agentIdentityFixture();
  try {
    const provider = await create(f, { CODEX_ACCESS_TOKEN: await f.token(), CODEX_API_KEY: 'sk-loses' });
    assert.equal(provider.method, 'agent-identity');
    const [jwks, task] = f.server.seen;
    assert.equal(f.server.seen.length, 2);
    assert.equal(jwks!.method, 'GET');
    assert.equal(jwks!.url, '/jwks-base/agent-identities/jwks');
    assert.deepEqual(jwks!.headers.map(([n]) => n), ['originator', 'user-agent', 'accept', 'host']);
    assert.deepEqual(jwks!.headers.slice(0, 3), [['originator', 'codex_cli_rs'], ['user-agent', codexUserAgent({})], ['accept', '*/*']]);

    assert.equal(task!.method, 'POST');
    assert.equal(task!.url, '/authapi/v1/agent/runtime-1/task/register');
    assert.deepEqual(task!.headers.map(([n]) => n), ['content-type', 'originator', 'user-agent', 'accept', 'host', 'content-length']);
    const taskBody = JSON.parse(task!.body);
    assert.deepEqual(Object.keys(taskBody), ['timestamp', 'signature']);
    assert.match(taskBody.timestamp, RFC3339_SECONDS);
    assert.ok(verifies(f, `runtime-1:${taskBody.timestamp}`, taskBody.signature), 'task registration signature');

    const headers = await provider.headers(REQUEST);
    assert.deepEqual(headers.map(([n]) => n), ['authorization', 'chatgpt-account-id']);
    assert.equal(headers[1]![1], 'acct-agent');
    const [scheme, encoded] = headers[0]![1].split(' ');
    assert.equal(scheme, 'AgentAssertion');
    assert.doesNotMatch(encoded!, /[=+/]/, 'base64url without padding');
    const envelope = JSON.parse(Buffer.from(encoded!, 'base64url').toString('utf8'));
    assert.deepEqual(Object.keys(envelope), ['agent_runtime_id', 'signature', 'task_id', 'timestamp']);
    assert.equal(envelope.agent_runtime_id, 'runtime-1');
    assert.equal(envelope.task_id, 'task-42');
    assert.match(envelope.timestamp, RFC3339_SECONDS);
    assert.ok(verifies(f, `runtime-1:task-42:${envelope.timestamp}`, envelope.signature), 'assertion signature');
    // The same assertion for every request; a 401 is final.
    assert.deepEqual(await provider.headers(REQUEST), headers);
    assert.equal(await provider.refreshAfterUnauthorized(), false);
    assert.equal(f.server.seen.length, 2);
  } finally {
    await f.close();
  }
});

test('task id variants: taskId and a sealed encrypted_task_id', async () => {
  const f = await agentIdentityFixture();
  try {
    const token = await f.token();
    for (const [body, expected] of [
      [{ taskId: 'camel-task' }, 'camel-task'],
      [{ encrypted_task_id: sealTaskId('sealed-task', f.agentKey.privateKey) }, 'sealed-task'],
      [{ encryptedTaskId: sealTaskId('sealed-camel', f.agentKey.privateKey) }, 'sealed-camel'],
    ] as const) {
      f.answers.task = { status: 200, body };
      const provider = await create(f, { CODEX_ACCESS_TOKEN: token });
      const envelope = JSON.parse(Buffer.from((await provider.headers(REQUEST))[0]![1].split(' ')[1]!, 'base64url').toString());
      assert.equal(envelope.task_id, expected);
    }
  } finally {
    await f.close();
  }
});

test('errors: missing env, bad tokens (no request), verification failures, task failures', async () => {
  const f = await agentIdentityFixture();
  try {
    await assert.rejects(create(f, {}), (err: unknown) => err instanceof AuthError && err.message === ACCESS_TOKEN_REQUIRED_MESSAGE && err.kind === 'config');

    const unavailable = (err: unknown) => err instanceof AuthError && err.message === AGENT_IDENTITY_UNAVAILABLE_MESSAGE;
    // Rejected before any request: not a JWT, no kid, a claim missing or mistyped.
    const before = [
      'abc',
      fakeJwt({ iss: 'x' }),
      await f.token({ kid: null }),
      await f.token({ claims: { agent_private_key: null } }),
      await f.token({ claims: { chatgpt_account_is_fedramp: 'no' } }),
    ];
    for (const token of before) await assert.rejects(create(f, { CODEX_ACCESS_TOKEN: token }), unavailable);
    assert.equal(f.server.seen.length, 0);

    // Rejected after the JWKS: issuer, audience, expiry, unknown kid, unusable private key.
    const afterJwks = [
      await f.token({ iss: 'https://evil.example/' }),
      await f.token({ aud: 'other' }),
      await f.token({ exp: 1000 }),
      await f.token({ kid: 'kid-unknown' }),
      await f.token({ claims: { agent_private_key: 'AAAA' } }),
    ];
    for (const token of afterJwks) {
      f.server.seen.length = 0;
      await assert.rejects(create(f, { CODEX_ACCESS_TOKEN: token }), unavailable);
      assert.deepEqual(f.server.seen.map((r) => r.url), ['/jwks-base/agent-identities/jwks']);
    }

    const token = await f.token();
    // JWKS endpoint failing.
    const jwks = f.answers.jwks;
    for (const answer of [{ status: 500, body: 'oops' }, { status: 200, body: 'not json' }]) {
      f.answers.jwks = answer;
      await assert.rejects(create(f, { CODEX_ACCESS_TOKEN: token }), unavailable);
    }
    f.answers.jwks = jwks;

    // Task registration: 5xx and 429 are tried three times in all, 4xx once, a body without an id fails.
    for (const [status, body, attempts] of [[500, {}, 3], [429, {}, 3], [400, {}, 1], [200, {}, 1], [200, { encrypted_task_id: 'AAAA' }, 1]] as const) {
      f.server.seen.length = 0;
      f.answers.task = { status, body };
      await assert.rejects(create(f, { CODEX_ACCESS_TOKEN: token }), unavailable, `task ${status}`);
      assert.equal(f.server.seen.filter((r) => r.url.includes('/task/register')).length, attempts, `task ${status}`);
    }
  } finally {
    await f.close();
  }
});

test('FedRAMP accounts default to the FedRAMP authapi; the env override still wins', async () => {
  const f = await agentIdentityFixture();
  try {
    await create(f, { CODEX_ACCESS_TOKEN: await f.token({ claims: { chatgpt_account_is_fedramp: true } }) });
    assert.equal(f.server.seen.at(-1)!.url, '/authapi/v1/agent/runtime-1/task/register');
  } finally {
    await f.close();
  }
});
