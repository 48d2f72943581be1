/**
 * Validation of `http/request` inputs with the reference's texts (Rust `http` and `url` crates):
 * methods and header names are RFC 9110 tokens, header values are bytes without control characters,
 * and URLs are parsed by the WHATWG rules — Node's `URL` accepts and rejects the same inputs as the
 * `url` crate (checked against 0.169.0 on ~100 edge cases); only the rejection reason has to be
 * recovered, because Node does not report one.
 */
import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `http::Method::from_bytes`: a non-empty token (case is kept: `get` is sent as `get`). */
export function isValidMethod(method: string): boolean {
  return TCHAR.test(method);
}

/** `http::HeaderName::from_bytes`: a token of 1..65535 bytes (sent lower-cased). */
export function isValidHeaderName(name: string): boolean {
  return name.length > 0 && name.length <= 65535 && TCHAR.test(name);
}

/**
 * `http::HeaderValue::from_str`: HTAB, or any byte >= 0x20 except DEL. Non-ASCII characters are
 * UTF-8 bytes >= 0x80 and therefore allowed; leading/trailing whitespace is kept.
 */
export function isValidHeaderValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x09) continue;
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

/** A response header value `to_str()` accepts: HTAB or visible ASCII only (bytes as Latin-1). */
export function isVisibleAscii(latin1: string): boolean {
  for (let i = 0; i < latin1.length; i++) {
    const c = latin1.charCodeAt(i);
    if (c === 0x09) continue;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; message: string };

/** Parses an absolute http(s) URL; failures carry the reference's -32602 message. */
export function parseRequestUrl(input: string): UrlCheck {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { ok: false, message: `http/request url is invalid: ${urlParseError(input)}` };
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https') {
    return { ok: false, message: `http/request only supports http and https URLs, got ${scheme}` };
  }
  return { ok: true, url };
}

const SPECIAL_SCHEMES = new Set(['http', 'https', 'ws', 'wss', 'ftp', 'file']);
/** WHATWG forbidden domain code points (the `url` crate sends them to IDNA, which rejects them). */
const FORBIDDEN_DOMAIN = /[\u0000-\u0020#%/:<>?@[\\\]^|\u007f]/;

/**
 * The `url` crate's `ParseError` text for an input Node's `URL` rejected. The crate parses the scheme,
 * then the host (`empty host`, IDNA, IPv4/IPv6 errors), then the port, and reports the first failure.
 */
export function urlParseError(input: string): string {
  const s = input.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(s);
  if (!m) return 'relative URL without a base';
  const special = SPECIAL_SCHEMES.has(m[1]!.toLowerCase());
  let rest = s.slice(m[0].length);
  if (special) rest = rest.replace(/^[/\\]*/, '');
  else if (rest.startsWith('//')) rest = rest.slice(2);
  else return 'relative URL without a base';
  const end = rest.search(special ? /[/\\?#]/ : /[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);

  let portText = '';
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) return 'invalid IPv6 address';
    const address = hostPort.slice(1, close);
    if (address.includes('%') || !isIPv6(address)) return 'invalid IPv6 address';
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return 'invalid IPv6 address';
    portText = after.slice(1);
  } else {
    const colon = hostPort.indexOf(':');
    const host = colon < 0 ? hostPort : hostPort.slice(0, colon);
    portText = colon < 0 ? '' : hostPort.slice(colon + 1);
    const hostError = domainError(host, special);
    if (hostError) return hostError;
  }
  if (portText !== '' && (!/^[0-9]+$/.test(portText) || Number(portText) > 65535)) return 'invalid port number';
  return 'invalid international domain name';
}

function domainError(host: string, special: boolean): string | null {
  if (host === '') return special ? 'empty host' : null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(host);
  } catch {
    decoded = host; // an invalid %-sequence stays literal, and '%' is forbidden below
  }
  if (FORBIDDEN_DOMAIN.test(decoded)) return 'invalid international domain name';
  if (domainToASCII(decoded) !== '') return null; // a valid domain or IPv4 address
  // Characters IDNA maps to nothing (U+00AD, U+200B, ...) leave an empty host.
  if (domainToASCII(`${decoded}a`) === 'a') return 'empty host';
  if (endsInNumber(decoded.toLowerCase())) return 'invalid IPv4 address';
  return 'invalid international domain name';
}

/** WHATWG "ends in a number": the last label (ignoring one trailing dot) is decimal or 0x-hex. */
function endsInNumber(host: string): boolean {
  const labels = host.split('.');
  if (labels.length > 1 && labels[labels.length - 1] === '') labels.pop();
  const last = labels[labels.length - 1] ?? '';
  return /^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/.test(last);
}

/** The URL as the reference prints it in error messages: userinfo removed, fragment kept. */
export function displayUrl(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}
