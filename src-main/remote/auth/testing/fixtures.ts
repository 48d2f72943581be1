/** Test fixtures: temp CODEX_HOMEs, unsigned JWT-shaped tokens, a default selection and context. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { AuthContext, AuthSelection } from '../auth-provider.ts';

export const NO_FLAGS: AuthSelection = {
  useAgentIdentityAuth: false,
  registrationBearerStdin: false,
  executorCredentialStdin: false,
  chatgptTokenStdin: false,
  chatgptAccountId: null,
  awsSigv4: null,
};

export async function tempHome(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'exec-desk-auth-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function context(codexHome: string, overrides: Partial<AuthContext> = {}): AuthContext {
  return {
    env: {},
    stdin: new PassThrough(),
    registryUrl: new URL('http://127.0.0.1:1/api'),
    environmentId: 'env-1',
    codexHome,
    ...overrides,
  };
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT-shaped token (unsigned: the binary does not verify ChatGPT tokens). */
export function fakeJwt(payload: Record<string, unknown>): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.c2ln`;
}

export function chatgptAccessToken(account: string | null, expSeconds: number): string {
  const claims: Record<string, unknown> = { exp: expSeconds };
  if (account) claims['https://api.openai.com/auth'] = { chatgpt_account_id: account };
  return fakeJwt(claims);
}

export function chatgptIdToken(account: string): string {
  return fakeJwt({
    email: 'dev@example.com',
    'https://api.openai.com/auth': { chatgpt_account_id: account, chatgpt_plan_type: 'pro', chatgpt_user_id: 'user-1' },
  });
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value), { mode: 0o600 });
}
