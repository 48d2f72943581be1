/**
 * `--aws-sigv4` for the direct transport (remote-protocol.md §13, verified on 0.169.0): every
 * registry request is signed with `content-type;host;x-amz-date[;x-amz-security-token]` and the
 * body hash; the headers follow content-type in the order `x-amz-date`, `authorization`,
 * `x-amz-security-token`. The direct WebSocket upgrade is signed the same way without a body
 * (`host;x-amz-date[;x-amz-security-token]`), its headers in the order `x-amz-security-token`,
 * `authorization`, `x-amz-date` — see `upgradeHeaders`. The registry client is assumed to send
 * `content-type: application/json`, which is signed here.
 * Credentials are resolved once at start-up (aws-credentials.ts) and kept in `#setup`.
 */
import { AuthError, type AuthProvider, type RegistryRequest } from './auth-provider.ts';
import { resolveAwsSetup, type AwsSetup } from './aws-credentials.ts';
import { checkHttpsOrLoopback, isLoopbackHostname } from './registry-url.ts';
import { signRequest } from './sigv4.ts';

export const DEFAULT_AWS_SERVICE = 'execute-api';
export const REGISTRY_CONTENT_TYPE = 'application/json';
export { HTTPS_OR_LOOPBACK_RULE_MESSAGE as DIRECT_HTTPS_RULE_MESSAGE } from './registry-url.ts';
export const DIRECT_WSS_RULE_MESSAGE = 'environment registry configuration error: remote transport requires wss for non-loopback endpoints';

export interface SigV4Options {
  env: NodeJS.ProcessEnv;
  profile: string | null;
  region: string | null;
  service: string | null;
  /** Tests pin the clock to compare with captured signatures. */
  now?: () => Date;
}

export class SigV4Provider implements AuthProvider {
  readonly method = 'aws-sigv4' as const;
  readonly #setup: AwsSetup;
  readonly #service: string;
  readonly #now: () => Date;

  constructor(options: SigV4Options) {
    this.#setup = resolveAwsSetup(options.env, { profile: options.profile, region: options.region });
    this.#service = options.service || DEFAULT_AWS_SERVICE;
    this.#now = options.now ?? (() => new Date());
  }

  get region(): string {
    return this.#setup.region;
  }

  async headers(request: RegistryRequest): Promise<Array<[string, string]>> {
    const signed = signRequest({
      method: request.method,
      url: request.url,
      headers: [['content-type', REGISTRY_CONTENT_TYPE]],
      body: request.body,
      region: this.#setup.region,
      service: this.#service,
      credentials: this.#setup.credentials,
      date: this.#now(),
    });
    const headers: Array<[string, string]> = [
      ['x-amz-date', signed.amzDate],
      ['authorization', signed.authorization],
    ];
    if (this.#setup.credentials.sessionToken) headers.push(['x-amz-security-token', this.#setup.credentials.sessionToken]);
    return headers;
  }

  /** Headers for the direct transport's WebSocket upgrade to `url`, in the binary's order. */
  upgradeHeaders(url: URL): Array<[string, string]> {
    checkDirectWebSocketUrl(url);
    const signed = signRequest({
      method: 'GET',
      url,
      region: this.#setup.region,
      service: this.#service,
      credentials: this.#setup.credentials,
      date: this.#now(),
    });
    const headers: Array<[string, string]> = [];
    if (this.#setup.credentials.sessionToken) headers.push(['x-amz-security-token', this.#setup.credentials.sessionToken]);
    headers.push(['authorization', signed.authorization], ['x-amz-date', signed.amzDate]);
    return headers;
  }

  /** Static keys cannot be renewed here: a 401 is final. */
  async refreshAfterUnauthorized(): Promise<boolean> {
    return false;
  }

  /** `https://`, or `http://` to a loopback host. */
  checkRegistryUrl(base: URL): void {
    checkHttpsOrLoopback(base);
  }

  close(): void {}
}

/** `wss://`, or `ws://` to a loopback host (the registry's answer `url`). */
export function checkDirectWebSocketUrl(url: URL): void {
  if (url.protocol === 'wss:') return;
  if (url.protocol === 'ws:' && isLoopbackHostname(url.hostname)) return;
  throw new AuthError(DIRECT_WSS_RULE_MESSAGE);
}
