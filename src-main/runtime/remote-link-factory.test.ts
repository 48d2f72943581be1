/**
 * The settings-driven remote link in a real ExecutorRuntime against the FakeRegistry (loopback):
 * a stored API key registers and serves a harness stream; refused hosts and missing sign-ins end
 * in a visible state with the reference binary's text, never in a throw; ChatGPT sign-in sends
 * the auth.json headers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegistrationStatus } from '../control/contract.ts';
import { silentLogger } from '../core/log.ts';
import { ACCESS_TOKEN_REQUIRED_MESSAGE } from '../remote/auth/agent-identity-provider.ts';
import { NO_LOGIN_MESSAGE } from '../remote/auth/create-auth-provider.ts';
import { API_KEY_HOST_REFUSED } from '../remote/auth/registry-url.ts';
import { chatgptAccessToken, chatgptIdToken, tempHome, writeJson } from '../remote/auth/testing/fixtures.ts';
import { FakeDirectRegistry } from '../testkit/remote/fake-direct-registry.ts';
import { FakeRegistry } from '../testkit/remote/fake-registry.ts';
import { NoiseHarness, runProcess } from '../testkit/remote/harness-client.ts';
import { ExecutorRuntime } from './executor-runtime.ts';
import { settingsRemoteLinkFactory } from './remote-link-factory.ts';
import { SettingsStore } from './settings-store.ts';
import { testSecretBox, until } from './test-support.ts';

const STORED_KEY = 'sk-stored-in-settings';

function runtimeWith(patch: Record<string, unknown>, env: NodeJS.ProcessEnv) {
  const settings = new SettingsStore({ dir: null, secretBox: testSecretBox });
  settings.update(patch);
  const fatals: unknown[] = [];
  const runtime = new ExecutorRuntime({
    host: 'desktop',
    version: '0',
    settings,
    logSink: silentLogger,
    createRemoteLink: settingsRemoteLinkFactory({ env }),
    onRemoteFatal: (fatal) => fatals.push(fatal),
  });
  const status = () => runtime.snapshot().registration.status;
  const reaches = (wanted: RegistrationStatus) => until(() => status() === wanted, `registration ${wanted} (now ${status()})`, 15_000);
  return { runtime, fatals, status, reaches };
}

test('an API key entered in the settings: registers, serves a harness stream; the runtime shows stream, session and process', { timeout: 60_000 }, async () => {
  const registry = await FakeRegistry.start({ executorToken: STORED_KEY });
  // CODEX_API_KEY is there too: the stored key wins.
  const { runtime, reaches } = runtimeWith(
    { apiKey: STORED_KEY, remote: { registryUrl: registry.baseUrl, environmentId: 'env-settings', name: 'laptop', authMethod: 'api-key' } },
    { CODEX_API_KEY: 'sk-from-env' },
  );
  let harness: NoiseHarness | null = null;
  try {
    assert.equal(runtime.connectRemote().status, 'registering');
    await registry.waitForExecutor('env-settings');
    await reaches('online');
    const registration = runtime.snapshot().registration;
    assert.deepEqual([registration.environmentId, registration.name, registration.authMethod], ['env-settings', 'laptop', 'api-key']);
    assert.match(registration.registrationId ?? '', /\S/);
    const register = registry.requests.find((r) => r.endpoint === 'register')!;
    assert.equal(register.headers.find(([n]) => n === 'authorization')?.[1], `Bearer ${STORED_KEY}`);

    harness = await NoiseHarness.connect({ registryUrl: registry.baseUrl, environmentId: 'env-settings' });
    const stream = await harness.openStream();
    const { sessionId } = await stream.initialize('factory-test');
    assert.deepEqual(await runProcess(stream, 'p1', ['/bin/echo', 'served-by-the-runtime']), { stdout: 'served-by-the-runtime\n', exitCode: 0 });
    await until(() => runtime.snapshot().streams.some((s) => s.streamId === stream.streamId && s.sessionId === sessionId), 'the stream with its session');
    const snapshot = runtime.snapshot();
    assert.deepEqual(snapshot.sessions.find((s) => s.sessionId === sessionId)?.carrier, { kind: 'relay', streamId: stream.streamId });
    assert.ok(snapshot.processes.some((p) => p.sessionId === sessionId && p.processId === 'p1'));
    assert.ok(!JSON.stringify(snapshot).includes(STORED_KEY), 'the key is in no state and no log line');

    const closed = registry.executorClosed('env-settings');
    assert.equal((await runtime.disconnectRemote()).status, 'stopped');
    await closed;
  } finally {
    harness?.close();
    await runtime.shutdown();
    await registry.close();
  }
});

test('an API key with a host the key may not go to: state error with the binary text, nothing sent, no crash', async () => {
  const { runtime, fatals, reaches } = runtimeWith(
    { apiKey: STORED_KEY, remote: { registryUrl: 'https://registry.example.com/api', environmentId: 'env-x' } },
    {},
  );
  try {
    runtime.connectRemote();
    await reaches('error');
    assert.equal(runtime.snapshot().registration.lastError, API_KEY_HOST_REFUSED);
    assert.deepEqual(fatals, [], 'a settings-driven link never ends the host');
    const errors = runtime.snapshot().logs.filter((l) => l.level === 'error');
    assert.deepEqual(
      errors.map((l) => [l.message, l.fields?.error]),
      [['remote link failed', API_KEY_HOST_REFUSED]],
      'the failure is logged once, with its text',
    );
  } finally {
    await runtime.shutdown();
  }
});

test('no credential anywhere: auth_needed with the binary text; after `codex login` (auth.json) Connect again goes online', { timeout: 60_000 }, async () => {
  const registry = await FakeRegistry.start({ executorToken: 'sk-from-auth-json' });
  const home = await tempHome();
  const { runtime, reaches, status } = runtimeWith({ remote: { registryUrl: registry.baseUrl, environmentId: 'env-login' } }, { CODEX_HOME: home.dir });
  try {
    runtime.connectRemote();
    await reaches('auth_needed');
    assert.equal(runtime.snapshot().registration.lastError, NO_LOGIN_MESSAGE);
    assert.equal(registry.requests.length, 0);

    await writeJson(join(home.dir, 'auth.json'), { OPENAI_API_KEY: 'sk-from-auth-json', tokens: null });
    runtime.connectRemote();
    await registry.waitForExecutor('env-login');
    await reaches('online');
    assert.equal(status(), 'online');
  } finally {
    await runtime.shutdown();
    await registry.close();
    await home.cleanup();
  }
});

test('ChatGPT sign-in: the auth.json tokens and account id reach the registry, even with CODEX_API_KEY set', { timeout: 60_000 }, async () => {
  const access = chatgptAccessToken('acct-42', Math.floor(Date.now() / 1000) + 3600);
  const registry = await FakeRegistry.start({ executorToken: access });
  const home = await tempHome();
  await writeJson(join(home.dir, 'auth.json'), {
    auth_mode: 'chatgpt',
    OPENAI_API_KEY: null,
    tokens: { id_token: chatgptIdToken('acct-42'), access_token: access, refresh_token: 'rt-0', account_id: 'acct-42' },
    last_refresh: new Date().toISOString(),
  });
  const { runtime, reaches } = runtimeWith(
    { remote: { registryUrl: registry.baseUrl, environmentId: 'env-chatgpt', authMethod: 'chatgpt' } },
    { CODEX_HOME: home.dir, CODEX_API_KEY: 'sk-not-this-one' },
  );
  try {
    runtime.connectRemote();
    await registry.waitForExecutor('env-chatgpt');
    await reaches('online');
    assert.equal(runtime.snapshot().registration.authMethod, 'chatgpt');
    const register = registry.requests.find((r) => r.endpoint === 'register')!;
    const names = register.headers.map(([n]) => n);
    assert.equal(register.headers.find(([n]) => n === 'authorization')?.[1], `Bearer ${access}`);
    assert.equal(register.headers.find(([n]) => n === 'chatgpt-account-id')?.[1], 'acct-42');
    assert.ok(names.indexOf('authorization') < names.indexOf('chatgpt-account-id'), names.join(','));
  } finally {
    await runtime.shutdown();
    await registry.close();
    await home.cleanup();
  }
});

test('ChatGPT mode without auth.json and opt-in Agent Identity without CODEX_ACCESS_TOKEN: auth_needed, the binary texts', async () => {
  const home = await tempHome();
  try {
    for (const [authMethod, text] of [
      ['chatgpt', NO_LOGIN_MESSAGE],
      ['agent-identity', ACCESS_TOKEN_REQUIRED_MESSAGE],
    ] as const) {
      const { runtime, reaches } = runtimeWith(
        { remote: { registryUrl: 'http://127.0.0.1:1/api', environmentId: 'env-none', authMethod } },
        { CODEX_HOME: home.dir, CODEX_API_KEY: 'sk-unused-here' },
      );
      try {
        runtime.connectRemote();
        await reaches('auth_needed');
        assert.equal(runtime.snapshot().registration.lastError, text);
        assert.equal(runtime.snapshot().registration.authMethod, authMethod);
      } finally {
        await runtime.shutdown();
      }
    }
  } finally {
    await home.cleanup();
  }
});

test('AWS SigV4 in the settings: the direct transport, signed with the profile, region and service set there', { timeout: 60_000 }, async () => {
  const registry = await FakeDirectRegistry.start();
  const home = await tempHome();
  // A named profile in the AWS files; the environment's keys would win over it, so there are none.
  await writeFile(join(home.dir, 'credentials'), '[desk]\naws_access_key_id = AKIDSETTINGS\naws_secret_access_key = settings/secret\n');
  const { runtime, reaches } = runtimeWith(
    { remote: { registryUrl: registry.baseUrl, environmentId: 'env-sigv4', authMethod: 'aws-sigv4', awsProfile: 'desk', awsRegion: 'eu-west-1', awsService: 'execute-api' } },
    { HOME: home.dir, CODEX_HOME: home.dir, AWS_SHARED_CREDENTIALS_FILE: join(home.dir, 'credentials'), AWS_CONFIG_FILE: join(home.dir, 'config') },
  );
  try {
    assert.equal(runtime.connectRemote().transport, 'direct');
    const peer = await registry.connection(0);
    await reaches('online');
    const registration = runtime.snapshot().registration;
    assert.deepEqual([registration.transport, registration.authMethod], ['direct', 'aws-sigv4']);
    const [register] = registry.registrations();
    assert.equal(register!.sigv4Problem, null);
    assert.match(register!.headers.find(([n]) => n === 'authorization')![1], /Credential=AKIDSETTINGS\/\d{8}\/eu-west-1\/execute-api\/aws4_request, /);

    const { sessionId } = await peer.initialize('settings-direct');
    const started = await peer.request('process/start', { processId: 'p1', argv: ['/bin/echo', 'direct-from-settings'], cwd: 'file:///tmp', env: {}, tty: false, arg0: null });
    assert.deepEqual(started.result, { processId: 'p1', sandboxType: 'none' });
    await peer.waitForNotification('process/closed', (p) => p.processId === 'p1');
    await until(() => runtime.snapshot().streams.some((s) => s.streamId === 'direct-1' && s.sessionId === sessionId), 'the direct connection with its session');
    assert.ok(runtime.snapshot().processes.some((p) => p.sessionId === sessionId && p.tail.includes('direct-from-settings')));
    assert.ok(!JSON.stringify(runtime.snapshot()).includes('settings/secret'), 'the secret key is in no state and no log line');
  } finally {
    await runtime.shutdown();
    await registry.close();
    await home.cleanup();
  }
});

test('a link that cannot be built ends in state error; Connect again retries with a fresh credential', async () => {
  const settings = new SettingsStore({ dir: null, secretBox: testSecretBox });
  settings.update({ apiKey: STORED_KEY, remote: { registryUrl: 'http://127.0.0.1:1/api', environmentId: 'env-broken' } });
  let builds = 0;
  const runtime = new ExecutorRuntime({
    host: 'desktop',
    version: '0',
    settings,
    logSink: silentLogger,
    createRemoteLink: settingsRemoteLinkFactory({
      env: {},
      createLink: () => {
        builds++;
        throw new Error('cannot build the link');
      },
    }),
  });
  try {
    runtime.connectRemote();
    await until(() => runtime.snapshot().registration.status === 'error', 'state error');
    assert.equal(runtime.snapshot().registration.lastError, 'cannot build the link');
    runtime.connectRemote();
    await until(() => builds === 2 && runtime.snapshot().registration.status === 'error', 'a second attempt');
  } finally {
    await runtime.shutdown();
  }
});
