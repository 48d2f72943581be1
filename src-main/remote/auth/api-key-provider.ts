/**
 * API-key auth (remote-protocol.md §3.1): `authorization: Bearer <key>` and nothing else.
 * The key comes from `CODEX_API_KEY` or the `OPENAI_API_KEY` member of `$CODEX_HOME/auth.json`;
 * it is kept only in this object's private field and leaves it only as the header value.
 */
import type { AuthProvider, RegistryRequest } from './auth-provider.ts';
import { checkApiKeyRegistryUrl } from './registry-url.ts';

export class ApiKeyProvider implements AuthProvider {
  readonly method = 'api-key' as const;
  readonly #key: string;

  constructor(key: string) {
    this.#key = key;
  }

  async headers(_request: RegistryRequest): Promise<Array<[string, string]>> {
    return [['authorization', `Bearer ${this.#key}`]];
  }

  /** A 401/403 with an API key is final (§3.1). */
  async refreshAfterUnauthorized(): Promise<boolean> {
    return false;
  }

  checkRegistryUrl(base: URL): void {
    checkApiKeyRegistryUrl(base);
  }

  close(): void {}
}
