/**
 * exec-desk's providers against `codex exec-server --remote` 0.169.0: the same auth setup is
 * given to both, and the auth headers the reference sent to the (fake) registry — and, for the
 * ChatGPT login, its token refresh request — must equal what our providers produce.
 * Loopback only; skipped when the reference binary is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verify } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { FakeRegistry, type RecordedRequest } from '../../testkit/remote/fake-registry.ts';
import { TEST_CA_PEM } from '../../core/http/test-certs.ts';
import { AuthError, type AuthProvider, type AuthSelection } from './auth-provider.ts';
import { createAuthProvider } from './create-auth-provider.ts';
import { API_KEY_HOST_REFUSED, HTTPS_OR_LOOPBACK_RULE_MESSAGE } from './registry-url.ts';
import { PIPE_CLOSED_MESSAGE } from './executor-credential-provider.ts';
import { chatgptAccessToken, chatgptIdToken, context, NO_FLAGS, tempHome } from './testing/fixtures.ts';
import { launchReferenceWithAuth, referenceAvailable, waitFor } from './testing/reference-auth-launcher.ts';
import { startRecordingServer, type Recorded } from './testing/registry-probe.ts';
import { agentIdentityFixture } from './testing/agent-identity-fixture.ts';
import { sealTaskId } from './testing/seal-task-id.ts';
import { SigV4Provider } from './sigv4-provider.ts';

const skip = referenceAvailable() ? false : 'reference binary not installed';
const ENV_ID = 'parity-env';

/** The auth headers of a request the reference sent: those between content-type and accept (§2.2). */
function referenceAuthHeaders(request: RecordedRequest | Recorded): Array<[string, string]> {
  const names = request.headers.map(([name]) => name);
  assert.equal(names[0], 'content-type');
  return request.headers.slice(1, names.indexOf('accept'));
}

async function ours(selection: AuthSelection, setup: { env?: NodeJS.ProcessEnv; stdin?: PassThrough; registryUrl: string; files?: Record<string, string> }) {
  const home = await tempHome();
  for (const [name, content] of Object.entries(setup.files ?? {})) await writeFile(join(home.dir, name), content.replaceAll('{home}', home.dir), { mode: 0o600 });
  const registryUrl = new URL(setup.registryUrl);
  const provider = await createAuthProvider(
    selection,
    context(home.dir, { env: setup.env ?? {}, stdin: setup.stdin ?? new PassThrough(), registryUrl, environmentId: ENV_ID }),
  ).catch(async (err) => {
    await home.cleanup();
    throw err;
  });
  try {
    provider.checkRegistryUrl(registryUrl);
  } catch (err) {
    provider.close();
    await home.cleanup();
    throw err;
  }
  const url = new URL(`${registryUrl.href.replace(/\/+$/, '')}/cloud/environment/${ENV_ID}/register`);
  return { provider, home, headers: () => provider.headers({ url, method: 'POST', body: new Uint8Array() }) };
}

async function referenceRegistration(registry: FakeRegistry, options: Parameters<typeof launchReferenceWithAuth>[0], stdin?: string) {
  const ref = launchReferenceWithAuth(options);
  if (stdin !== undefined) ref.child.stdin!.write(stdin);
  const register = await waitFor('the reference registration', () => registry.registrations(ENV_ID).at(-1)).catch((err) => {
    throw new Error(`${err.message}; reference stderr: ${ref.stderr().slice(-600)}`);
  });
  return { ref, register };
}

test('(a) CODEX_API_KEY', { skip }, async () => {
  const registry = await FakeRegistry.start();
  try {
    const { ref, register } = await referenceRegistration(registry, { registryUrl: registry.baseUrl, environmentId: ENV_ID, env: { CODEX_API_KEY: '  sk-parity ' } });
    await ref.stop();
    const mine = await ours(NO_FLAGS, { env: { CODEX_API_KEY: '  sk-parity ' }, registryUrl: registry.baseUrl });
    assert.deepEqual(await mine.headers(), referenceAuthHeaders(register));
    assert.deepEqual(referenceAuthHeaders(register), [['authorization', 'Bearer sk-parity']]);
    await mine.home.cleanup();
  } finally {
    await registry.close();
  }
});

test('(a′) API key to a non-openai host: the same refusal, and no request', { skip }, async () => {
  const server = await startRecordingServer();
  try {
    const registryUrl = `http://0.0.0.0:${server.port}/api`;
    const ref = launchReferenceWithAuth({ registryUrl, environmentId: ENV_ID, env: { CODEX_API_KEY: 'sk' } });
    assert.equal(await ref.exited, 1);
    assert.match(ref.stderr(), new RegExp(`Error: ${API_KEY_HOST_REFUSED.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await ref.stop();
    await assert.rejects(ours(NO_FLAGS, { env: { CODEX_API_KEY: 'sk' }, registryUrl }), (err: unknown) => err instanceof AuthError && err.message === API_KEY_HOST_REFUSED);
    assert.equal(server.seen.length, 0);
  } finally {
    await server.close();
  }
});

test('(b) ChatGPT auth.json expiring in 2 min: same refresh request, same headers, same write-back', { skip }, async () => {
  const registry = await FakeRegistry.start();
  const tokenEndpoint = await startRecordingServer();
  const nowS = Math.floor(Date.now() / 1000);
  const refreshed = { id_token: chatgptIdToken('acct-parity'), access_token: chatgptAccessToken('acct-parity', nowS + 7200), refresh_token: 'rt-after' };
  tokenEndpoint.answer = () => ({ status: 200, body: refreshed });
  const authJson = JSON.stringify({
    auth_mode: 'chatgpt',
    OPENAI_API_KEY: null,
    tokens: { id_token: chatgptIdToken('acct-parity'), access_token: chatgptAccessToken('acct-parity', nowS + 120), refresh_token: 'rt-before', account_id: 'acct-parity' },
    last_refresh: '2026-01-01T00:00:00Z',
  });
  const env = { CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${tokenEndpoint.url}/oauth/token` };
  try {
    const { ref, register } = await referenceRegistration(registry, { registryUrl: registry.baseUrl, environmentId: ENV_ID, env, files: { 'auth.json': authJson } });
    const refWritten = JSON.parse(await readFile(join(ref.home, 'auth.json'), 'utf8'));
    await ref.stop();
    assert.ok(tokenEndpoint.seen.length >= 1, 'the reference refreshed');
    const referenceRefresh = tokenEndpoint.seen[0]!;
    const referenceCount = tokenEndpoint.seen.length;

    const mine = await ours(NO_FLAGS, { env, registryUrl: registry.baseUrl, files: { 'auth.json': authJson } });
    const headers = await mine.headers();
    assert.equal(tokenEndpoint.seen.length, referenceCount + 1, 'one refresh');
    const myRefresh = tokenEndpoint.seen.at(-1)!;
    assert.equal(myRefresh.method, referenceRefresh.method);
    assert.equal(myRefresh.url, referenceRefresh.url);
    assert.deepEqual(myRefresh.headers, referenceRefresh.headers);
    assert.equal(myRefresh.body, referenceRefresh.body);
    assert.match(myRefresh.body, /"refresh_reason":"proactive_expiry"/);

    assert.deepEqual(headers, referenceAuthHeaders(register));
    assert.deepEqual(headers, [['authorization', `Bearer ${refreshed.access_token}`], ['chatgpt-account-id', 'acct-parity']]);

    const myWritten = JSON.parse(await readFile(join(mine.home.dir, 'auth.json'), 'utf8'));
    assert.deepEqual(myWritten.tokens, refWritten.tokens);
    assert.equal(typeof refWritten.last_refresh, 'string');
    assert.equal(typeof myWritten.last_refresh, 'string');
    await mine.home.cleanup();
  } finally {
    await tokenEndpoint.close();
    await registry.close();
  }
});

test('(b′) ChatGPT login, registry 401: same forced refresh request, retry with the new token', { skip }, async () => {
  const nowS = Math.floor(Date.now() / 1000);
  const refreshed = { id_token: chatgptIdToken('acct-forced'), access_token: chatgptAccessToken('acct-forced', nowS + 7200), refresh_token: 'rt-forced-after' };
  // The registry accepts only the refreshed token: the first registration gets a 401.
  const registry = await FakeRegistry.start({ executorToken: refreshed.access_token });
  const tokenEndpoint = await startRecordingServer();
  tokenEndpoint.answer = () => ({ status: 200, body: refreshed });
  const authJson = JSON.stringify({
    auth_mode: 'chatgpt',
    OPENAI_API_KEY: null,
    tokens: { id_token: chatgptIdToken('acct-forced'), access_token: chatgptAccessToken('acct-forced', nowS + 3600), refresh_token: 'rt-forced-before', account_id: 'acct-forced' },
    last_refresh: '2026-01-01T00:00:00Z',
  });
  const env = { CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${tokenEndpoint.url}/oauth/token` };
  try {
    const ref = launchReferenceWithAuth({ registryUrl: registry.baseUrl, environmentId: ENV_ID, env, files: { 'auth.json': authJson } });
    await registry.waitForExecutor(ENV_ID).catch((err) => {
      throw new Error(`${err.message}; reference stderr: ${ref.stderr().slice(-600)}`);
    });
    await ref.stop();
    const [first, retry] = registry.registrations(ENV_ID);
    assert.ok(first && retry);
    assert.equal(tokenEndpoint.seen.length, 1);
    const referenceRefresh = tokenEndpoint.seen[0]!;
    assert.match(referenceRefresh.body, /"refresh_reason":"forced","refresh_token":"rt-forced-before"}$/);

    const mine = await ours(NO_FLAGS, { env, registryUrl: registry.baseUrl, files: { 'auth.json': authJson } });
    assert.deepEqual(await mine.headers(), referenceAuthHeaders(first));
    assert.equal(await mine.provider.refreshAfterUnauthorized(), true);
    const myRefresh = tokenEndpoint.seen[1]!;
    assert.deepEqual(myRefresh.headers, referenceRefresh.headers);
    assert.equal(myRefresh.body, referenceRefresh.body);
    assert.deepEqual(await mine.headers(), referenceAuthHeaders(retry));
    assert.equal(await mine.provider.refreshAfterUnauthorized(), false, 'a second 401 is final');
    await mine.home.cleanup();
  } finally {
    await tokenEndpoint.close();
    await registry.close();
  }
});

test('(c) --registration-bearer-stdin', { skip }, async () => {
  const registry = await FakeRegistry.start();
  try {
    const line = 'reg.bearer-parity_1~/+=\r\n';
    const { ref, register } = await referenceRegistration(
      registry,
      { registryUrl: registry.baseUrl, environmentId: ENV_ID, flags: ['--registration-bearer-stdin'], env: { CODEX_API_KEY: 'sk-ignored' } },
      line,
    );
    await ref.stop();
    const stdin = new PassThrough();
    stdin.write(line);
    const mine = await ours({ ...NO_FLAGS, registrationBearerStdin: true }, { env: { CODEX_API_KEY: 'sk-ignored' }, stdin, registryUrl: registry.baseUrl });
    assert.deepEqual(await mine.headers(), referenceAuthHeaders(register));
    await mine.home.cleanup();
  } finally {
    await registry.close();
  }
});

test('(d) --executor-credential-stdin: same header, and EOF ends both with code 0', { skip }, async () => {
  const registry = await FakeRegistry.start();
  try {
    const frame = `${JSON.stringify({ version: 1, token: 'exec-cred-parity', environment_id: ENV_ID, expires_at: Math.floor(Date.now() / 1000) + 3600 })}\n`;
    const { ref, register } = await referenceRegistration(
      registry,
      { registryUrl: registry.baseUrl, environmentId: ENV_ID, flags: ['--executor-credential-stdin'] },
      frame,
    );
    await registry.waitForExecutor(ENV_ID);
    ref.child.stdin!.end();
    assert.equal(await ref.exited, 0);
    await ref.stop();

    const stdin = new PassThrough();
    stdin.write(frame);
    const mine = await ours({ ...NO_FLAGS, executorCredentialStdin: true }, { stdin, registryUrl: registry.baseUrl });
    assert.deepEqual(await mine.headers(), referenceAuthHeaders(register));
    stdin.end();
    assert.deepEqual(await (mine.provider as AuthProvider).ended, { code: 0 });
    await mine.home.cleanup();
  } finally {
    await registry.close();
  }
});

test('(d′) --executor-credential-stdin closed before the first frame: exit 1, same text', { skip }, async () => {
  const ref = launchReferenceWithAuth({ registryUrl: 'http://127.0.0.1:9/api', environmentId: ENV_ID, flags: ['--executor-credential-stdin'] });
  ref.child.stdin!.end();
  assert.equal(await ref.exited, 1);
  assert.match(ref.stderr(), new RegExp(`Error: ${PIPE_CLOSED_MESSAGE}`));
  await ref.stop();
  const stdin = new PassThrough();
  stdin.end();
  await assert.rejects(ours({ ...NO_FLAGS, executorCredentialStdin: true }, { stdin, registryUrl: 'http://127.0.0.1:9/api' }), {
    message: PIPE_CLOSED_MESSAGE,
  });
});

test('(e) --chatgpt-token-stdin: same policy request and registry headers (HTTPS, test CA)', { skip }, async () => {
  const server = await startRecordingServer({ tls: true });
  server.answer = (req) => (req.url.startsWith('/backend-api/') ? { status: 200, body: {} } : { status: 401, body: { error: { code: 'x', message: 'no' } } });
  const caDir = await tempHome();
  const caFile = join(caDir.dir, 'ca.pem');
  await writeFile(caFile, TEST_CA_PEM);
  const token = chatgptAccessToken('acct-token-stdin', 9_999_999_999);
  const files = { 'config.toml': `chatgpt_base_url = "${server.url}/backend-api/"\n` };
  const env = { SSL_CERT_FILE: caFile };
  try {
    const registryUrl = `${server.url}/api`;
    const ref = launchReferenceWithAuth({ registryUrl, environmentId: ENV_ID, flags: ['--chatgpt-token-stdin'], files, env });
    ref.child.stdin!.write(`${token}\n`);
    assert.equal(await ref.exited, 1, 'the registry answers 401');
    assert.match(ref.stderr(), /authentication failed \(401 Unauthorized\): response body omitted/);
    await ref.stop();
    const [referencePolicy, referenceRegister] = server.seen;
    assert.ok(referencePolicy && referenceRegister, `reference requests: ${server.seen.map((r) => r.url).join(', ')}`);
    assert.equal(referencePolicy.url, '/backend-api/wham/config/bundle');

    const stdin = new PassThrough();
    stdin.write(`${token}\n`);
    const mine = await ours({ ...NO_FLAGS, chatgptTokenStdin: true }, { env, stdin, registryUrl, files });
    const myPolicy = server.seen[2]!;
    assert.equal(myPolicy.method, referencePolicy.method);
    assert.equal(myPolicy.url, referencePolicy.url);
    assert.deepEqual(myPolicy.headers, referencePolicy.headers);
    assert.deepEqual(await mine.headers(), referenceAuthHeaders(referenceRegister));
    assert.deepEqual(referenceAuthHeaders(referenceRegister), [['authorization', `Bearer ${token}`], ['chatgpt-account-id', 'acct-token-stdin']]);
    assert.equal(mine.provider.omitsRegistryErrorBody, true);
    await mine.home.cleanup();
  } finally {
    await server.close();
    await caDir.cleanup();
  }
});

test('(f) --use-agent-identity-auth: same JWKS and task requests, same assertion shape (sealed task id)', { skip }, async () => {
  const registry = await FakeRegistry.start();
  const f = await agentIdentityFixture();
  f.answers.task = { status: 200, body: { encrypted_task_id: sealTaskId('task-sealed-parity', f.agentKey.privateKey) } };
  const env = { ...f.env, CODEX_ACCESS_TOKEN: await f.token() };
  const decode = (headers: Array<[string, string]>) => {
    const [scheme, encoded] = headers[0]![1].split(' ');
    return { scheme, encoded: encoded!, envelope: JSON.parse(Buffer.from(encoded!, 'base64url').toString('utf8')) };
  };
  const verifies = (message: string, signature: string) => verify(null, Buffer.from(message), f.agentKey.publicKey, Buffer.from(signature, 'base64'));
  try {
    const { ref, register } = await referenceRegistration(registry, { registryUrl: registry.baseUrl, environmentId: ENV_ID, flags: ['--use-agent-identity-auth'], env });
    await ref.stop();
    const [refJwks, refTask] = f.server.seen;
    assert.equal(f.server.seen.length, 2);

    const mine = await ours({ ...NO_FLAGS, useAgentIdentityAuth: true }, { env, registryUrl: registry.baseUrl });
    const [myJwks, myTask] = f.server.seen.slice(2);
    assert.equal(myJwks!.url, refJwks!.url);
    assert.deepEqual(myJwks!.headers, refJwks!.headers);
    assert.equal(myTask!.url, refTask!.url);
    assert.deepEqual(myTask!.headers, refTask!.headers);
    for (const task of [refTask!, myTask!]) {
      const body = JSON.parse(task.body);
      assert.deepEqual(Object.keys(body), ['timestamp', 'signature']);
      assert.ok(verifies(`runtime-1:${body.timestamp}`, body.signature));
    }

    const refHeaders = referenceAuthHeaders(register);
    const myHeaders = await mine.headers();
    assert.deepEqual(myHeaders.map(([n]) => n), refHeaders.map(([n]) => n));
    assert.equal(myHeaders[1]![1], refHeaders[1]![1]);
    const theirs = decode(refHeaders);
    const mineDecoded = decode(myHeaders);
    assert.equal(mineDecoded.scheme, theirs.scheme);
    assert.equal(/[=+/]/.test(mineDecoded.encoded), /[=+/]/.test(theirs.encoded));
    assert.deepEqual(Object.keys(mineDecoded.envelope), Object.keys(theirs.envelope));
    for (const { envelope } of [theirs, mineDecoded]) {
      assert.equal(envelope.task_id, 'task-sealed-parity');
      assert.equal(envelope.agent_runtime_id, 'runtime-1');
      assert.ok(verifies(`runtime-1:task-sealed-parity:${envelope.timestamp}`, envelope.signature));
    }
    await mine.home.cleanup();
  } finally {
    await f.close();
    await registry.close();
  }
});

test('(g) --remote-transport direct --aws-sigv4: identical signed registration and upgrade headers', { skip }, async () => {
  const server = await startRecordingServer();
  server.answer = (req) =>
    req.url.endsWith('/direct/register')
      ? { status: 200, body: { environment_id: ENV_ID, transport: 'direct_jsonrpc_v1', registration_id: 'r1', url: `ws://127.0.0.1:${server.port}/ws/${ENV_ID}?sig=abc&x=1` } }
      : { status: 404, body: {} };
  const env = { AWS_ACCESS_KEY_ID: 'AKIDPARITY', AWS_SECRET_ACCESS_KEY: 'parity/secret+key', AWS_SESSION_TOKEN: 'parity-session' };
  try {
    const registryUrl = `http://127.0.0.1:${server.port}/api/`;
    const ref = launchReferenceWithAuth({
      registryUrl,
      environmentId: ENV_ID,
      flags: ['--remote-transport', 'direct', '--aws-sigv4', '--aws-region', 'eu-west-3', '--aws-service', 'execute-api'],
      env,
    });
    assert.equal(await ref.exited, 1, 'the upgrade is refused');
    await ref.stop();
    const register = server.seen.find((r) => r.url.endsWith('/direct/register'))!;
    const upgrade = server.seen.find((r) => r.method === 'UPGRADE GET')!;
    assert.ok(register && upgrade, server.seen.map((r) => `${r.method} ${r.url}`).join(', '));
    const dateOf = (headers: Array<[string, string]>) => {
      const v = headers.find(([n]) => n === 'x-amz-date')![1];
      return new Date(`${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}T${v.slice(9, 11)}:${v.slice(11, 13)}:${v.slice(13, 15)}Z`);
    };
    const at = dateOf(register.headers);

    const mine = new SigV4Provider({ env: { ...env, HOME: '/nonexistent' }, profile: null, region: 'eu-west-3', service: 'execute-api', now: () => at });
    mine.checkRegistryUrl(new URL(registryUrl));
    const url = new URL(`http://127.0.0.1:${server.port}${register.url}`);
    assert.deepEqual(await mine.headers({ url, method: 'POST', body: Buffer.from(register.body) }), referenceAuthHeaders(register));

    const atUpgrade = dateOf(upgrade.headers);
    const mineAtUpgrade = new SigV4Provider({ env: { ...env, HOME: '/nonexistent' }, profile: null, region: 'eu-west-3', service: 'execute-api', now: () => atUpgrade });
    const refUpgradeAuth = upgrade.headers.filter(([n]) => n.startsWith('x-amz-') || n === 'authorization');
    assert.deepEqual(mineAtUpgrade.upgradeHeaders(new URL(`ws://127.0.0.1:${server.port}${upgrade.url}`)), refUpgradeAuth);
  } finally {
    await server.close();
  }
});

test('(h) stdin bearer and executor credential modes: the https-or-loopback rule, same text', { skip }, async () => {
  const frame = `${JSON.stringify({ version: 1, token: 't', environment_id: ENV_ID, expires_at: Math.floor(Date.now() / 1000) + 3600 })}\n`;
  const modes: Array<[string, string, Partial<AuthSelection>]> = [
    ['--registration-bearer-stdin', 'bearer\n', { registrationBearerStdin: true }],
    ['--executor-credential-stdin', frame, { executorCredentialStdin: true }],
  ];
  for (const [flag, line, selection] of modes) {
    const ref = launchReferenceWithAuth({ registryUrl: 'http://example.invalid/api', environmentId: ENV_ID, flags: [flag] });
    ref.child.stdin!.write(line);
    assert.equal(await ref.exited, 1, flag);
    const refError = ref.stderr().split('\n').find((l) => l.startsWith('Error: '));
    await ref.stop();
    const stdin = new PassThrough();
    stdin.write(line);
    await assert.rejects(ours({ ...NO_FLAGS, ...selection }, { stdin, registryUrl: 'http://example.invalid/api' }), (err: unknown) => {
      assert.ok(err instanceof AuthError);
      assert.equal(`Error: ${err.message}`, refError, flag);
      assert.equal(err.message, HTTPS_OR_LOOPBACK_RULE_MESSAGE);
      return true;
    });
  }
});
