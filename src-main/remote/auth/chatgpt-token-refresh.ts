/**
 * The ChatGPT token refresh request of the 0.169.0 binary (remote-protocol.md §3.2, verified on
 * the wire): `POST https://auth.openai.com/oauth/token` (or `$CODEX_REFRESH_TOKEN_URL_OVERRIDE`),
 * headers `content-type`, `originator`, `user-agent`, `accept`, body keys in the order below.
 * Failure texts are the binary's. The refresh token is passed in and only written into the body.
 */
import { authHttp, AUTH_HTTP_TIMEOUT_MS } from './auth-http.ts';
import { codexUserAgent, originator } from './codex-user-agent.ts';
import { trustedCas } from '../tls-trust.ts';

export const TOKEN_REFRESH_URL = 'https://auth.openai.com/oauth/token';
export const REFRESH_URL_OVERRIDE_ENV = 'CODEX_REFRESH_TOKEN_URL_OVERRIDE';
export const CODEX_CLIENT_ID = 'app_EMoamEEZ73f0CkXaXp7hrann';

export type RefreshReason = 'forced' | 'proactive_expiry';

export const REFRESH_EXPIRED_MESSAGE =
  'Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again.';
export const REFRESH_REUSED_MESSAGE =
  'Your access token could not be refreshed because your refresh token was already used. Please log out and sign in again.';
export const REFRESH_REVOKED_MESSAGE =
  'Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again.';
export const REFRESH_REJECTED_MESSAGE = 'Your access token could not be refreshed. Please log out and sign in again.';
export const REFRESH_INVALID_RESPONSE_MESSAGE = 'OAuth token response is invalid';

export interface RefreshedTokens {
  id_token?: string;
  access_token?: string;
  refresh_token?: string;
}

/** `permanent`: the refresh token is dead (sign in again); otherwise a later attempt may work. */
export class RefreshFailure extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'RefreshFailure';
  }
}

export function refreshUrl(env: NodeJS.ProcessEnv): URL {
  const override = env[REFRESH_URL_OVERRIDE_ENV]?.trim();
  return new URL(override ? override : TOKEN_REFRESH_URL);
}

/** Body keys in the binary's order. */
export function refreshRequestBody(refreshToken: string, reason: RefreshReason): string {
  return JSON.stringify({ client_id: CODEX_CLIENT_ID, grant_type: 'refresh_token', refresh_reason: reason, refresh_token: refreshToken });
}

function errorCode(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const error = parsed.error;
    if (typeof error === 'string') return error;
    if (error && typeof error === 'object' && typeof (error as Record<string, unknown>).code === 'string') {
      return (error as Record<string, string>).code!;
    }
    return typeof parsed.code === 'string' ? parsed.code : null;
  } catch {
    return null;
  }
}

/** Any 4xx is permanent (verified: 400, 401, 403), worded by its error code. */
function clientErrorMessage(body: string): string {
  switch (errorCode(body)) {
    case 'refresh_token_expired':
      return REFRESH_EXPIRED_MESSAGE;
    case 'refresh_token_reused':
      return REFRESH_REUSED_MESSAGE;
    case 'refresh_token_invalidated':
      return REFRESH_REVOKED_MESSAGE;
    default:
      return REFRESH_REJECTED_MESSAGE;
  }
}

function parseTokens(body: string): RefreshedTokens {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new RefreshFailure(REFRESH_INVALID_RESPONSE_MESSAGE, true);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new RefreshFailure(REFRESH_INVALID_RESPONSE_MESSAGE, true);
  const out: RefreshedTokens = {};
  for (const key of ['id_token', 'access_token', 'refresh_token'] as const) {
    const value = (parsed as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new RefreshFailure(REFRESH_INVALID_RESPONSE_MESSAGE, true);
    out[key] = value;
  }
  return out;
}

export async function refreshChatgptTokens(
  refreshToken: string,
  reason: RefreshReason,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<RefreshedTokens> {
  const url = refreshUrl(env);
  let response;
  try {
    response = await authHttp(url, {
      method: 'POST',
      headers: [
        ['content-type', 'application/json'],
        ['originator', originator(env)],
        ['user-agent', codexUserAgent(env)],
        ['accept', '*/*'],
      ],
      body: refreshRequestBody(refreshToken, reason),
      timeoutMs: AUTH_HTTP_TIMEOUT_MS,
      signal,
      ca: trustedCas(env),
    });
  } catch {
    // The URL carries no credential; the error object might (it is not used).
    throw new RefreshFailure(`Failed to refresh token: error sending request for url (${url.href})`, false);
  }
  if (response.status >= 200 && response.status < 300) return parseTokens(response.body);
  if (response.status >= 400 && response.status < 500) throw new RefreshFailure(clientErrorMessage(response.body), true);
  throw new RefreshFailure(`Failed to refresh token: ${response.statusLine}`, false);
}
