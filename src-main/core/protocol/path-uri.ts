/**
 * `file:` path URIs (local-protocol.md §3), with the reference's acceptance rules and messages.
 *
 * The reference's `PathUri` is a `url::Url` (WHATWG URL Standard) checked in two stages, and a
 * compatible server has to keep them apart because they map to different error codes:
 *
 * 1. deserialization (`PathUri.parse`, a params field → `-32602 <message>`):
 *    `invalid URI: <url-crate reason>`, `` unsupported path URI scheme `http` ``,
 *    `query parameters are not allowed in path URIs`, `fragments are not allowed in path URIs`,
 *    `'<uri>' is invalid on 'linux'` for a percent-encoded NUL;
 * 2. conversion to a host path (`toNativePath`): `'<uri>' is invalid on 'linux'` for a URI with a
 *    (non-localhost) host or a Windows drive (`file:///C:/x`). The fs methods answer this with
 *    `-32600 <message>`; `process/start` answers
 *    `` -32602 cwd URI `<uri>` is not valid on this exec-server host: <message> ``.
 *
 * Parsing uses Node's WHATWG URL parser (same standard as the Rust `url` crate), plus the few places
 * where the crate differs (`file:///c|/x` stays a POSIX path; host error reasons).
 *
 * Native paths are strings. Linux file names are bytes, so bytes that are not valid UTF-8 are
 * carried as lone surrogates U+DC80–U+DCFF, one per byte ("surrogateescape", PEP 383). Strings
 * decoded from valid UTF-8 never contain lone surrogates, so the mapping is lossless and
 * unambiguous. Use `fsPath()` to hand such a path to `node:fs` (it becomes a Buffer only when
 * needed), `nativePathFromBytes()` for names read with `encoding: 'buffer'`, and `displayPath()` for
 * messages (Rust's lossy `Path::display`, U+FFFD per bad sequence).
 */
import { domainToASCII } from 'node:url';

export type PathUriErrorStage = 'parse' | 'native';

export class PathUriError extends Error {
  constructor(
    message: string,
    /** 'parse': the URI string is not an acceptable path URI (a params error, -32602).
     *  'native': a valid URI that is not a path on this host (fs: -32600; cwd: wrapped -32602). */
    readonly stage: PathUriErrorStage,
  ) {
    super(message);
    this.name = 'PathUriError';
  }
}

/** Rust's `std::env::consts::OS` for this host, as quoted in `is invalid on '<os>'`. */
export const HOST_OS: string =
  process.platform === 'darwin' ? 'macos' : process.platform === 'win32' ? 'windows' : process.platform;

const BAD_PATH_PREFIX = 'file:///%00/bad/path/';

export class PathUri {
  private constructor(
    /** The canonical URI text (what the reference prints). */
    readonly href: string,
    private readonly url: URL,
  ) {}

  /** Parses and validates a path URI; throws PathUriError (stage 'parse'). */
  static parse(input: string): PathUri {
    // The URL parser trims leading/trailing C0 controls and spaces and drops tabs/newlines anywhere.
    const cleaned = input.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
    const schemeMatch = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(cleaned);
    if (schemeMatch === null) throw parseError('invalid URI: relative URL without a base');
    const scheme = schemeMatch[1]!.toLowerCase();

    // The url crate keeps `c|` as an ordinary segment after `file:///` (empty host); the URL
    // Standard (and Node) turn it into `c:`. Hide the `|` from Node and put it back afterwards.
    let pipeDrive = false;
    let toParse = cleaned;
    if (scheme === 'file') {
      const m = /^file:[/\\]{2}(?:localhost)?[/\\]([A-Za-z])\|(?=$|[/\\?#])/i.exec(cleaned);
      if (m !== null) {
        pipeDrive = true;
        toParse = `file:///${m[1]}%7C${cleaned.slice(m[0].length)}`;
      }
    }

    let url: URL;
    try {
      url = new URL(toParse);
    } catch {
      throw parseError(`invalid URI: ${urlFailureReason(cleaned, scheme)}`);
    }
    if (scheme !== 'file') throw parseError(`unsupported path URI scheme \`${scheme}\``);

    let href = url.href;
    if (pipeDrive) href = href.replace(/^file:\/\/\/([A-Za-z])%7C/, 'file:///$1|');
    const hash = href.indexOf('#');
    const query = href.indexOf('?');
    if (query !== -1 && (hash === -1 || query < hash)) throw parseError('query parameters are not allowed in path URIs');
    if (hash !== -1) throw parseError('fragments are not allowed in path URIs');

    // Windows-shaped URIs are shown with an upper-case drive and no empty leading segments.
    if (url.host === '') {
      const segments = url.pathname.split('/').slice(1);
      const first = segments.findIndex((s) => s !== '');
      if (first !== -1 && isDriveSegment(segments[first]!)) {
        const rest = segments.slice(first);
        rest[0] = rest[0]!.charAt(0).toUpperCase() + rest[0]!.slice(1);
        href = `file:///${rest.join('/')}`;
      }
    }

    const uri = new PathUri(href, url);
    if (decodePercent(url.pathname).includes(0) && uri.opaqueBytes() === undefined) {
      throw parseError(invalidOnHost(href));
    }
    return uri;
  }

  /** The host path this URI names (surrogateescape string, lexically normalized). */
  toNativePath(): string {
    const opaque = this.opaqueBytes();
    if (opaque !== undefined) {
      // Fallback URIs stand for absolute paths that contain a NUL byte.
      const normalized = normalizeBytes(opaque);
      if (opaque[0] === 0x2f && opaque.includes(0) && Buffer.compare(normalized, opaque) === 0) {
        return nativePathFromBytes(opaque);
      }
      throw new PathUriError(invalidOnHost(this.href), 'native');
    }
    if (this.url.host !== '') throw new PathUriError(invalidOnHost(this.href), 'native');
    const segments = this.url.pathname.split('/').slice(1);
    const first = segments.find((s) => s !== '');
    if (first !== undefined && isDriveSegment(first)) throw new PathUriError(invalidOnHost(this.href), 'native');
    return nativePathFromBytes(normalizeBytes(decodePercent(this.url.pathname)));
  }

  toString(): string {
    return this.href;
  }

  toJSON(): string {
    return this.href;
  }

  /** Bytes of a `file:///%00/bad/path/<base64url>` fallback URI, if this is one. */
  private opaqueBytes(): Buffer | undefined {
    if (!this.href.startsWith(BAD_PATH_PREFIX)) return undefined;
    const encoded = this.href.slice(BAD_PATH_PREFIX.length);
    if (encoded === '' || !/^[A-Za-z0-9_-]+$/.test(encoded) || encoded.length % 4 === 1) return undefined;
    const bytes = Buffer.from(encoded, 'base64url');
    return bytes.toString('base64url') === encoded ? bytes : undefined;
  }
}

/** `PathUri.parse(s).toNativePath()`; PathUriError.stage tells which step failed. */
export function parsePathUri(s: string): string {
  return PathUri.parse(s).toNativePath();
}

/**
 * The canonical URI of an absolute native path (surrogateescape string), as the reference emits it
 * (`Url::from_file_path`): lexically normalized, each byte outside `A-Za-z0-9` and
 * `` !$&'()*+,-.:;=@[]^_|~ `` percent-encoded with upper-case hex. Paths containing NUL get the
 * reference's fallback form `file:///%00/bad/path/<base64url of the bytes>`.
 */
export function toPathUri(path: string): string {
  if (!path.startsWith('/')) throw new Error(`path is not absolute: ${displayPath(path)}`);
  const bytes = normalizeBytes(nativePathToBytes(path));
  if (bytes.includes(0)) return BAD_PATH_PREFIX + bytes.toString('base64url');
  let out = 'file://';
  if (bytes.length === 1) return `${out}/`;
  for (const b of bytes) out += b === 0x2f || KEEP[b] === 1 ? String.fromCharCode(b) : `%${HEX_UPPER[b]}`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Native path strings (surrogateescape)

/** Decodes file-name bytes; bytes that are not part of valid UTF-8 become U+DC80+byte. */
export function nativePathFromBytes(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isValidUtf8(buf)) return buf.toString('utf8');
  let out = '';
  let i = 0;
  while (i < buf.length) {
    const n = utf8SequenceLength(buf, i);
    if (n === 0) {
      out += String.fromCharCode(0xdc00 + buf[i]!);
      i++;
    } else {
      out += buf.toString('utf8', i, i + n);
      i += n;
    }
  }
  return out;
}

/** The bytes of a surrogateescape path string. */
export function nativePathToBytes(path: string): Buffer {
  if (!/[\uD800-\uDFFF]/.test(path)) return Buffer.from(path, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < path.length) {
      const d = path.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (c >= 0xdc80 && c <= 0xdcff) {
      parts.push(Buffer.from(path.slice(start, i), 'utf8'), Buffer.of(c - 0xdc00));
      start = i + 1;
    }
  }
  parts.push(Buffer.from(path.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** A value for node:fs: the string itself, or its bytes when it carries escaped bytes. */
export function fsPath(path: string): string | Buffer {
  return /[\uDC80-\uDCFF]/.test(path) ? nativePathToBytes(path) : path;
}

/** Rust's `Path::display()`: invalid UTF-8 shown as U+FFFD. */
export function displayPath(path: string): string {
  return /[\uDC80-\uDCFF]/.test(path) ? new TextDecoder().decode(nativePathToBytes(path)) : path;
}

// ---------------------------------------------------------------------------------------------
// helpers

function parseError(message: string): PathUriError {
  return new PathUriError(message, 'parse');
}

function invalidOnHost(href: string): string {
  return `'${href}' is invalid on '${HOST_OS}'`;
}

function isDriveSegment(segment: string): boolean {
  const decoded = decodePercent(segment);
  return decoded.length === 2 && decoded[1] === 0x3a && isAsciiAlpha(decoded[0]!);
}

function isAsciiAlpha(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/** Percent-decodes (invalid `%` sequences stay literal). */
function decodePercent(s: string): Buffer {
  const raw = Buffer.from(s, 'utf8');
  if (!raw.includes(0x25)) return raw;
  const out = Buffer.alloc(raw.length);
  let o = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x25 && i + 2 < raw.length && isHex(raw[i + 1]) && isHex(raw[i + 2])) {
      out[o++] = parseInt(String.fromCharCode(raw[i + 1]!, raw[i + 2]!), 16);
      i += 2;
    } else {
      out[o++] = b;
    }
  }
  return out.subarray(0, o);
}

function isHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
}

/** Lexical normalization of an absolute path (AbsolutePathBuf): `.`, `..`, `//`, trailing `/`. */
function normalizeBytes(path: Uint8Array): Buffer {
  const parts: Uint8Array[] = [];
  let start = 1;
  for (let i = 1; i <= path.length; i++) {
    if (i === path.length || path[i] === 0x2f) {
      const seg = path.subarray(start, i);
      if (seg.length === 0 || (seg.length === 1 && seg[0] === 0x2e)) {
        // skip
      } else if (seg.length === 2 && seg[0] === 0x2e && seg[1] === 0x2e) {
        parts.pop();
      } else {
        parts.push(seg);
      }
      start = i + 1;
    }
  }
  const out: Uint8Array[] = [];
  for (const p of parts) out.push(Buffer.of(0x2f), p);
  return out.length === 0 ? Buffer.of(0x2f) : Buffer.concat(out);
}

function isValidUtf8(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; ) {
    if (buf[i]! < 0x80) {
      i++;
      continue;
    }
    const n = utf8SequenceLength(buf, i);
    if (n === 0) return false;
    i += n;
  }
  return true;
}

/** Length of the well-formed UTF-8 sequence at i (Unicode table 3-7), or 0. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

const HEX_UPPER: string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).toUpperCase().padStart(2, '0'));

/** Bytes `Url::from_file_path` leaves unencoded in a path segment. */
const KEEP: Uint8Array = (() => {
  const keep = new Uint8Array(256);
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789' + "!$&'()*+,-.:;=@[]^_|~";
  for (let i = 0; i < chars.length; i++) keep[chars.charCodeAt(i)] = 1;
  return keep;
})();

/**
 * Why the url crate refuses `cleaned` (Node only says "Invalid URL"). Only called when Node's
 * parser failed on a string that has a scheme; the failure is then in the authority.
 */
function urlFailureReason(cleaned: string, scheme: string): string {
  const rest = cleaned.slice(scheme.length + 1);
  const special = ['http', 'https', 'ws', 'wss', 'ftp'].includes(scheme);
  if (scheme === 'file') {
    // file hosts run up to the path; userinfo and ports are not split off.
    const m = /^[/\\]{2}([^/\\?#]*)/.exec(rest);
    return hostFailureReason(m?.[1] ?? '', 'domain') ?? 'invalid international domain name';
  }
  let authority: string;
  if (special) {
    authority = /^[/\\]*([^/\\?#]*)/.exec(rest)![1]!;
  } else {
    const m = /^\/\/([^/?#]*)/.exec(rest);
    if (m === null) return 'relative URL without a base';
    authority = m[1]!;
  }
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  let host = hostPort;
  let port: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close !== -1) {
      host = hostPort.slice(0, close + 1);
      if (hostPort.charAt(close + 1) === ':') port = hostPort.slice(close + 2);
    }
  } else {
    const colon = hostPort.indexOf(':');
    if (colon !== -1) {
      host = hostPort.slice(0, colon);
      port = hostPort.slice(colon + 1);
    }
  }
  if (special && host === '') return 'empty host';
  const hostReason = hostFailureReason(host, special ? 'domain' : 'opaque');
  if (hostReason !== undefined) return hostReason;
  if (port !== undefined && port !== '' && (!/^[0-9]+$/.test(port) || Number(port) > 65535)) return 'invalid port number';
  return 'invalid international domain name';
}

function hostFailureReason(host: string, kind: 'domain' | 'opaque'): string | undefined {
  if (host.startsWith('[')) {
    return host.endsWith(']') && URL.canParse(`http://${host}/`) ? undefined : 'invalid IPv6 address';
  }
  if (kind === 'opaque') {
    return /[\u0000\t\n\r #/:<>?@[\\\]^|]/.test(host) ? 'invalid domain character' : undefined;
  }
  if (host === '') return undefined;
  // IDNA validity without the IPv4 rule: a trailing letter label keeps the name from ending in a number.
  if (domainToASCII(host.endsWith('.') ? `${host}a` : `${host}.a`) === '') return 'invalid international domain name';
  if (domainToASCII(host) === '') return 'invalid IPv4 address';
  return undefined;
}
