/**
 * Agent Identity (`--use-agent-identity-auth`, CODEX_ACCESS_TOKEN; remote-protocol.md §3.7,
 * observed on 0.169.0). At start-up, like the binary:
 *   1. CODEX_ACCESS_TOKEN must be a JWT with a `kid` and the Agent Identity claims (checked
 *      before any request);
 *   2. `GET <jwks base>/agent-identities/jwks` (env CODEX_AGENT_IDENTITY_JWKS_BASE_URL, default
 *      https://chatgpt.com/backend-api/wham) with `originator`, `user-agent`; the token is verified
 *      with `jose` (RS256, iss, aud, exp);
 *   3. task registration `POST <authapi base>/v1/agent/{agent_runtime_id}/task/register` (env
 *      CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL, default https://auth.openai.com/api/accounts, FedRAMP
 *      https://auth.api.openai.org/api/accounts), body `{"timestamp","signature"}` signed with the
 *      token's Ed25519 key; 5xx/429/network errors are retried twice at once (3 attempts);
 *   4. one assertion `AgentAssertion <base64url(JSON)>` is built and reused for every registry
 *      request, with `chatgpt-account-id: <account_id>`. A 401 is final (no new task).
 * Every failure after the env check reads `Agent Identity authentication is unavailable`.
 *
 * The access token is read from the env and dropped after start-up; the Ed25519 private key lives
 * only inside a KeyObject during start-up; the assertion is kept in `#assertion`.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { AuthError, type AuthProvider, type RegistryRequest } from './auth-provider.ts';
import { authHttp, AUTH_HTTP_TIMEOUT_MS } from './auth-http.ts';
import { codexUserAgent, originator } from './codex-user-agent.ts';
import { jwtPayload } from './jwt-claims.ts';
import { openTaskIdBox } from './sealed-box.ts';
import { trustedCas } from '../tls-trust.ts';
import { ACCESS_TOKEN_ENV } from './credential-env.ts';

export const JWKS_BASE_URL_ENV = 'CODEX_AGENT_IDENTITY_JWKS_BASE_URL';
export const AUTHAPI_BASE_URL_ENV = 'CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL';
export const DEFAULT_JWKS_BASE_URL = 'https://chatgpt.com/backend-api/wham';
export const DEFAULT_AUTHAPI_BASE_URL = 'https://auth.openai.com/api/accounts';
export const FEDRAMP_AUTHAPI_BASE_URL = 'https://auth.api.openai.org/api/accounts';
export const AGENT_IDENTITY_ISSUER = 'https://chatgpt.com/codex-backend/agent-identity';
export const AGENT_IDENTITY_AUDIENCE = 'codex-app-server';
export const TASK_REGISTRATION_ATTEMPTS = 3;

export const ACCESS_TOKEN_REQUIRED_MESSAGE = 'CODEX_ACCESS_TOKEN is required when --use-agent-identity-auth is set';
export const AGENT_IDENTITY_UNAVAILABLE_MESSAGE = 'Agent Identity authentication is unavailable';

interface AgentClaims {
  agentRuntimeId: string;
  privateKey: string;
  accountId: string;
  fedramp: boolean;
}

function unavailable(kind: AuthError['kind']): AuthError {
  return new AuthError(AGENT_IDENTITY_UNAVAILABLE_MESSAGE, kind);
}

/** `2026-11-22T05:19:21Z`: RFC 3339, whole seconds, UTC. */
export function rfc3339Seconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function ed25519Sign(key: KeyObject, message: string): string {
  return sign(null, Buffer.from(message, 'utf8'), key).toString('base64');
}

/** The claims the binary deserializes before any request (all required, typed). */
function readClaims(token: string): AgentClaims {
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    throw unavailable('auth_needed');
  }
  const payload = jwtPayload(token);
  const strings = ['agent_runtime_id', 'agent_private_key', 'account_id', 'chatgpt_user_id', 'email', 'plan_type'];
  if (
    typeof kid !== 'string' ||
    payload === null ||
    !strings.every((name) => typeof payload[name] === 'string') ||
    typeof payload.chatgpt_account_is_fedramp !== 'boolean'
  ) {
    throw unavailable('auth_needed');
  }
  return {
    agentRuntimeId: payload.agent_runtime_id as string,
    privateKey: payload.agent_private_key as string,
    accountId: payload.account_id as string,
    fedramp: payload.chatgpt_account_is_fedramp as boolean,
  };
}

function baseUrl(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return (value ? value : fallback).replace(/\/+$/, '');
}

export interface AgentIdentityOptions {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export class AgentIdentityProvider implements AuthProvider {
  readonly method = 'agent-identity' as const;
  readonly #assertion: string;
  readonly #accountId: string;

  private constructor(assertion: string, accountId: string) {
    this.#assertion = assertion;
    this.#accountId = accountId;
  }

  static async create(options: AgentIdentityOptions): Promise<AgentIdentityProvider> {
    const { env, signal } = options;
    const token = env[ACCESS_TOKEN_ENV]?.trim();
    if (!token) throw new AuthError(ACCESS_TOKEN_REQUIRED_MESSAGE);
    const claims = readClaims(token);
    const commonHeaders: Array<[string, string]> = [
      ['originator', originator(env)],
      ['user-agent', codexUserAgent(env)],
      ['accept', '*/*'],
    ];
    const ca = trustedCas(env);

    // 2. Verify the token against the published keys.
    let jwks: JSONWebKeySet;
    try {
      const response = await authHttp(new URL(`${baseUrl(env, JWKS_BASE_URL_ENV, DEFAULT_JWKS_BASE_URL)}/agent-identities/jwks`), {
        method: 'GET',
        headers: commonHeaders,
        timeoutMs: AUTH_HTTP_TIMEOUT_MS,
        signal,
        ca,
      });
      if (response.status < 200 || response.status >= 300) throw new Error('jwks status');
      jwks = JSON.parse(response.body) as JSONWebKeySet;
    } catch {
      throw unavailable('unavailable');
    }
    try {
      await jwtVerify(token, createLocalJWKSet(jwks), {
        algorithms: ['RS256'],
        issuer: AGENT_IDENTITY_ISSUER,
        audience: AGENT_IDENTITY_AUDIENCE,
        requiredClaims: ['exp'],
      });
    } catch {
      throw unavailable('auth_needed');
    }
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: Buffer.from(claims.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
      if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    } catch {
      throw unavailable('auth_needed');
    }

    // 3. Register a task.
    const authapi = baseUrl(env, AUTHAPI_BASE_URL_ENV, claims.fedramp ? FEDRAMP_AUTHAPI_BASE_URL : DEFAULT_AUTHAPI_BASE_URL);
    const taskUrl = new URL(`${authapi}/v1/agent/${encodeURIComponent(claims.agentRuntimeId)}/task/register`);
    let taskId: string | null = null;
    for (let attempt = 1; attempt <= TASK_REGISTRATION_ATTEMPTS && taskId === null; attempt++) {
      const timestamp = rfc3339Seconds(new Date());
      const body = JSON.stringify({ timestamp, signature: ed25519Sign(key, `${claims.agentRuntimeId}:${timestamp}`) });
      let response;
      try {
        response = await authHttp(taskUrl, {
          method: 'POST',
          headers: [['content-type', 'application/json'], ...commonHeaders],
          body,
          timeoutMs: AUTH_HTTP_TIMEOUT_MS,
          signal,
          ca,
        });
      } catch {
        signal?.throwIfAborted();
        continue;
      }
      if (response.status >= 500 || response.status === 429) continue;
      if (response.status < 200 || response.status >= 300) throw unavailable('auth_needed');
      taskId = parseTaskId(response.body, key);
      if (taskId === null) throw unavailable('unavailable');
    }
    if (taskId === null) throw unavailable('unavailable');

    // 4. The assertion, keys in the binary's order.
    const timestamp = rfc3339Seconds(new Date());
    const envelope = JSON.stringify({
      agent_runtime_id: claims.agentRuntimeId,
      signature: ed25519Sign(key, `${claims.agentRuntimeId}:${taskId}:${timestamp}`),
      task_id: taskId,
      timestamp,
    });
    return new AgentIdentityProvider(Buffer.from(envelope, 'utf8').toString('base64url'), claims.accountId);
  }

  async headers(_request: RegistryRequest): Promise<Array<[string, string]>> {
    return [
      ['authorization', `AgentAssertion ${this.#assertion}`],
      ['chatgpt-account-id', this.#accountId],
    ];
  }

  /** The binary registers no new task after a 401: it is final. */
  async refreshAfterUnauthorized(): Promise<boolean> {
    return false;
  }

  /** No URL rule in this mode on 0.169.0 (a URL without a host fails when the request is built). */
  checkRegistryUrl(_base: URL): void {}

  close(): void {}
}

/** `task_id` / `taskId`, or `encrypted_task_id` / `encryptedTaskId` sealed to our key. */
function parseTaskId(body: string, key: KeyObject): string | null {
  let parsed: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(body);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    parsed = value as Record<string, unknown>;
  } catch {
    return null;
  }
  const plain = parsed.task_id ?? parsed.taskId;
  if (typeof plain === 'string' && plain !== '') return plain;
  const sealed = parsed.encrypted_task_id ?? parsed.encryptedTaskId;
  if (typeof sealed !== 'string') return null;
  return openTaskIdBox(sealed, key);
}
