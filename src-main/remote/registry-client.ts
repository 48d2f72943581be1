/**
 * The executor's registry client (remote-protocol.md §2): `POST …/register` and `POST …/validate`
 * exactly as codex-cli 0.169.0 sends them, and its answers mapped the way 0.169.0 maps them,
 * fatal error texts included (checked against the binary).
 *
 * node:http/https directly rather than fetch: the reference's header list and order
 * (content-type, auth headers, accept, host, content-length; no user-agent, no connection) and
 * "never follow a redirect" must hold byte for byte, and fetch adds headers of its own.
 */
import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { silentLogger, type Logger } from '../core/log.ts';
import { encodePublicKeyJson, SECURITY_PROFILE, type NoisePublicKey } from '../transport/noise/hybrid-ik.ts';
import type { HarnessValidationResult } from '../transport/relay/noise-relay-host.ts';
import type { AuthProvider } from './auth/auth-provider.ts';
import { trustedCas } from './tls-trust.ts';

/** Whole-request deadline, response body included. */
export const REGISTRY_TIMEOUT_MS = 10_000;
/** Error bodies are quoted up to this many characters. */
export const MAX_ERROR_BODY_CHARS = 4096;
/** Largest response body read (the registry's answers are a few hundred bytes). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

const REQUEST_FAILED = 'environment registry request failed';
export const TIMEOUT_MESSAGE = `${REQUEST_FAILED}: route-aware request timed out`;
export const EMPTY_ERROR_BODY = 'empty or malformed error body';
export const PROTOCOL_ERROR = 'exec-server protocol error';
/**
 * What 0.169.0 prints instead of the registry's message when the credential came in on stdin
 * (`AuthProvider.omitsRegistryErrorBody`): the body may echo that credential.
 */
export const AUTH_BODY_OMITTED = 'response body omitted';
export const REGISTRATION_FAILED_NO_BODY = 'environment registry executor registration failed';
const JSON_ERROR = 'failed to serialize or deserialize exec-server JSON';

/** The two registration answers 0.169.0 retries forever: [status, error code]. */
const RETRYABLE: ReadonlyArray<[number, string]> = [
  [503, 'registration_conflict'],
  [502, 'authentication_service_unavailable'],
];

/**
 * A registry failure. `kind`: 'auth' = the registry refused the credential (401/403 after any
 * refresh); 'retryable' = one of the two answers retried forever; 'fatal' = anything else
 * (0.169.0 exits with `Error: <message>`).
 */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly kind: 'fatal' | 'auth' | 'retryable',
    readonly status: number | null = null,
    /** anyhow's `Caused by:` chain 0.169.0 prints under the `Error:` line (JSON errors have one). */
    readonly causes: readonly string[] = [],
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** The text 0.169.0 prints for a fatal error: `Error: <message>`, then its `Caused by:` block if any. */
export function fatalErrorText(message: string, causes: readonly string[] = []): string {
  if (causes.length === 0) return `Error: ${message}`;
  return `Error: ${message}\n\nCaused by:\n${causes.map((cause) => `    ${cause}`).join('\n')}`;
}

export interface Registration {
  environmentId: string;
  /** The rendezvous WebSocket URL (opaque; a signed capability). */
  url: string;
  registrationId: string;
}

export interface RegistryClientOptions {
  /** `--remote` as given (trimmed and stripped of trailing slashes here). */
  registryUrl: string;
  /** `--environment-id` as given (trimmed here, then used raw in the path, as 0.169.0 does). */
  environmentId: string;
  auth: AuthProvider;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** [0, 1); the jitter of the retry delay. */
  random?: () => number;
  /** Waits between retries (tests pass a fast one). Rejects when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RegisterOptions {
  signal?: AbortSignal;
  /** Told before each wait of a retried registration (for the link's nextAttemptAtMs). */
  onRetry?: (delayMs: number, error: RegistryError) => void;
}

interface RegistryResponse {
  status: number;
  body: Buffer;
}

/** Rust's `str::trim` (Unicode White_Space). */
export function rustTrim(text: string): string {
  return text.replace(/^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g, '');
}

/** The base URL as 0.169.0 joins onto it: trimmed, trailing `/` removed. */
export function registryBase(registryUrl: string): string {
  return rustTrim(registryUrl).replace(/\/+$/, '');
}

/** `{base}/cloud/environment/{id}/{name}`; the id is interpolated raw (a `/` or `?` in it stays). */
export function registryEndpoint(registryUrl: string, environmentId: string, name: 'register' | 'validate' | 'direct/register'): URL {
  return new URL(`${registryBase(registryUrl)}/cloud/environment/${rustTrim(environmentId)}/${name}`);
}

/** The registration retry delay (§2.3): base = min(500 ms·2^min(a,4), 5 s), uniform in [base, 1.5·base]. */
export function registrationRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(500 * 2 ** Math.min(attempt, 4), 5_000);
  return base + Math.floor(random() * (base / 2 + 1));
}

/** reqwest's (and http's) status display: `404 Not Found`, `599 <unknown status code>`. */
export function statusText(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? '<unknown status code>'}`;
}

/** `{"error":{code?,message}}`, else `{"detail":{code?,message}}`, else the trimmed body. */
export function parseErrorBody(body: Buffer): { code: string | null; message: string } {
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  for (const key of ['error', 'detail']) {
    const envelope = (parsed as Record<string, unknown> | undefined)?.[key] as Record<string, unknown> | undefined;
    if (envelope && typeof envelope === 'object' && typeof envelope.message === 'string') {
      return { code: typeof envelope.code === 'string' ? envelope.code : null, message: envelope.message };
    }
  }
  const trimmed = rustTrim(text).slice(0, MAX_ERROR_BODY_CHARS);
  return { code: null, message: trimmed === '' ? EMPTY_ERROR_BODY : trimmed };
}

/** serde_json's "at line L column C" for the end of the top-level value (missing fields). */
function endPosition(text: string): string {
  const bytes = Buffer.from(text.replace(/\s+$/, ''), 'utf8');
  let line = 1;
  let column = 0;
  for (const byte of bytes) {
    if (byte === 0x0a) {
      line++;
      column = 0;
    } else column++;
  }
  return `at line ${line} column ${column}`;
}

/** serde_json's error wrapped the way 0.169.0 reports it (the serde text is also the cause). */
function jsonError(detail: string): RegistryError {
  return new RegistryError(`${JSON_ERROR}: ${detail}`, 'fatal', null, [detail]);
}

/**
 * A registry answer parsed as an object of string fields, with serde_json's texts for what
 * 0.169.0 refuses before looking at values: bad JSON, not an object, a missing or non-string
 * field (the first missing one in declaration order).
 */
export function jsonFieldError<F extends string>(body: Buffer, fields: readonly F[], typeName: string): Record<F, string> {
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw jsonError((error as Error).message);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw jsonError(`invalid type: expected struct ${typeName}`);
  const record = value as Record<string, unknown>;
  for (const field of fields) {
    if (!(field in record)) throw jsonError(`missing field \`${field}\` ${endPosition(text)}`);
    if (typeof record[field] !== 'string') throw jsonError(`invalid type: ${JSON.stringify(record[field])}, expected a string (field \`${field}\`)`);
  }
  return record as Record<F, string>;
}

/** The `/register` answer, checked in 0.169.0's order: JSON shape, environment id, security profile. */
export function parseRegistration(body: Buffer, environmentId: string): Registration {
  const record = jsonFieldError(body, ['environment_id', 'url', 'security_profile', 'executor_registration_id'], 'EnvironmentRegistrationResponse');
  if (record.environment_id !== rustTrim(environmentId)) {
    throw new RegistryError(`${PROTOCOL_ERROR}: environment registry returned a different environment id`, 'fatal');
  }
  if (record.security_profile !== SECURITY_PROFILE) {
    throw new RegistryError(`${PROTOCOL_ERROR}: environment registry returned unsupported security profile \`${record.security_profile}\``, 'fatal');
  }
  return { environmentId: record.environment_id, url: record.url, registrationId: record.executor_registration_id };
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class RegistryClient {
  readonly registerUrl: URL;
  readonly validateUrl: URL;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly ca: string[] | undefined;

  constructor(private readonly options: RegistryClientOptions) {
    this.registerUrl = registryEndpoint(options.registryUrl, options.environmentId, 'register');
    this.validateUrl = registryEndpoint(options.registryUrl, options.environmentId, 'validate');
    this.log = options.log ?? silentLogger;
    this.timeoutMs = options.timeoutMs ?? REGISTRY_TIMEOUT_MS;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? defaultSleep;
    this.ca = trustedCas(options.env ?? process.env);
  }

  /**
   * Registers the executor's Noise key. Retries the two retryable answers forever (§2.3 delay);
   * a 401 gets one provider refresh and one retry. Throws RegistryError (or the provider's
   * AuthError when it has no credential).
   */
  async register(publicKey: NoisePublicKey, options: RegisterOptions = {}): Promise<Registration> {
    const body = Buffer.from(
      JSON.stringify({ security_profile: SECURITY_PROFILE, executor_public_key: encodePublicKeyJson(publicKey) }),
      'utf8',
    );
    let retries = 0;
    let refreshed = false;
    for (;;) {
      const response = await this.post(this.registerUrl, body, options.signal);
      if (response.status >= 200 && response.status < 300) return parseRegistration(response.body, this.options.environmentId);
      if (response.status === 401 && !refreshed) {
        refreshed = true;
        if (await this.options.auth.refreshAfterUnauthorized(options.signal)) continue;
      }
      const error = this.statusError(response);
      if (error.kind !== 'retryable') throw error;
      const delay = registrationRetryDelayMs(retries++, this.random);
      this.log.warn('environment registry registration will be retried', { status: response.status, delayMs: delay });
      options.onRetry?.(delay, error);
      await this.sleep(delay, options.signal);
    }
  }

  /**
   * One request to `url` (a 401 gets the provider's refresh and one retry): the body of a 2xx
   * answer, else the RegistryError `/register` would report — never retried here (the direct
   * transport's registration retries nothing, §13).
   */
  async postOnce(url: URL, body: Buffer, signal?: AbortSignal): Promise<Buffer> {
    let refreshed = false;
    for (;;) {
      const response = await this.post(url, body, signal);
      if (response.status >= 200 && response.status < 300) return response.body;
      if (response.status === 401 && !refreshed) {
        refreshed = true;
        if (await this.options.auth.refreshAfterUnauthorized(signal)) continue;
      }
      const error = this.statusError(response);
      throw error.kind === 'retryable' ? new RegistryError(error.message, 'fatal', error.status) : error;
    }
  }

  /**
   * `/validate` for one incoming handshake. 2xx `{"valid":true}` → valid; 401 (after one
   * refresh, if the provider can) → registry_auth_rejected; anything else → invalid. Transport
   * failures and timeouts throw (the relay host resets the stream either way). The error body
   * is never read: it may echo the authorization.
   */
  async validate(
    request: { registrationId: string; harnessKey: NoisePublicKey; authorization: string },
    signal?: AbortSignal,
  ): Promise<HarnessValidationResult> {
    const body = Buffer.from(
      JSON.stringify({
        executor_registration_id: request.registrationId,
        harness_public_key: encodePublicKeyJson(request.harnessKey),
        harness_key_authorization: request.authorization,
      }),
      'utf8',
    );
    let refreshed = false;
    for (;;) {
      const response = await this.post(this.validateUrl, body, signal);
      if (response.status === 401) {
        if (!refreshed) {
          refreshed = true;
          if (await this.options.auth.refreshAfterUnauthorized(signal)) continue;
        }
        return 'registry_auth_rejected';
      }
      if (response.status < 200 || response.status >= 300) return 'invalid';
      let parsed: unknown;
      try {
        parsed = JSON.parse(response.body.toString('utf8'));
      } catch {
        return 'invalid';
      }
      const valid = (parsed as { valid?: unknown } | null)?.valid;
      return valid === true ? 'valid' : 'invalid';
    }
  }

  private statusError(response: RegistryResponse): RegistryError {
    const { code, message } = parseErrorBody(response.body);
    const status = statusText(response.status);
    // Stdin credentials: neither the message nor the code is shown, but the code still decides retries.
    const omit = this.options.auth.omitsRegistryErrorBody === true;
    if (response.status === 401 || response.status === 403) {
      const shown = omit ? AUTH_BODY_OMITTED : message;
      return new RegistryError(`environment registry authentication error: environment registry authentication failed (${status}): ${shown}`, 'auth', response.status);
    }
    const retryable = RETRYABLE.some(([s, c]) => s === response.status && c === code);
    const detail = omit ? `(${status}): ${REGISTRATION_FAILED_NO_BODY}` : `(${status}${code === null ? '' : `, ${code}`}): ${message}`;
    return new RegistryError(`${REQUEST_FAILED} ${detail}`, retryable ? 'retryable' : 'fatal', response.status);
  }

  /** One POST with the reference's headers; never follows redirects. */
  private async post(url: URL, body: Buffer, signal?: AbortSignal): Promise<RegistryResponse> {
    if (signal?.aborted) throw abortError(signal);
    // Resolved per request so refreshed or rotated credentials are used (may throw AuthError).
    const authHeaders = await this.options.auth.headers({ url, method: 'POST', body }, signal);
    if (signal?.aborted) throw abortError(signal);
    return new Promise<RegistryResponse>((resolve, reject) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      let settled = false;
      const finish = (error: Error | null, response?: RegistryResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) {
          req.destroy();
          reject(error);
        } else resolve(response!);
      };
      const req = send(url, {
        method: 'POST',
        setHost: false,
        agent: false,
        ca: this.ca,
      });
      // setHeader in the reference's order (an object or array `headers` option would make Node
      // add `Host` where it likes, or store the head before `Connection` can be removed).
      const headers: Array<[string, string]> = [
        ['content-type', 'application/json'],
        ...authHeaders,
        ['accept', '*/*'],
        ['host', url.host],
        ['content-length', String(body.length)],
      ];
      for (const [name, value] of headers) req.setHeader(name, value);
      // Node would add `Connection: close`; hyper sends no connection header.
      req.removeHeader('connection');
      const timer = setTimeout(() => finish(new RegistryError(TIMEOUT_MESSAGE, 'fatal')), this.timeoutMs);
      const onAbort = () => finish(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', () => finish(new RegistryError(`${REQUEST_FAILED}: error sending request for url (${url.href})`, 'fatal')));
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) return finish(new RegistryError(`${REQUEST_FAILED}: response body is too large`, 'fatal'));
          chunks.push(chunk);
        });
        res.on('end', () => finish(null, { status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', () => finish(new RegistryError(`${REQUEST_FAILED}: error decoding response body`, 'fatal')));
      });
      req.end(body);
    });
  }
}
