import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { AuthError, type AuthSelection } from './auth-provider.ts';
import { checkCodexHomeExists } from './codex-home.ts';
import { createAuthProvider } from './create-auth-provider.ts';
import { context, NO_FLAGS, tempHome } from './testing/fixtures.ts';

const missing = (path: string) => `CODEX_HOME points to "${path}", but that path does not exist`;

test('an explicit CODEX_HOME must be an existing directory; unset or empty is not checked', async () => {
  const home = await tempHome();
  try {
    const file = join(home.dir, 'file');
    await writeFile(file, '');
    await checkCodexHomeExists({ CODEX_HOME: home.dir });
    await checkCodexHomeExists({});
    await checkCodexHomeExists({ CODEX_HOME: '' });
    const gone = join(home.dir, 'gone');
    await assert.rejects(checkCodexHomeExists({ CODEX_HOME: gone }), (err: unknown) => err instanceof AuthError && err.message === missing(gone) && err.kind === 'config');
    await assert.rejects(checkCodexHomeExists({ CODEX_HOME: file }), { message: `CODEX_HOME points to "${file}", but that path is not a directory` });
    // Taken as is: whitespace is a (missing) relative path, not "unset".
    await assert.rejects(checkCodexHomeExists({ CODEX_HOME: ' ' }), { message: 'CODEX_HOME points to " ", but that path does not exist' });
  } finally {
    await home.cleanup();
  }
});

test('when each credential mode checks it (the order 0.169.0 reports in)', async () => {
  const home = await tempHome();
  const env = { CODEX_HOME: join(home.dir, 'gone'), CODEX_API_KEY: 'sk' };
  const run = (selection: Partial<AuthSelection>, stdinText: string | null) => {
    const stdin = new PassThrough();
    if (stdinText !== null) stdin.end(stdinText);
    return createAuthProvider({ ...NO_FLAGS, ...selection }, context(home.dir, { env, stdin, environmentId: 'e' }));
  };
  try {
    // first: before the API key, Agent Identity, SigV4 and before any executor credential is read
    await assert.rejects(run({}, null), { message: missing(env.CODEX_HOME) });
    await assert.rejects(run({ useAgentIdentityAuth: true }, null), { message: missing(env.CODEX_HOME) });
    await assert.rejects(run({ awsSigv4: { profile: null, region: null, service: 'execute-api' } }, null), { message: missing(env.CODEX_HOME) });
    await assert.rejects(run({ executorCredentialStdin: true }, ''), { message: missing(env.CODEX_HOME) });
    // the bearer line is read and checked first
    await assert.rejects(run({ registrationBearerStdin: true }, ''), { message: 'expected a newline-terminated registration bearer of at most 16 KiB' });
    await assert.rejects(run({ registrationBearerStdin: true }, 'a b\n'), { message: 'invalid registration bearer' });
    await assert.rejects(run({ registrationBearerStdin: true }, 'bearer\n'), { message: missing(env.CODEX_HOME) });
  } finally {
    await home.cleanup();
  }
});
