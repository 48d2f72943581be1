/**
 * Registry URL rules of the reference (remote-protocol.md §2.1, §3.1, §3.3), with its error texts.
 * Parsing follows the WHATWG parser (Node's URL); the Rust `url` crate the reference uses gives
 * the same result for the URLs that matter, but different parse-error wording, which is mapped here.
 */
import { AuthError } from './auth-provider.ts';

export const INVALID_REGISTRY_URL_PREFIX = 'invalid remote exec-server registration URL: ';
export const REGISTRY_URL_NEEDS_HOST = 'remote exec-server registration URL must include a host';
export const API_KEY_HOST_REFUSED =
  'remote exec-server API-key authentication is restricted to HTTPS openai.com and openai.org hosts and subdomains or loopback hosts';

/** Parses `--remote` after trimming (§2.1); throws AuthError('config') with the reference's text. */
export function parseRegistryUrl(text: string): URL {
  const trimmed = text.trim();
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(trimmed)) {
    throw new AuthError(`${INVALID_REGISTRY_URL_PREFIX}relative URL without a base`);
  }
  try {
    return new URL(trimmed);
  } catch {
    // Node gives no reason; the commonest one for a special scheme is a missing host.
    const special = /^(https?|wss?|ftp):\/\/[/?#]*$/i.test(trimmed) || /^(https?|wss?|ftp):\/\/(\/|$)/i.test(trimmed);
    throw new AuthError(`${INVALID_REGISTRY_URL_PREFIX}${special ? 'empty host' : 'invalid URL'}`);
  }
}

/** `localhost`, 127.0.0.0/8 or ::1 (the reference refuses `::ffff:127.0.0.1`, `0.0.0.0`, `*.localhost`). */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost') return true;
  if (host === '[::1]') return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return v4 !== null && v4.slice(1).every((octet) => Number(octet) <= 255) && v4[1] === '127';
}

function isOpenAiHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return ['openai.com', 'openai.org'].some((domain) => host === domain || host.endsWith(`.${domain}`));
}

/** A URL with no host (`unix:/x`, `file:///x`) is refused with the reference's text. */
export function requireHost(url: URL): void {
  if (url.hostname === '') throw new AuthError(REGISTRY_URL_NEEDS_HOST);
}

/**
 * API-key rule (§3.1, checked before any network I/O): `https` to openai.com / openai.org or
 * a subdomain, or `http`/`https` to a loopback host. Verified on the binary: `ws://127.0.0.1`,
 * `https://x.openai.org.` (trailing dot) and `http://api.openai.com` are refused.
 */
export function checkApiKeyRegistryUrl(url: URL): void {
  requireHost(url);
  const scheme = url.protocol;
  if (scheme !== 'http:' && scheme !== 'https:') throw new AuthError(API_KEY_HOST_REFUSED);
  if (isLoopbackHostname(url.hostname)) return;
  if (scheme === 'https:' && isOpenAiHost(url.hostname)) return;
  throw new AuthError(API_KEY_HOST_REFUSED);
}

export const HTTPS_OR_LOOPBACK_RULE_MESSAGE =
  'environment registry configuration error: remote transport requires https for non-loopback endpoints';

/**
 * `https://`, or `http://` to a loopback host — else the text above (also for a URL without a
 * host). The binary applies it to `--registration-bearer-stdin`, `--executor-credential-stdin`
 * (after reading the credential) and the direct transport; not to API-key, ChatGPT-login or
 * Agent Identity auth.
 */
export function checkHttpsOrLoopback(url: URL): void {
  if (url.protocol === 'https:' && url.hostname !== '') return;
  if (url.protocol === 'http:' && isLoopbackHostname(url.hostname)) return;
  throw new AuthError(HTTPS_OR_LOOPBACK_RULE_MESSAGE);
}
