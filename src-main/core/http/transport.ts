/**
 * Connections for `http/request`: TCP or TLS to the origin, through an HTTP proxy taken from the
 * environment like reqwest's system proxy (forward requests for http://, CONNECT tunnels for
 * https://), a keep-alive pool, the reference's custom-CA variables, and a resolver guard that fails
 * names which can never resolve without asking a DNS server.
 *
 * TLS: HTTP/1.1 only (no ALPN, as the reference offers none), SNI for names but not addresses,
 * certificate and host-name verification always on. Roots are Node's bundled set; with
 * `CODEX_CA_CERTIFICATE` (or else `SSL_CERT_FILE`) set to a PEM file, its certificates are trusted
 * too — and an unreadable or certificate-less file fails every request with the reference's text.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { osErrorMessage } from '../os-error.ts';

export type Env = Readonly<Record<string, string | undefined>>;

// ---------------------------------------------------------------------------------------------
// Custom CA

const CA_HINT =
  'If you set CODEX_CA_CERTIFICATE or SSL_CERT_FILE, ensure it points to a PEM file containing one or more CERTIFICATE blocks, or unset it to use system roots.';

/** A failure to build the HTTP client (the reference fails every request with it, -32603). */
export class ClientConfigError extends Error {}

export interface TlsRoots {
  /** Undefined: Node's default roots. */
  ca?: string[];
  /** Identifies the root set in pool keys. */
  key: string;
}

const caCache = new Map<string, TlsRoots>();

/**
 * The trust roots the environment selects; throws ClientConfigError with the reference's text.
 * Node's bundled roots, plus the native-store overrides rustls-native-certs honours
 * (`SSL_CERT_FILE`, `SSL_CERT_DIR`; unreadable ones are skipped), plus the custom CA bundle
 * (`CODEX_CA_CERTIFICATE`, else `SSL_CERT_FILE`), whose failures are fatal.
 */
export function tlsRoots(env: Env): TlsRoots {
  const selected = env.CODEX_CA_CERTIFICATE ? 'CODEX_CA_CERTIFICATE' : env.SSL_CERT_FILE ? 'SSL_CERT_FILE' : null;
  if (selected === null && !env.SSL_CERT_DIR) return { key: 'default' };
  const key = `roots:${env.CODEX_CA_CERTIFICATE ?? ''}|${env.SSL_CERT_FILE ?? ''}|${env.SSL_CERT_DIR ?? ''}`;
  const cached = caCache.get(key);
  if (cached) return cached;
  const extra: string[] = [];
  if (selected !== null) {
    const path = env[selected]!;
    let text: string;
    try {
      text = readFileSync(path, 'latin1');
    } catch (err) {
      throw new ClientConfigError(`Failed to read CA certificate file ${path} selected by ${selected}: ${osErrorMessage(err as NodeJS.ErrnoException)}. ${CA_HINT}`);
    }
    const certificates = pemCertificates(text);
    if (certificates.length === 0) {
      throw new ClientConfigError(`Failed to load CA certificates from ${path} selected by ${selected}: no certificates found in PEM file. ${CA_HINT}`);
    }
    extra.push(...certificates);
  }
  if (selected === 'CODEX_CA_CERTIFICATE' && env.SSL_CERT_FILE) extra.push(...readPemQuietly(env.SSL_CERT_FILE));
  for (const dir of (env.SSL_CERT_DIR ?? '').split(':')) {
    if (dir === '') continue;
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) extra.push(...readPemQuietly(join(dir, name)));
  }
  const roots: TlsRoots = { ca: [...tls.rootCertificates, ...extra], key };
  caCache.set(key, roots);
  return roots;
}

function readPemQuietly(path: string): string[] {
  try {
    return pemCertificates(readFileSync(path, 'latin1'));
  } catch {
    return [];
  }
}

/** CERTIFICATE blocks of a PEM file; OpenSSL `TRUSTED CERTIFICATE` blocks are reduced to the certificate. */
export function pemCertificates(text: string): string[] {
  const out: string[] = [];
  const re = /-----BEGIN (TRUSTED )?CERTIFICATE-----([\s\S]*?)-----END \1?CERTIFICATE-----/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    let der: Buffer = Buffer.from(m[2]!.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    if (m[1]) der = firstDerElement(der);
    if (der.length === 0) continue;
    const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
    out.push(`-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`);
  }
  return out;
}

/** The first DER element (a trusted certificate is the certificate followed by trust settings). */
function firstDerElement(der: Buffer): Buffer {
  if (der.length < 2) return Buffer.alloc(0);
  const first = der[1]!;
  if (first < 0x80) return der.subarray(0, 2 + first);
  const n = first & 0x7f;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + (der[2 + i] ?? 0);
  return der.subarray(0, Math.min(der.length, 2 + n + length));
}

// ---------------------------------------------------------------------------------------------
// Proxies from the environment

export interface ProxyConfig {
  /** `https:` proxies are reached over TLS; anything else (http, no scheme, socks*) as plain HTTP. */
  tls: boolean;
  host: string;
  port: number;
  /** `Basic …` from the proxy URL's userinfo. */
  authorization: string | null;
  key: string;
}

function firstSet(env: Env, names: string[]): string {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined) return value;
  }
  return '';
}

/**
 * The proxy for a request, as reqwest's system proxy picks it: `HTTP_PROXY`/`http_proxy` for http://
 * (the upper-case name is ignored under CGI, i.e. when `REQUEST_METHOD` is set), `HTTPS_PROXY`/
 * `https_proxy` for https://, `ALL_PROXY`/`all_proxy` when those are empty, unless `NO_PROXY`/
 * `no_proxy` matches the host. An unparsable proxy URL means no proxy.
 */
export function proxyFor(url: URL, env: Env): ProxyConfig | null {
  const all = firstSet(env, ['ALL_PROXY', 'all_proxy']);
  let value: string;
  if (url.protocol === 'http:') {
    value = env.REQUEST_METHOD !== undefined ? firstSet(env, ['http_proxy']) : firstSet(env, ['HTTP_PROXY', 'http_proxy']);
  } else value = firstSet(env, ['HTTPS_PROXY', 'https_proxy']);
  if (value === '') value = all;
  if (value === '') return null;
  if (noProxyMatches(firstSet(env, ['NO_PROXY', 'no_proxy']), url.hostname)) return null;
  return parseProxy(value);
}

export function parseProxy(value: string): ProxyConfig | null {
  let proxy: URL;
  try {
    proxy = new URL(value.includes('://') ? value : `http://${value}`);
  } catch {
    return null;
  }
  if (proxy.hostname === '') return null;
  const useTls = proxy.protocol === 'https:';
  const port = proxy.port !== '' ? Number(proxy.port) : useTls ? 443 : proxy.protocol === 'http:' ? 80 : 1080;
  let authorization: string | null = null;
  if (proxy.username !== '' || proxy.password !== '') {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    authorization = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
  }
  const host = unbracket(proxy.hostname);
  return { tls: useTls, host, port, authorization, key: `${useTls ? 'https' : 'http'}://${authorization ?? ''}@${host}:${port}` };
}

/**
 * reqwest's `NoProxy`: comma-separated entries; IP addresses and CIDR blocks match IP hosts only;
 * other entries match a domain exactly, or as a suffix on a label boundary (`.example` or
 * `example` both match `a.example`); `*` matches every domain (but no IP address).
 */
export function noProxyMatches(list: string, hostname: string): boolean {
  const host = unbracket(hostname);
  const hostIsIp = net.isIP(host) !== 0;
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr && net.isIP(cidr[1]!) !== 0) {
      if (hostIsIp && inCidr(host, cidr[1]!, Number(cidr[2]))) return true;
      continue;
    }
    if (net.isIP(entry) !== 0) {
      if (hostIsIp && sameAddress(host, entry)) return true;
      continue;
    }
    if (hostIsIp) continue;
    if (entry === '*') return true;
    if (entry === host || entry.replace(/^\./, '') === host) return true;
    if (host.endsWith(entry)) {
      if (entry.startsWith('.')) return true;
      if (host[host.length - entry.length - 1] === '.') return true;
    }
  }
  return false;
}

function sameAddress(a: string, b: string): boolean {
  const x = addressBytes(a);
  const y = addressBytes(b);
  return x !== null && y !== null && x.equals(y);
}

function inCidr(host: string, network: string, prefix: number): boolean {
  const h = addressBytes(host);
  const n = addressBytes(network);
  if (h === null || n === null || h.length !== n.length || prefix > h.length * 8) return false;
  for (let bit = 0; bit < prefix; bit++) {
    const mask = 0x80 >> bit % 8;
    if ((h[bit >> 3]! & mask) !== (n[bit >> 3]! & mask)) return false;
  }
  return true;
}

function addressBytes(address: string): Buffer | null {
  if (net.isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!net.isIPv6(address)) return null;
  const groups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const v4 = g.split('.').map(Number);
          return [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
        });
  const gap = address.indexOf('::');
  let all: number[];
  if (gap < 0) all = groups(address);
  else {
    const left = groups(address.slice(0, gap));
    const right = groups(address.slice(gap + 2));
    all = [...left, ...new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
  }
  const bytes = Buffer.alloc(16);
  all.slice(0, 8).forEach((g, i) => bytes.writeUInt16BE(g & 0xffff, i * 2));
  return bytes;
}

export function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

// ---------------------------------------------------------------------------------------------
// Name resolution

/**
 * Names that cannot resolve, failed locally so that no query leaves the machine: the reserved
 * `.invalid` domain (RFC 6761 §6.4 asks resolvers to do exactly this), labels longer than 63 octets,
 * names longer than 253, and empty labels (resolvers reject these before sending anything, too).
 */
export function isUnresolvableName(hostname: string): boolean {
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  if (name.length === 0 || name.length > 253) return true;
  const labels = name.split('.');
  if (labels.some((l) => l.length === 0 || l.length > 63)) return true;
  return labels[labels.length - 1]!.toLowerCase() === 'invalid';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type LookupFunction = (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback) => void;

/** dns.lookup with the local refusals of `isUnresolvableName`. */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  if (isUnresolvableName(hostname)) {
    const err: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
    process.nextTick(() => callback(err, ''));
    return;
  }
  dnsLookup(hostname, options as LookupAllOptions, callback as never);
};

// ---------------------------------------------------------------------------------------------
// Connecting

export interface Origin {
  scheme: 'http' | 'https';
  /** Host name or address without brackets. */
  host: string;
  port: number;
}

export function originOf(url: URL): Origin {
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  return { scheme, host: unbracket(url.hostname), port: url.port !== '' ? Number(url.port) : scheme === 'https' ? 443 : 80 };
}

export interface ConnectOptions {
  roots: TlsRoots;
  proxy: ProxyConfig | null;
  lookup: LookupFunction;
  signal: AbortSignal;
}

/** Resolves when the socket is connected (and, for TLS, the handshake verified); rejects otherwise. */
function settle<T extends net.Socket>(socket: T, readyEvent: string, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason ?? new Error('aborted'));
    };
    const cleanup = () => {
      socket.off(readyEvent, onReady);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const onReady = () => {
      cleanup();
      resolve(socket);
    };
    const onError = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('connection closed during connect'));
    };
    if (signal.aborted) return onAbort();
    socket.once(readyEvent, onReady);
    socket.once('error', onError);
    socket.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function tcp(host: string, port: number, lookup: LookupFunction, signal: AbortSignal): Promise<net.Socket> {
  const socket = net.connect({ host, port, lookup: lookup as never });
  socket.setNoDelay(true);
  return settle(socket, 'connect', signal);
}

function tlsOver(socket: net.Socket | null, origin: { host: string; port: number }, roots: TlsRoots, lookup: LookupFunction, signal: AbortSignal): Promise<tls.TLSSocket> {
  const options: tls.ConnectionOptions = {
    host: origin.host,
    port: origin.port,
    ca: roots.ca,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    lookup: lookup as never,
  };
  if (net.isIP(origin.host) === 0) options.servername = origin.host;
  if (socket) options.socket = socket;
  const secure = tls.connect(options);
  secure.setNoDelay(true);
  return settle(secure, 'secureConnect', signal);
}

/** Reads a CONNECT response head from the proxy; resolves with its status. */
function readConnectResponse(socket: net.Socket, signal: AbortSignal): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, status?: number) => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('end', onEnd);
      signal.removeEventListener('abort', onAbort);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(status!);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 8192) done(new Error('proxy response head too large'));
        return;
      }
      socket.pause();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.subarray(0, end).toString('latin1'));
      if (!m) return done(new Error('invalid proxy response'));
      done(null, Number(m[1]));
    };
    const onError = (err: Error) => done(err);
    const onEnd = () => done(new Error('proxy closed the connection'));
    const onAbort = () => done(signal.reason ?? new Error('aborted'));
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('end', onEnd);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A connected socket ready for an HTTP/1.1 request to `origin` (directly or via the proxy). */
export async function connect(origin: Origin, options: ConnectOptions): Promise<net.Socket> {
  const { proxy, roots, lookup, signal } = options;
  if (!proxy) {
    return origin.scheme === 'https' ? tlsOver(null, origin, roots, lookup, signal) : tcp(origin.host, origin.port, lookup, signal);
  }
  const toProxy = proxy.tls ? await tlsOver(null, { host: proxy.host, port: proxy.port }, { key: 'default' }, lookup, signal) : await tcp(proxy.host, proxy.port, lookup, signal);
  if (origin.scheme === 'http') return toProxy; // forward proxying: absolute-form requests
  const authority = `${net.isIPv6(origin.host) ? `[${origin.host}]` : origin.host}:${origin.port}`;
  let head = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  if (proxy.authorization) head += `Proxy-Authorization: ${proxy.authorization}\r\n`;
  toProxy.write(`${head}\r\n`);
  const status = await readConnectResponse(toProxy, signal);
  if (status < 200 || status >= 300) {
    toProxy.destroy();
    throw new Error(`proxy refused the tunnel: ${status}`);
  }
  toProxy.resume();
  return tlsOver(toProxy, origin, roots, lookup, signal);
}

// ---------------------------------------------------------------------------------------------
// Keep-alive pool

/** hyper-util's default idle timeout for pooled connections. */
export const POOL_IDLE_MS = 90_000;

interface Idle {
  socket: net.Socket;
  timer: NodeJS.Timeout;
  onGone: () => void;
}

/**
 * Idle keep-alive connections per key (policy, proxy, roots, origin), most recently used first.
 * An idle socket that is closed, ends, errors or receives bytes is dropped; idle sockets do not
 * keep the process alive.
 */
export class ConnectionPool {
  private readonly idle = new Map<string, Idle[]>();

  constructor(private readonly idleMs = POOL_IDLE_MS) {}

  take(key: string): net.Socket | undefined {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const entry = list.pop()!;
      this.detach(entry);
      if (list.length === 0) this.idle.delete(key);
      const s = entry.socket;
      if (!s.destroyed && s.readable && s.writable && !s.readableEnded) {
        s.ref();
        return s;
      }
      s.destroy();
    }
    return undefined;
  }

  put(key: string, socket: net.Socket): void {
    if (socket.destroyed || !socket.writable || socket.readableEnded) {
      socket.destroy();
      return;
    }
    const entry: Idle = {
      socket,
      timer: setTimeout(() => remove(), this.idleMs),
      onGone: () => remove(),
    };
    entry.timer.unref();
    const remove = () => {
      this.detach(entry);
      const list = this.idle.get(key);
      if (list) {
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.idle.delete(key);
      }
      socket.destroy();
    };
    socket.on('close', entry.onGone);
    socket.on('end', entry.onGone);
    socket.on('error', entry.onGone);
    socket.on('data', entry.onGone);
    socket.resume();
    socket.unref();
    let list = this.idle.get(key);
    if (!list) this.idle.set(key, (list = []));
    list.push(entry);
  }

  private detach(entry: Idle): void {
    clearTimeout(entry.timer);
    entry.socket.off('close', entry.onGone);
    entry.socket.off('end', entry.onGone);
    entry.socket.off('error', entry.onGone);
    entry.socket.off('data', entry.onGone);
  }

  /** Closes every idle connection. */
  clear(): void {
    for (const list of this.idle.values()) {
      for (const entry of list) {
        this.detach(entry);
        entry.socket.destroy();
      }
    }
    this.idle.clear();
  }

  get idleCount(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }
}
