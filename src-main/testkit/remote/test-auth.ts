/**
 * A plain AuthProvider for remote tests: a fixed (or rotating) bearer, like API-key auth without
 * the host rules, plus counters so tests can see how the registry client used it.
 */
import { AuthError, type AuthProvider, type RegistryRequest } from '../../remote/auth/auth-provider.ts';

export interface TestAuthProvider extends AuthProvider {
  /** Requests the provider was asked to authorize. */
  readonly requests: RegistryRequest[];
  refreshCalls: number;
  /** The bearer sent from now on. */
  token: string;
  /** Thrown by headers() when set (e.g. an AuthError of kind 'auth_needed'). */
  failWith: AuthError | null;
}

export function testAuthProvider(token: string, options: { refreshTo?: string } = {}): TestAuthProvider {
  const provider: TestAuthProvider = {
    method: 'api-key',
    requests: [],
    refreshCalls: 0,
    token,
    failWith: null,
    async headers(request) {
      if (provider.failWith) throw provider.failWith;
      provider.requests.push(request);
      return [['authorization', `Bearer ${provider.token}`]];
    },
    async refreshAfterUnauthorized() {
      provider.refreshCalls++;
      if (options.refreshTo === undefined) return false;
      provider.token = options.refreshTo;
      return true;
    },
    checkRegistryUrl() {},
    close() {},
  };
  return provider;
}
