/**
 * `$CODEX_HOME/auth.json`, the login `codex login` writes (remote-protocol.md §3.2): reading it
 * the way the 0.169.0 binary does, and writing refreshed tokens back atomically.
 *
 * The file holds credentials: it is read here and handed only to the provider that uses it; its
 * contents never go into an error message (parse failures say which member is wrong, not its value).
 */
import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const AUTH_JSON_FILE = 'auth.json';

export interface TokenData {
  id_token: string;
  access_token: string;
  refresh_token: string;
  account_id?: string | null;
}

/** The members exec-desk uses; every other member is preserved on write-back. */
export interface AuthDotJson {
  auth_mode?: string | null;
  OPENAI_API_KEY?: string | null;
  tokens?: TokenData | null;
  last_refresh?: string | null;
  [other: string]: unknown;
}

/** What the login in auth.json amounts to for registry auth. */
export type StoredLogin =
  | { kind: 'none' }
  | { kind: 'api-key'; key: string }
  | { kind: 'chatgpt'; file: AuthDotJson; tokens: TokenData }
  /** A ChatGPT login the binary cannot use for the registry (reported at the first request). */
  | { kind: 'unusable-chatgpt'; reason: 'no-usable-bearer' | 'external-tokens' };

export function authJsonPath(codexHome: string): string {
  return join(codexHome, AUTH_JSON_FILE);
}

/** RFC 3339 as chrono parses it (a date-time with an offset). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function isTokenData(value: unknown): value is TokenData {
  if (value === null || typeof value !== 'object') return false;
  const t = value as Record<string, unknown>;
  return (
    typeof t.id_token === 'string' &&
    typeof t.access_token === 'string' &&
    typeof t.refresh_token === 'string' &&
    (t.account_id === undefined || t.account_id === null || typeof t.account_id === 'string')
  );
}

/**
 * Parses auth.json like the binary (verified on 0.169.0): a file that does not deserialize
 * (bad JSON, a token member missing, a `last_refresh` that is not RFC 3339) counts as no login;
 * `OPENAI_API_KEY` decides when `auth_mode` is absent; `auth_mode: "chatgpt"` ignores the key.
 */
export function classifyAuthJson(text: string | null): StoredLogin {
  if (text === null) return { kind: 'none' };
  let file: AuthDotJson;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { kind: 'none' };
    file = parsed as AuthDotJson;
  } catch {
    return { kind: 'none' };
  }
  const key = file.OPENAI_API_KEY;
  if (key !== undefined && key !== null && typeof key !== 'string') return { kind: 'none' };
  if (file.tokens !== undefined && file.tokens !== null && !isTokenData(file.tokens)) return { kind: 'none' };
  const lastRefresh = file.last_refresh;
  if (lastRefresh !== undefined && lastRefresh !== null && (typeof lastRefresh !== 'string' || !RFC3339.test(lastRefresh))) {
    return { kind: 'none' };
  }
  const mode = file.auth_mode ?? (typeof key === 'string' ? 'apikey' : 'chatgpt');
  switch (mode) {
    case 'apikey':
      return typeof key === 'string' ? { kind: 'api-key', key } : { kind: 'none' };
    case 'chatgpt':
      // Without tokens or without `last_refresh` the binary fails at the first request.
      if (!file.tokens || typeof lastRefresh !== 'string') return { kind: 'unusable-chatgpt', reason: 'no-usable-bearer' };
      return { kind: 'chatgpt', file, tokens: file.tokens };
    case 'chatgptAuthTokens':
      return { kind: 'unusable-chatgpt', reason: 'external-tokens' };
    default:
      return { kind: 'none' };
  }
}

export async function readAuthJsonText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Writes auth.json atomically: a temp file in the same directory (mode 0600), fsync, rename over
 * the old file. A crash leaves either the old or the new file, never a torn one.
 */
export async function writeAuthJsonAtomically(path: string, file: AuthDotJson): Promise<void> {
  const temp = join(dirname(path), `.${AUTH_JSON_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
