/**
 * `--executor-credential-stdin` (remote-protocol.md §3.5; texts, bound and behaviour measured on
 * 0.169.0): stdin carries NDJSON frames `{"version":1,"token":…,"environment_id":…,"expires_at":<int>}`.
 *
 * - Exactly those four members; `version` the integer 1; `expires_at` an integer (no fraction or
 *   exponent, not a string); `token` visible ASCII → else `invalid exec-server executor credential frame`.
 * - A frame for another environment, or one whose `expires_at` is not in the future, is refused.
 * - A frame (newline included) over 16 KiB → `exec-server executor credential frame exceeds the size limit`.
 * - The first frame must come within 30 s; EOF before it → `exec-server executor credential pipe closed`.
 * - Later frames replace the credential; a bad later frame ends the executor (code 1, its text);
 *   EOF ends it with code 0.
 * - An expired credential makes headers() throw: no request is sent.
 * - The registry must be https or loopback http.
 * The current token is kept only in `#credential`.
 */
import type { Readable } from 'node:stream';
import { AuthError, type AuthProvider, type RegistryRequest } from './auth-provider.ts';
import { BoundedLineReader, isBearerToken, type LineResult } from './bounded-line-reader.ts';
import { checkHttpsOrLoopback } from './registry-url.ts';

export const EXECUTOR_CREDENTIAL_MAX_FRAME_BYTES = 16 * 1024;
export const INITIAL_CREDENTIAL_TIMEOUT_MS = 30_000;
export const CREDENTIAL_FRAME_VERSION = 1;

export const INVALID_FRAME_MESSAGE = 'invalid exec-server executor credential frame';
export const OTHER_ENVIRONMENT_MESSAGE = 'exec-server executor credential is for a different environment';
export const EXPIRED_MESSAGE = 'exec-server executor credential is expired';
export const FRAME_TOO_LARGE_MESSAGE = 'exec-server executor credential frame exceeds the size limit';
export const INITIAL_TIMEOUT_MESSAGE = 'timed out waiting for the initial exec-server executor credential';
export const PIPE_CLOSED_MESSAGE = 'exec-server executor credential pipe closed';

const FRAME_KEYS = ['version', 'token', 'environment_id', 'expires_at'];

interface Credential {
  token: string;
  /** Unix seconds. */
  expiresAt: number;
}

/** True when a number literal outside strings has a fraction or exponent (JSON.parse hides `1.0`). */
function hasNonIntegerNumber(text: string): boolean {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '.' || c === 'e' || c === 'E') return true;
  }
  return false;
}

/** Validates one frame; throws AuthError with the binary's text. */
export function parseCredentialFrame(bytes: Buffer, environmentId: string, nowMs: number): Credential {
  let frame: Record<string, unknown>;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (hasNonIntegerNumber(text)) throw new Error('number');
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('shape');
    frame = parsed as Record<string, unknown>;
  } catch {
    throw new AuthError(INVALID_FRAME_MESSAGE);
  }
  const keys = Object.keys(frame);
  const shapeOk =
    keys.length === FRAME_KEYS.length &&
    FRAME_KEYS.every((key) => keys.includes(key)) &&
    frame.version === CREDENTIAL_FRAME_VERSION &&
    typeof frame.token === 'string' &&
    isBearerToken(Buffer.from(frame.token, 'utf8')) &&
    typeof frame.environment_id === 'string' &&
    typeof frame.expires_at === 'number' &&
    Number.isSafeInteger(frame.expires_at);
  if (!shapeOk) throw new AuthError(INVALID_FRAME_MESSAGE);
  if (frame.environment_id !== environmentId) throw new AuthError(OTHER_ENVIRONMENT_MESSAGE);
  const expiresAt = frame.expires_at as number;
  if (expiresAt * 1000 <= nowMs) throw new AuthError(EXPIRED_MESSAGE);
  return { token: frame.token as string, expiresAt };
}

/** Maps a reader result other than a line to the binary's text. */
function nonLineMessage(result: Exclude<LineResult, { kind: 'line' }>): string {
  switch (result.kind) {
    case 'too-long':
      return FRAME_TOO_LARGE_MESSAGE;
    case 'eof':
      return result.partial ? INVALID_FRAME_MESSAGE : PIPE_CLOSED_MESSAGE;
    case 'error':
      return PIPE_CLOSED_MESSAGE;
  }
}

export interface ExecutorCredentialOptions {
  stdin: Readable;
  /** The configured (trimmed) environment id. */
  environmentId: string;
  /** Default 30 s (the binary's). */
  initialTimeoutMs?: number;
  signal?: AbortSignal;
}

export class ExecutorCredentialProvider implements AuthProvider {
  readonly method = 'executor-credential' as const;
  readonly omitsRegistryErrorBody = true;
  readonly ended: Promise<{ code: number; message?: string }>;
  #credential: Credential;
  readonly #reader: BoundedLineReader;
  readonly #environmentId: string;
  #settle!: (outcome: { code: number; message?: string }) => void;
  #closed = false;

  private constructor(reader: BoundedLineReader, environmentId: string, first: Credential) {
    this.#reader = reader;
    this.#environmentId = environmentId;
    this.#credential = first;
    this.ended = new Promise((resolve) => {
      this.#settle = resolve;
    });
    void this.#follow();
  }

  /** Waits for the first valid frame; throws AuthError('config') with the binary's start-up texts. */
  static async fromStdin(options: ExecutorCredentialOptions): Promise<ExecutorCredentialProvider> {
    const reader = new BoundedLineReader(options.stdin, EXECUTOR_CREDENTIAL_MAX_FRAME_BYTES);
    // A referenced timer (unlike AbortSignal.timeout): waiting for the first frame keeps the process up.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), options.initialTimeoutMs ?? INITIAL_CREDENTIAL_TIMEOUT_MS);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
    try {
      let result: LineResult;
      try {
        result = await reader.next(signal);
      } catch (err) {
        if (timeout.signal.aborted) throw new AuthError(INITIAL_TIMEOUT_MESSAGE);
        throw err;
      } finally {
        clearTimeout(timer);
      }
      if (result.kind !== 'line') throw new AuthError(nonLineMessage(result));
      const first = parseCredentialFrame(result.bytes, options.environmentId, Date.now());
      return new ExecutorCredentialProvider(reader, options.environmentId, first);
    } catch (err) {
      reader.close();
      throw err;
    }
  }

  /** Later frames rotate the credential; a bad one or EOF ends the provider. */
  async #follow(): Promise<void> {
    for (;;) {
      const result = await this.#reader.next();
      if (this.#closed) return;
      if (result.kind !== 'line') {
        const eofClean = result.kind === 'eof' && !result.partial;
        this.#finish(eofClean ? { code: 0 } : { code: 1, message: nonLineMessage(result) });
        return;
      }
      try {
        this.#credential = parseCredentialFrame(result.bytes, this.#environmentId, Date.now());
      } catch (err) {
        this.#finish({ code: 1, message: (err as Error).message });
        return;
      }
    }
  }

  #finish(outcome: { code: number; message?: string }): void {
    this.#reader.close();
    this.#settle(outcome);
  }

  async headers(_request: RegistryRequest): Promise<Array<[string, string]>> {
    if (this.#credential.expiresAt * 1000 <= Date.now()) throw new AuthError(EXPIRED_MESSAGE, 'auth_needed');
    return [['authorization', `Bearer ${this.#credential.token}`]];
  }

  /** New credentials arrive on stdin by themselves: a 401 is final. */
  async refreshAfterUnauthorized(): Promise<boolean> {
    return false;
  }

  /** `https://` or loopback `http://` (observed on 0.169.0, checked after the credential is read). */
  checkRegistryUrl(base: URL): void {
    checkHttpsOrLoopback(base);
  }

  close(): void {
    this.#closed = true;
    this.#reader.close();
  }
}
