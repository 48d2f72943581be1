/**
 * `--chatgpt-token-stdin` [+ `--chatgpt-account-id`] (remote-protocol.md §3.3; texts, bounds and
 * order measured on 0.169.0):
 *   1. the registry URL must be `https://` without userinfo or fragment — checked before stdin is read;
 *   1b. the process's stdin must be a pipe or a socket (not a terminal, a file or /dev/null);
 *   2. one newline-terminated line of at most 64 KiB (newline included) holding a JWT-shaped token
 *      with a decodable payload (no trimming; not verified, not checked for expiry);
 *   3. account id from the claim, or from the flag when the claim is absent; both and different → error;
 *   4. the ChatGPT account policy is loaded once: `GET <chatgpt_base_url>/wham/config/bundle`
 *      (config.toml `chatgpt_base_url`, default https://chatgpt.com/backend-api/) with the token;
 *      anything but a 2xx JSON object → `could not load ChatGPT account policy`.
 * Headers `authorization: Bearer <token>`, `chatgpt-account-id: <account>`; nothing to refresh.
 * The token is kept only in this object's private field and sent only to the registry and the
 * policy endpoint (the same ChatGPT backend that issued it).
 */
import { fstatSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { AuthError, type AuthProvider, type RegistryRequest } from './auth-provider.ts';
import { authHttp } from './auth-http.ts';
import { BoundedLineReader } from './bounded-line-reader.ts';
import { chatgptBaseUrl } from './codex-config.ts';
import { codexUserAgent } from './codex-user-agent.ts';
import { chatgptAccountIdClaim, jwtPayload } from './jwt-claims.ts';
import { trustedCas } from '../tls-trust.ts';

export const CHATGPT_TOKEN_MAX_LINE_BYTES = 64 * 1024;
export const CHATGPT_TOKEN_URL_RULE_MESSAGE = 'ChatGPT token registry URLs must use HTTPS without userinfo or fragments';
export const POLICY_URL_RULE_MESSAGE = 'ChatGPT policy endpoint URLs must use HTTPS without userinfo or fragments';
export const TOKEN_NOT_TERMINATED_MESSAGE = 'expected a bounded, newline-terminated ChatGPT access token';
export const INVALID_CHATGPT_TOKEN_MESSAGE = 'invalid ChatGPT access token';
export const ACCOUNT_MISMATCH_MESSAGE = '--chatgpt-account-id does not match the token';
export const NO_ACCOUNT_MESSAGE = 'token has no ChatGPT account ID; supply --chatgpt-account-id';
export const STDIN_NOT_PIPE_MESSAGE = 'ChatGPT token stdin must be a pipe or socket';
export const POLICY_FAILED_MESSAGE = 'could not load ChatGPT account policy';
export const POLICY_TIMEOUT_MESSAGE = 'timed out loading ChatGPT account policy';
export const POLICY_PATH = 'wham/config/bundle';
export const POLICY_TIMEOUT_MS = 10_000;

/** HTTPS, no userinfo, no fragment (an empty `#` counts: the binary refuses `https://h/#`). */
export function isHttpsWithoutUserinfoOrFragment(url: URL): boolean {
  return url.protocol === 'https:' && url.username === '' && url.password === '' && !url.href.includes('#');
}

export interface ChatgptTokenStdinOptions {
  stdin: Readable;
  registryUrl: URL;
  accountIdFlag: string | null;
  env: NodeJS.ProcessEnv;
  codexHome: string;
  /** Runs after the token is read and checked, before the policy request (the CODEX_HOME check). */
  beforePolicy?: () => Promise<void>;
  signal?: AbortSignal;
}

/**
 * The binary refuses a stdin that is neither a FIFO nor a socket. Only a stream backed by a file
 * descriptor (the process's stdin has `fd`) can be checked; in-memory streams pass.
 */
export function checkStdinIsPipeOrSocket(stdin: Readable): void {
  const fd = (stdin as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return;
  let ok = false;
  try {
    const stat = fstatSync(fd);
    ok = stat.isFIFO() || stat.isSocket();
  } catch {
    ok = false;
  }
  if (!ok) throw new AuthError(STDIN_NOT_PIPE_MESSAGE);
}

export class ChatgptTokenStdinProvider implements AuthProvider {
  readonly method = 'chatgpt-token-stdin' as const;
  readonly omitsRegistryErrorBody = true;
  readonly #token: string;
  readonly #accountId: string;

  private constructor(token: string, accountId: string) {
    this.#token = token;
    this.#accountId = accountId;
  }

  static async create(options: ChatgptTokenStdinOptions): Promise<ChatgptTokenStdinProvider> {
    if (!isHttpsWithoutUserinfoOrFragment(options.registryUrl)) throw new AuthError(CHATGPT_TOKEN_URL_RULE_MESSAGE);
    checkStdinIsPipeOrSocket(options.stdin);
    const token = await readToken(options.stdin, options.signal);
    const payload = jwtPayload(token);
    if (payload === null) throw new AuthError(INVALID_CHATGPT_TOKEN_MESSAGE);
    const claim = chatgptAccountIdClaim(payload);
    const flag = options.accountIdFlag;
    if (claim !== null && flag !== null && claim !== flag) throw new AuthError(ACCOUNT_MISMATCH_MESSAGE);
    const accountId = claim ?? flag;
    if (accountId === null) throw new AuthError(NO_ACCOUNT_MESSAGE);
    await options.beforePolicy?.();
    await loadAccountPolicy(token, accountId, options);
    return new ChatgptTokenStdinProvider(token, accountId);
  }

  async headers(_request: RegistryRequest): Promise<Array<[string, string]>> {
    return [
      ['authorization', `Bearer ${this.#token}`],
      ['chatgpt-account-id', this.#accountId],
    ];
  }

  /** A token from stdin cannot be refreshed: a 401 is final. */
  async refreshAfterUnauthorized(): Promise<boolean> {
    return false;
  }

  checkRegistryUrl(base: URL): void {
    if (!isHttpsWithoutUserinfoOrFragment(base)) throw new AuthError(CHATGPT_TOKEN_URL_RULE_MESSAGE);
  }

  close(): void {}
}

async function readToken(stdin: Readable, signal?: AbortSignal): Promise<string> {
  const reader = new BoundedLineReader(stdin, CHATGPT_TOKEN_MAX_LINE_BYTES);
  try {
    const result = await reader.next(signal);
    if (result.kind !== 'line') throw new AuthError(TOKEN_NOT_TERMINATED_MESSAGE);
    const text = result.bytes.toString('utf8');
    // A JWT is base64url segments: anything else (spaces, non-ASCII) is not a token.
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(text)) throw new AuthError(INVALID_CHATGPT_TOKEN_MESSAGE);
    return text;
  } finally {
    reader.close();
  }
}

/** The binary's pre-registration account check; only "it answered with a JSON object" is required. */
async function loadAccountPolicy(token: string, accountId: string, options: ChatgptTokenStdinOptions): Promise<void> {
  const base = await chatgptBaseUrl(options.codexHome);
  let url: URL;
  try {
    if (!isHttpsWithoutUserinfoOrFragment(new URL(base))) throw new Error('rule');
    url = new URL(`${base.replace(/\/+$/, '')}/${POLICY_PATH}`);
  } catch {
    throw new AuthError(POLICY_URL_RULE_MESSAGE);
  }
  let response;
  try {
    response = await authHttp(url, {
      method: 'GET',
      headers: [
        ['user-agent', codexUserAgent(options.env)],
        ['authorization', `Bearer ${token}`],
        ['chatgpt-account-id', accountId],
        ['accept', '*/*'],
      ],
      timeoutMs: POLICY_TIMEOUT_MS,
      signal: options.signal,
      ca: trustedCas(options.env),
    });
  } catch (err) {
    const timedOut = err instanceof Error && err.message === 'request timed out';
    throw new AuthError(timedOut ? POLICY_TIMEOUT_MESSAGE : POLICY_FAILED_MESSAGE, 'unavailable');
  }
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(response.body);
  } catch {
    // falls through to the failure below
  }
  const ok = response.status >= 200 && response.status < 300 && parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
  if (!ok) throw new AuthError(POLICY_FAILED_MESSAGE, 'unavailable');
}
