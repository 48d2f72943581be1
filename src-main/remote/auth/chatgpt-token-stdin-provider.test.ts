import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { AuthError } from './auth-provider.ts';
import { createAuthProvider } from './create-auth-provider.ts';
import {
  ACCOUNT_MISMATCH_MESSAGE,
  CHATGPT_TOKEN_URL_RULE_MESSAGE,
  INVALID_CHATGPT_TOKEN_MESSAGE,
  NO_ACCOUNT_MESSAGE,
  POLICY_FAILED_MESSAGE,
  POLICY_URL_RULE_MESSAGE,
  STDIN_NOT_PIPE_MESSAGE,
  TOKEN_NOT_TERMINATED_MESSAGE,
} from './chatgpt-token-stdin-provider.ts';
import { codexUserAgent } from './codex-user-agent.ts';
import { chatgptAccessToken, context, fakeJwt, NO_FLAGS, tempHome } from './testing/fixtures.ts';
import { startRecordingServer, type RecordingServer } from './testing/registry-probe.ts';
import { TEST_CA_PEM } from '../../core/http/test-certs.ts';

const FLAGS = { ...NO_FLAGS, chatgptTokenStdin: true };
const REQUEST = { url: new URL('https://127.0.0.1:1/api/x'), method: 'POST' as const, body: new Uint8Array() };
const TOKEN = chatgptAccessToken('acc-claim', 9_999_999_999);

interface Env {
  policy: RecordingServer;
  run(stdinText: string | null, options?: { accountId?: string | null; registry?: string }): Promise<Awaited<ReturnType<typeof createAuthProvider>>>;
  cleanup(): Promise<void>;
}

/** A CODEX_HOME whose config.toml points chatgpt_base_url at an HTTPS policy server we trust. */
async function setup(): Promise<Env> {
  const home = await tempHome();
  const policy = await startRecordingServer({ tls: true });
  policy.answer = () => ({ status: 200, body: {} });
  const caFile = join(home.dir, 'ca.pem');
  await writeFile(caFile, TEST_CA_PEM);
  await writeFile(join(home.dir, 'config.toml'), `chatgpt_base_url = "${policy.url}/backend-api/"\n\n[other]\nchatgpt_base_url = "https://ignored/"\n`);
  const env = { SSL_CERT_FILE: caFile };
  return {
    policy,
    async run(stdinText, options = {}) {
      const stdin = new PassThrough();
      if (stdinText !== null) stdin.write(stdinText);
      return createAuthProvider(
        { ...FLAGS, chatgptAccountId: options.accountId ?? null },
        context(home.dir, { stdin, env, registryUrl: new URL(options.registry ?? 'https://127.0.0.1:1/api') }),
      );
    },
    async cleanup() {
      await policy.close();
      await home.cleanup();
    },
  };
}

const rejectsWith = (message: string) => (err: unknown) => err instanceof AuthError && err.message === message;

test('token from stdin: policy loaded with it, then Bearer + account from the claim', async () => {
  const s = await setup();
  try {
    const provider = await s.run(`${TOKEN}\r\n`);
    assert.equal(provider.method, 'chatgpt-token-stdin');
    assert.equal(provider.omitsRegistryErrorBody, true);
    assert.deepEqual(await provider.headers(REQUEST), [
      ['authorization', `Bearer ${TOKEN}`],
      ['chatgpt-account-id', 'acc-claim'],
    ]);
    assert.equal(s.policy.seen.length, 1);
    const policy = s.policy.seen[0]!;
    assert.equal(policy.method, 'GET');
    assert.equal(policy.url, '/backend-api/wham/config/bundle');
    assert.deepEqual(policy.headers.slice(0, 4), [
      ['user-agent', codexUserAgent({ SSL_CERT_FILE: 'x' })],
      ['authorization', `Bearer ${TOKEN}`],
      ['chatgpt-account-id', 'acc-claim'],
      ['accept', '*/*'],
    ]);
    assert.equal(policy.headers[4]![0], 'host');
    assert.equal(await provider.refreshAfterUnauthorized(), false);
  } finally {
    await s.cleanup();
  }
});

test('account id: flag equal to the claim, flag when no claim, errors otherwise', async () => {
  const s = await setup();
  const noClaim = fakeJwt({ exp: 9_999_999_999 });
  try {
    const same = await s.run(`${TOKEN}\n`, { accountId: 'acc-claim' });
    assert.deepEqual((await same.headers(REQUEST))[1], ['chatgpt-account-id', 'acc-claim']);
    const fromFlag = await s.run(`${noClaim}\n`, { accountId: 'flag-acc' });
    assert.deepEqual((await fromFlag.headers(REQUEST))[1], ['chatgpt-account-id', 'flag-acc']);
    await assert.rejects(s.run(`${TOKEN}\n`, { accountId: 'other' }), rejectsWith(ACCOUNT_MISMATCH_MESSAGE));
    await assert.rejects(s.run(`${noClaim}\n`), rejectsWith(NO_ACCOUNT_MESSAGE));
  } finally {
    await s.cleanup();
  }
});

test('registry must be https without userinfo or fragment, checked before stdin is read', async () => {
  const s = await setup();
  try {
    for (const registry of ['http://127.0.0.1:1/api', 'https://u@127.0.0.1:1/', 'https://127.0.0.1:1/#x', 'https://127.0.0.1:1/#']) {
      // stdin stays open and empty: the rule must fire without waiting for it.
      await assert.rejects(s.run(null, { registry }), rejectsWith(CHATGPT_TOKEN_URL_RULE_MESSAGE), registry);
    }
    assert.equal(s.policy.seen.length, 0);
  } finally {
    await s.cleanup();
  }
});

test('bad tokens: the binary texts, and no policy request', async () => {
  const s = await setup();
  try {
    const cases: Array<[string | null, string]> = [
      ['abc\n', INVALID_CHATGPT_TOKEN_MESSAGE],
      ['a.b.c\n', INVALID_CHATGPT_TOKEN_MESSAGE],
      [`  ${TOKEN}  \n`, INVALID_CHATGPT_TOKEN_MESSAGE],
      ['\n', INVALID_CHATGPT_TOKEN_MESSAGE],
      [`${'a'.repeat(64 * 1024)}\n`, TOKEN_NOT_TERMINATED_MESSAGE],
    ];
    for (const [text, message] of cases) await assert.rejects(s.run(text), rejectsWith(message), text?.slice(0, 20));
    assert.equal(s.policy.seen.length, 0);
  } finally {
    await s.cleanup();
  }
});

test('EOF without a newline', async () => {
  const home = await tempHome();
  try {
    const stdin = new PassThrough();
    stdin.end(TOKEN);
    await assert.rejects(
      createAuthProvider(FLAGS, context(home.dir, { stdin, registryUrl: new URL('https://127.0.0.1:1/') })),
      rejectsWith(TOKEN_NOT_TERMINATED_MESSAGE),
    );
  } finally {
    await home.cleanup();
  }
});

test('policy failures: non-2xx, non-JSON, not an object, http base URL', async () => {
  const s = await setup();
  try {
    const answers: Array<{ status: number; body?: unknown }> = [{ status: 404, body: {} }, { status: 200, body: 'zzz' }, { status: 200, body: [1] }, { status: 204 }];
    for (const answer of answers) {
      s.policy.answer = () => answer;
      await assert.rejects(s.run(`${TOKEN}\n`), (err: unknown) => err instanceof AuthError && err.message === POLICY_FAILED_MESSAGE && err.kind === 'unavailable');
    }
  } finally {
    await s.cleanup();
  }
  const home = await tempHome();
  try {
    await writeFile(join(home.dir, 'config.toml'), 'chatgpt_base_url = "http://127.0.0.1:1/backend-api/"\n');
    const stdin = new PassThrough();
    stdin.write(`${TOKEN}\n`);
    await assert.rejects(
      createAuthProvider(FLAGS, context(home.dir, { stdin, registryUrl: new URL('https://127.0.0.1:1/') })),
      rejectsWith(POLICY_URL_RULE_MESSAGE),
    );
  } finally {
    await home.cleanup();
  }
});

test('stdin must be a pipe or a socket (a file or /dev/null is refused before reading); then the token, then CODEX_HOME, then the policy', async () => {
  const e = await setup();
  const home = await tempHome();
  try {
    const tokenFile = join(home.dir, 'token');
    await writeFile(tokenFile, `${TOKEN}\n`);
    const registryUrl = new URL('https://127.0.0.1:1/api');
    for (const path of [tokenFile, '/dev/null']) {
      const stdin = createReadStream(path);
      await new Promise((resolve) => stdin.once('open', resolve));
      await assert.rejects(createAuthProvider(FLAGS, context(home.dir, { stdin, registryUrl })), { message: STDIN_NOT_PIPE_MESSAGE });
      stdin.destroy();
    }
    // An in-memory stream is not checked (the CLI runs cover real pipes and sockets); a missing
    // CODEX_HOME is reported after the token, before any policy request.
    const stdin = new PassThrough();
    stdin.end(`${TOKEN}\n`);
    const gone = join(home.dir, 'gone');
    await assert.rejects(createAuthProvider(FLAGS, context(home.dir, { stdin, registryUrl, env: { CODEX_HOME: gone } })), {
      message: `CODEX_HOME points to "${gone}", but that path does not exist`,
    });
    assert.equal(e.policy.seen.length, 0);
  } finally {
    await home.cleanup();
    await e.cleanup();
  }
});
