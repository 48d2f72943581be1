/**
 * Credentials for registry requests (remote-protocol.md §3). The registry client asks its
 * provider for headers before EVERY request (so refreshed or rotated credentials are used) and
 * tells it about a 401. Providers never hand a credential to anything but the registry client:
 * not to the rendezvous, logs, argv, child processes or the runtime state.
 */
import type { Readable } from 'node:stream';
import type { RemoteAuthMethod } from '../../control/contract.ts';

export type { RemoteAuthMethod };

/** One registry request, as a provider may need it (SigV4 signs the URL and the body). */
export interface RegistryRequest {
  url: URL;
  method: 'POST';
  body: Uint8Array;
}

export interface AuthProvider {
  readonly method: RemoteAuthMethod;
  /**
   * Auth headers for one request, in the order the reference sends them
   * (e.g. `authorization`, then `chatgpt-account-id`). Throws AuthError when no usable
   * credential exists right now (e.g. an expired executor credential: no request is made).
   */
  headers(request: RegistryRequest, signal?: AbortSignal): Promise<Array<[name: string, value: string]>>;
  /**
   * After a 401: obtains a new credential if this mode can (ChatGPT: one forced refresh) and
   * resolves true when the request should be retried once; false means the 401 is final.
   */
  refreshAfterUnauthorized(signal?: AbortSignal): Promise<boolean>;
  /** Rules checked before any network I/O (API key: HTTPS openai hosts or loopback). Throws AuthError. */
  checkRegistryUrl(base: URL): void;
  /**
   * Settles when the provider can never produce a credential again and the executor should
   * exit (e.g. `--executor-credential-stdin` reached EOF): `code` is the exit code.
   */
  readonly ended?: Promise<{ code: number; message?: string }>;
  /**
   * True for credentials handed in from outside (`--registration-bearer-stdin`,
   * `--executor-credential-stdin`, `--chatgpt-token-stdin`): the 0.169.0 binary then never shows
   * a registry error body — 401/403 read `… authentication failed (<status>): response body omitted`,
   * other failures `environment registry request failed (<status>): environment registry executor
   * registration failed` (no code) — while still honouring the retryable codes. Absent = false.
   */
  readonly omitsRegistryErrorBody?: boolean;
  /** Stops timers and stdin readers. */
  close(): void;
}

export class AuthError extends Error {
  constructor(
    message: string,
    /** 'config': fix flags/env; 'auth_needed': sign in again; 'unavailable': try later. */
    readonly kind: 'config' | 'auth_needed' | 'unavailable' = 'config',
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/** The auth-related flags of `exec-desk --remote …` (flag-compatible with codex exec-server). */
export interface AuthSelection {
  useAgentIdentityAuth: boolean;
  registrationBearerStdin: boolean;
  executorCredentialStdin: boolean;
  chatgptTokenStdin: boolean;
  chatgptAccountId: string | null;
  /** `--aws-sigv4` (direct transport only). */
  awsSigv4: { profile: string | null; region: string | null; service: string } | null;
}

/** Where providers read from; tests pass their own. */
export interface AuthContext {
  env: NodeJS.ProcessEnv;
  /** For the three stdin modes. */
  stdin: Readable;
  /** Registry base URL (after trimming), for host rules. */
  registryUrl: URL;
  /** The configured environment id (executor credential frames must name it). */
  environmentId: string;
  /** `$CODEX_HOME`, default `~/.codex`. */
  codexHome: string;
}
