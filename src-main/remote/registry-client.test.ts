/**
 * The registry client against the fake registry on loopback: request shape (URL, headers and
 * their order, body), answer mapping and the fatal texts (the expected strings are the ones
 * codex-cli 0.169.0 printed for the same answers), retries, refresh on 401, redirects, timeout.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRegistry, type HttpAnswer, type RecordedRequest } from '../testkit/remote/fake-registry.ts';
import { testAuthProvider } from '../testkit/remote/test-auth.ts';
import { generateIdentity, publicKeyOf, SECURITY_PROFILE } from '../transport/noise/hybrid-ik.ts';
import {
  parseErrorBody,
  registrationRetryDelayMs,
  registryEndpoint,
  RegistryClient,
  RegistryError,
  TIMEOUT_MESSAGE,
} from './registry-client.ts';

const identity = generateIdentity();
const key = publicKeyOf(identity);

async function withRegistry(
  intercept: (request: RecordedRequest) => HttpAnswer | undefined,
  run: (registry: FakeRegistry) => Promise<void>,
): Promise<void> {
  const registry = await FakeRegistry.start({ intercept });
  try {
    await run(registry);
  } finally {
    await registry.close();
  }
}

function client(registry: FakeRegistry, options: { environmentId?: string; token?: string; refreshTo?: string; timeoutMs?: number; omitsBody?: boolean } = {}) {
  const auth = Object.assign(testAuthProvider(options.token ?? 'sk-test', { refreshTo: options.refreshTo }), { omitsRegistryErrorBody: options.omitsBody ?? false });
  const sleeps: number[] = [];
  const registryClient = new RegistryClient({
    registryUrl: `  ${registry.baseUrl}//  `,
    environmentId: options.environmentId ?? ' env-a ',
    auth,
    timeoutMs: options.timeoutMs,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { registryClient, auth, sleeps };
}

describe('registry URLs', () => {
  test('base trimmed and stripped of trailing slashes; the id trimmed and interpolated raw', () => {
    assert.equal(registryEndpoint(' http://h:1/api/ ', ' env ', 'register').href, 'http://h:1/api/cloud/environment/env/register');
    assert.equal(registryEndpoint('http://h:1/api', 'env', 'validate').href, 'http://h:1/api/cloud/environment/env/validate');
    assert.equal(registryEndpoint('http://h:1', 'env/slash', 'register').pathname, '/cloud/environment/env/slash/register');
    const query = registryEndpoint('http://h:1', 'env?q=1', 'register');
    assert.equal(query.pathname, '/cloud/environment/env');
    assert.equal(query.search, '?q=1/register');
    assert.equal(registryEndpoint('http://h:1', 'ünï', 'register').pathname, '/cloud/environment/%C3%BCn%C3%AF/register');
  });

  test('the retry delay: base doubles from 500 ms to 5 s, jitter up to half of it', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map((a) => registrationRetryDelayMs(a, () => 0)), [500, 1000, 2000, 4000, 5000, 5000, 5000]);
    assert.deepEqual([0, 4].map((a) => registrationRetryDelayMs(a, () => 0.999999)), [750, 7500]);
  });

  test('error bodies: error, then detail envelope, then the trimmed body', () => {
    assert.deepEqual(parseErrorBody(Buffer.from('{"error":{"code":"c","message":"m"}}')), { code: 'c', message: 'm' });
    assert.deepEqual(parseErrorBody(Buffer.from('{"detail":{"code":"d","message":"n"}}')), { code: 'd', message: 'n' });
    assert.deepEqual(parseErrorBody(Buffer.from('{"error":{"message":"only"}}')), { code: null, message: 'only' });
    assert.deepEqual(parseErrorBody(Buffer.from('  text  ')), { code: null, message: 'text' });
    assert.deepEqual(parseErrorBody(Buffer.from('')), { code: null, message: 'empty or malformed error body' });
    assert.equal(parseErrorBody(Buffer.from('x'.repeat(5000))).message.length, 4096);
  });
});

describe('register', () => {
  test('sends the reference request and returns the registration', async () => {
    await withRegistry(() => undefined, async (registry) => {
      const { registryClient } = client(registry);
      const registration = await registryClient.register(key);
      assert.equal(registration.environmentId, 'env-a');
      assert.match(registration.url, /^ws:\/\/127\.0\.0\.1:\d+\/rendezvous\/env-a\?role=environment&sig=/);
      assert.match(registration.registrationId, /^reg-/);
      const [request] = registry.requests;
      assert.equal(request!.url, '/api/cloud/environment/env-a/register');
      assert.deepEqual(request!.headers.map(([name]) => name), ['content-type', 'authorization', 'accept', 'host', 'content-length']);
      assert.deepEqual(request!.headers.slice(0, 3), [['content-type', 'application/json'], ['authorization', 'Bearer sk-test'], ['accept', '*/*']]);
      assert.deepEqual(Object.keys(request!.body), ['security_profile', 'executor_public_key']);
      assert.equal(request!.body.security_profile, SECURITY_PROFILE);
      assert.deepEqual(Object.keys(request!.body.executor_public_key), ['suite', 'x25519_public_key', 'mlkem768_public_key']);
      assert.equal(request!.body.executor_public_key.x25519_public_key.length, 44);
      assert.equal(request!.body.executor_public_key.mlkem768_public_key.length, 1580);
      assert.equal(request!.rawBody.length, 1792);
    });
  });

  // status/body → the text 0.169.0 exits with (probed on the binary with the same answers)
  const fatal: Array<[string, HttpAnswer | ((env: string) => HttpAnswer), string]> = [
    ['400 with code', { status: 400, body: { error: { code: 'bad', message: 'bad thing' } } }, 'environment registry request failed (400 Bad Request, bad): bad thing'],
    ['detail envelope', { status: 400, body: { detail: { code: 'dc', message: 'detail msg' } } }, 'environment registry request failed (400 Bad Request, dc): detail msg'],
    ['no code', { status: 400, body: { error: { message: 'only message' } } }, 'environment registry request failed (400 Bad Request): only message'],
    ['plain text', { status: 400, body: '  plain text body  ' }, 'environment registry request failed (400 Bad Request): plain text body'],
    ['other JSON', { status: 400, body: { detail: 'a string detail' } }, 'environment registry request failed (400 Bad Request): {"detail":"a string detail"}'],
    ['empty', { status: 400 }, 'environment registry request failed (400 Bad Request): empty or malformed error body'],
    ['503 other code', { status: 503, body: { error: { code: 'other', message: 'busy' } } }, 'environment registry request failed (503 Service Unavailable, other): busy'],
    ['unknown status', { status: 599, body: { error: { code: 'x', message: 'y' } } }, 'environment registry request failed (599 <unknown status code>, x): y'],
    ['403', { status: 403, body: { error: { code: 'forbidden', message: 'nope' } } }, 'environment registry authentication error: environment registry authentication failed (403 Forbidden): nope'],
    ['redirect not followed', { status: 302, headers: { location: '/elsewhere' } }, 'environment registry request failed (302 Found): empty or malformed error body'],
    ['other environment', { status: 200, body: { environment_id: 'other', url: 'ws://x', security_profile: 'nope', executor_registration_id: 'r' } }, 'exec-server protocol error: environment registry returned a different environment id'],
    ['security profile', (env) => ({ status: 200, body: { environment_id: env, url: 'ws://x', security_profile: 'nope', executor_registration_id: 'r' } }), 'exec-server protocol error: environment registry returned unsupported security profile `nope`'],
    ['missing registration id', (env) => ({ status: 200, body: { environment_id: env, url: 'ws://127.0.0.1:1/x', security_profile: 'noise_hybrid_ik_v1' } }), 'failed to serialize or deserialize exec-server JSON: missing field `executor_registration_id` at line 1 column 93'],
  ];
  for (const [name, answer, text] of fatal) {
    test(`fatal: ${name}`, async () => {
      await withRegistry((r) => (r.endpoint === 'register' ? (typeof answer === 'function' ? answer(r.environmentId) : answer) : undefined), async (registry) => {
        const { registryClient, auth } = client(registry);
        await assert.rejects(registryClient.register(key), (error: unknown) => {
          assert.ok(error instanceof RegistryError);
          assert.equal(error.message, text);
          assert.equal(error.kind, name === '403' ? 'auth' : 'fatal');
          return true;
        });
        assert.equal(registry.requests.length, 1, 'no retry, no redirect followed');
        assert.equal(auth.refreshCalls, 0);
      });
    });
  }

  test('an empty registration id is accepted', async () => {
    await withRegistry((r) => ({ status: 200, body: { environment_id: r.environmentId, url: 'ws://127.0.0.1:1/x', security_profile: SECURITY_PROFILE, executor_registration_id: '', extra: 1 } }), async (registry) => {
      assert.equal((await client(registry).registryClient.register(key)).registrationId, '');
    });
  });

  test('503 registration_conflict and 502 authentication_service_unavailable are retried with the delay formula', async () => {
    let calls = 0;
    const answers: HttpAnswer[] = [
      { status: 503, body: { error: { code: 'registration_conflict', message: 'busy' } } },
      { status: 502, body: { detail: { code: 'authentication_service_unavailable', message: 'later' } } },
      { status: 503, body: { error: { code: 'registration_conflict', message: 'busy' } } },
    ];
    await withRegistry((r) => (r.endpoint === 'register' ? answers[calls++] : undefined), async (registry) => {
      const { registryClient, sleeps } = client(registry);
      const retried: string[] = [];
      const registration = await registryClient.register(key, { onRetry: (_delay, error) => retried.push(error.message) });
      assert.match(registration.registrationId, /^reg-/);
      assert.equal(registry.requests.length, 4);
      assert.deepEqual(sleeps, [625, 1250, 2500]);
      assert.equal(retried[1], 'environment registry request failed (502 Bad Gateway, authentication_service_unavailable): later');
    });
  });

  test('401: one refresh and one retry with the new credential; a second 401 is fatal', async () => {
    await withRegistry((r) => (r.headers.find(([n]) => n === 'authorization')?.[1] === 'Bearer fresh' ? undefined : { status: 401, body: { error: { code: 'unauthorized', message: 'stale' } } }), async (registry) => {
      const refreshing = client(registry, { token: 'stale', refreshTo: 'fresh' });
      await refreshing.registryClient.register(key);
      assert.equal(refreshing.auth.refreshCalls, 1);
      assert.deepEqual(registry.requests.map((r) => r.headers[1]![1]), ['Bearer stale', 'Bearer fresh']);

      const apiKey = client(registry, { token: 'stale' });
      await assert.rejects(apiKey.registryClient.register(key), {
        message: 'environment registry authentication error: environment registry authentication failed (401 Unauthorized): stale',
      });
      assert.equal(apiKey.auth.refreshCalls, 1);
      assert.equal(registry.requests.length, 3);
    });
  });

  test('timeout covers the whole request; connection refused names the URL', async () => {
    await withRegistry(() => ({ status: 200, hang: true }), async (registry) => {
      await assert.rejects(client(registry, { timeoutMs: 300 }).registryClient.register(key), { message: TIMEOUT_MESSAGE });
    });
    const refused = new RegistryClient({ registryUrl: 'http://127.0.0.1:9/api/', environmentId: ' env-x ', auth: testAuthProvider('k') });
    await assert.rejects(refused.register(key), {
      message: 'environment registry request failed: error sending request for url (http://127.0.0.1:9/api/cloud/environment/env-x/register)',
    });
  });

  test('abort stops a retry loop', async () => {
    await withRegistry(() => ({ status: 503, body: { error: { code: 'registration_conflict', message: 'busy' } } }), async (registry) => {
      const controller = new AbortController();
      const registryClient = new RegistryClient({ registryUrl: registry.baseUrl, environmentId: 'e', auth: testAuthProvider('k') });
      const pending = registryClient.register(key, { signal: controller.signal, onRetry: () => controller.abort(new Error('stopped')) });
      await assert.rejects(pending, { message: 'stopped' });
      assert.equal(registry.requests.length, 1);
    });
  });
});

describe('stdin credentials: the registry error body is never shown (omitsRegistryErrorBody)', () => {
  // the texts 0.169.0 exits with under --registration-bearer-stdin / --executor-credential-stdin
  const omitted: Array<[HttpAnswer, string]> = [
    [{ status: 400, body: { error: { code: 'bad', message: 'bad thing' } } }, 'environment registry request failed (400 Bad Request): environment registry executor registration failed'],
    [{ status: 409, body: { detail: { code: 'c', message: 'detail msg' } } }, 'environment registry request failed (409 Conflict): environment registry executor registration failed'],
    [{ status: 404, body: 'plain text body' }, 'environment registry request failed (404 Not Found): environment registry executor registration failed'],
    [{ status: 503, body: { error: { code: 'other', message: 'busy' } } }, 'environment registry request failed (503 Service Unavailable): environment registry executor registration failed'],
    [{ status: 302, headers: { location: '/elsewhere' } }, 'environment registry request failed (302 Found): environment registry executor registration failed'],
    [{ status: 401, body: { error: { code: 'unauthorized', message: 'secret echo' } } }, 'environment registry authentication error: environment registry authentication failed (401 Unauthorized): response body omitted'],
    [{ status: 403, body: 'secret echo' }, 'environment registry authentication error: environment registry authentication failed (403 Forbidden): response body omitted'],
  ];
  for (const [answer, text] of omitted) {
    test(`register ${answer.status} → ${text.split(': ').at(-1)}`, async () => {
      await withRegistry((r) => (r.endpoint === 'register' ? answer : undefined), async (registry) => {
        await assert.rejects(client(registry, { omitsBody: true }).registryClient.register(key), (error: unknown) => {
          assert.ok(error instanceof RegistryError);
          assert.equal(error.message, text);
          assert.equal(error.status, answer.status);
          return true;
        });
      });
    });
  }

  test('the retryable codes are still honoured; the retry notice has no body either', async () => {
    let calls = 0;
    const answers: HttpAnswer[] = [
      { status: 503, body: { error: { code: 'registration_conflict', message: 'busy' } } },
      { status: 502, body: { detail: { code: 'authentication_service_unavailable', message: 'later' } } },
    ];
    await withRegistry((r) => (r.endpoint === 'register' ? answers[calls++] : undefined), async (registry) => {
      const { registryClient, sleeps } = client(registry, { omitsBody: true });
      const retried: string[] = [];
      await registryClient.register(key, { onRetry: (_delay, error) => retried.push(error.message) });
      assert.equal(registry.requests.length, 3);
      assert.equal(sleeps.length, 2);
      assert.deepEqual(retried, [
        'environment registry request failed (503 Service Unavailable): environment registry executor registration failed',
        'environment registry request failed (502 Bad Gateway): environment registry executor registration failed',
      ]);
    });
  });

  test('validate maps the same answers the same way (its error body is never read in any mode)', async () => {
    const harness = publicKeyOf(generateIdentity());
    for (const [status, expected] of [[401, 'registry_auth_rejected'], [403, 'invalid'], [500, 'invalid']] as const) {
      await withRegistry(() => ({ status, body: { error: { code: 'x', message: 'secret echo' } } }), async (registry) => {
        const { registryClient, auth } = client(registry, { omitsBody: true });
        assert.equal(await registryClient.validate({ registrationId: 'r', harnessKey: harness, authorization: 'hka' }), expected);
        assert.equal(auth.refreshCalls, status === 401 ? 1 : 0);
      });
    }
  });
});

describe('validate', () => {
  const harness = publicKeyOf(generateIdentity());
  const cases: Array<[string, HttpAnswer, string]> = [
    ['valid', { status: 200, body: { valid: true, extra: 1 } }, 'valid'],
    ['valid false', { status: 200, body: { valid: false } }, 'invalid'],
    ['no valid member', { status: 200, body: {} }, 'invalid'],
    ['unparsable', { status: 200, body: 'nope' }, 'invalid'],
    ['403', { status: 403, body: { error: { code: 'x', message: 'y' } } }, 'invalid'],
    ['500', { status: 500 }, 'invalid'],
    ['401', { status: 401 }, 'registry_auth_rejected'],
  ];
  for (const [name, answer, expected] of cases) {
    test(`${name} → ${expected}`, async () => {
      await withRegistry(() => answer, async (registry) => {
        const { registryClient } = client(registry);
        assert.equal(await registryClient.validate({ registrationId: 'reg-1', harnessKey: harness, authorization: 'hka-1' }), expected);
        const [request] = registry.requests;
        assert.equal(request!.url, '/api/cloud/environment/env-a/validate');
        assert.deepEqual(request!.headers.map(([n]) => n), ['content-type', 'authorization', 'accept', 'host', 'content-length']);
        assert.deepEqual(Object.keys(request!.body), ['executor_registration_id', 'harness_public_key', 'harness_key_authorization']);
        assert.equal(request!.body.harness_key_authorization, 'hka-1');
      });
    });
  }

  test('a hung /validate rejects at the deadline', async () => {
    await withRegistry(() => ({ status: 200, hang: true }), async (registry) => {
      await assert.rejects(client(registry, { timeoutMs: 200 }).registryClient.validate({ registrationId: 'r', harnessKey: harness, authorization: '' }), { message: TIMEOUT_MESSAGE });
    });
  });
});
