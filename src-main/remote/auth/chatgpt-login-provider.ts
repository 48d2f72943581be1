/**
 * ChatGPT login from `$CODEX_HOME/auth.json` (remote-protocol.md §3.2, verified on 0.169.0):
 * `authorization: Bearer <access_token>` and, when the login has one, `chatgpt-account-id`.
 *
 * - Proactive refresh when the access token's `exp` is within 5 minutes or past.
 *   If it fails while the token is still valid, the current token is used (as the binary does);
 *   if the token has expired, headers() throws AuthError('auth_needed').
 * - After a 401: one forced refresh, then `true` (retry once); a 401 for the token that forced
 *   refresh produced answers `false` (final).
 * - A permanent refresh failure (any 4xx from the token endpoint) is remembered: no further
 *   attempts, as on the binary.
 * - Before refreshing, auth.json is re-read: if another process (e.g. the Codex CLI) already
 *   refreshed, its tokens are adopted instead of spending our now-stale refresh token.
 * - New tokens and `last_refresh` go back to auth.json atomically; other members are preserved.
 *
 * Credentials live in `#tokens` (memory) and in auth.json only; error texts never include them.
 */
import { AuthError, type AuthProvider, type RegistryRequest } from './auth-provider.ts';
import { classifyAuthJson, readAuthJsonText, writeAuthJsonAtomically, type AuthDotJson, type TokenData } from './auth-json.ts';
import { refreshChatgptTokens, RefreshFailure, type RefreshReason, type RefreshedTokens } from './chatgpt-token-refresh.ts';
import { jwtExpiry } from './jwt-claims.ts';

/** Refresh when the access token expires within this window (refreshed at 4 min, not at 6). */
export const PROACTIVE_REFRESH_WINDOW_MS = 5 * 60 * 1000;

export interface ChatgptLoginOptions {
  authPath: string;
  env: NodeJS.ProcessEnv;
  /** The tokens read at start-up (classifyAuthJson). */
  tokens: TokenData;
}

export class ChatgptLoginProvider implements AuthProvider {
  readonly method = 'chatgpt' as const;
  #tokens: TokenData;
  readonly #authPath: string;
  readonly #env: NodeJS.ProcessEnv;
  #inflight: Promise<void> | null = null;
  #permanentFailure: string | null = null;
  /** The access token the last forced refresh produced: a 401 for it is final. */
  #forcedToken: string | null = null;
  /** Why the last write-back of auth.json failed (the tokens in memory are still used). */
  lastPersistError: string | null = null;

  constructor(options: ChatgptLoginOptions) {
    this.#tokens = { ...options.tokens };
    this.#authPath = options.authPath;
    this.#env = options.env;
  }

  async headers(_request: RegistryRequest, signal?: AbortSignal): Promise<Array<[string, string]>> {
    if (this.#expiresSoon()) {
      try {
        await this.#refresh('proactive_expiry', signal);
      } catch (err) {
        if (!(err instanceof RefreshFailure)) throw err;
        if (this.#expired()) throw new AuthError(err.message, err.permanent ? 'auth_needed' : 'unavailable');
      }
    }
    const headers: Array<[string, string]> = [['authorization', `Bearer ${this.#tokens.access_token}`]];
    const account = this.#tokens.account_id;
    if (account) headers.push(['chatgpt-account-id', account]);
    return headers;
  }

  async refreshAfterUnauthorized(signal?: AbortSignal): Promise<boolean> {
    try {
      if (this.#inflight) {
        // Another request is refreshing already: its result serves this one too.
        await this.#join(this.#inflight, signal);
        return true;
      }
      if (this.#permanentFailure !== null) throw new RefreshFailure(this.#permanentFailure, true);
      if (this.#tokens.access_token === this.#forcedToken) return false;
      await this.#refresh('forced', signal);
    } catch (err) {
      if (err instanceof RefreshFailure) throw new AuthError(err.message, err.permanent ? 'auth_needed' : 'unavailable');
      throw err;
    }
    this.#forcedToken = this.#tokens.access_token;
    return true;
  }

  /** No URL rule in this mode on 0.169.0 (a URL without a host fails when the request is built). */
  checkRegistryUrl(_base: URL): void {}

  close(): void {}

  #expiresAt(): number | null {
    const exp = jwtExpiry(this.#tokens.access_token);
    return exp === null ? null : exp * 1000;
  }

  #expiresSoon(): boolean {
    const at = this.#expiresAt();
    return at !== null && at - Date.now() <= PROACTIVE_REFRESH_WINDOW_MS;
  }

  #expired(): boolean {
    const at = this.#expiresAt();
    return at !== null && at <= Date.now();
  }

  async #join(shared: Promise<void>, signal?: AbortSignal): Promise<void> {
    if (!signal) return shared;
    signal.throwIfAborted();
    // A caller that gives up must not cancel the refresh the others are waiting for.
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      shared.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** One refresh at a time; concurrent callers share it. */
  #refresh(reason: RefreshReason, signal?: AbortSignal): Promise<void> {
    if (this.#permanentFailure !== null) return Promise.reject(new RefreshFailure(this.#permanentFailure, true));
    if (!this.#inflight) {
      this.#inflight = this.#runRefresh(reason).finally(() => {
        this.#inflight = null;
      });
    }
    return this.#join(this.#inflight, signal);
  }

  async #runRefresh(reason: RefreshReason): Promise<void> {
    const onDisk = await this.#readDisk();
    if (onDisk && onDisk.tokens.access_token !== this.#tokens.access_token) {
      this.#tokens = { ...onDisk.tokens };
      if (reason === 'forced' || !this.#expiresSoon()) return;
    }
    let fresh: RefreshedTokens;
    try {
      fresh = await refreshChatgptTokens(this.#tokens.refresh_token, reason, this.#env);
    } catch (err) {
      if (err instanceof RefreshFailure && err.permanent) this.#permanentFailure = err.message;
      throw err;
    }
    // Missing members keep their old value (the binary does the same); account_id is kept.
    this.#tokens = {
      ...this.#tokens,
      ...(fresh.id_token !== undefined ? { id_token: fresh.id_token } : {}),
      ...(fresh.access_token !== undefined ? { access_token: fresh.access_token } : {}),
      ...(fresh.refresh_token !== undefined ? { refresh_token: fresh.refresh_token } : {}),
    };
    await this.#persist();
  }

  async #readDisk(): Promise<{ file: AuthDotJson; tokens: TokenData } | null> {
    try {
      const login = classifyAuthJson(await readAuthJsonText(this.#authPath));
      return login.kind === 'chatgpt' ? login : null;
    } catch {
      return null;
    }
  }

  async #persist(): Promise<void> {
    let current: AuthDotJson = {};
    try {
      const text = await readAuthJsonText(this.#authPath);
      const parsed: unknown = text === null ? {} : JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) current = parsed as AuthDotJson;
    } catch {
      // An unreadable file is replaced by what we know.
    }
    const previousTokens = current.tokens && typeof current.tokens === 'object' ? current.tokens : {};
    const next: AuthDotJson = {
      ...current,
      auth_mode: current.auth_mode ?? 'chatgpt',
      tokens: { ...previousTokens, ...this.#tokens },
      last_refresh: new Date().toISOString(),
    };
    try {
      await writeAuthJsonAtomically(this.#authPath, next);
      this.lastPersistError = null;
    } catch (err) {
      this.lastPersistError = `failed to write ${this.#authPath}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`;
    }
  }
}
