/**
 * AWS Signature Version 4 (header form, HMAC-SHA256) for the direct transport
 * (remote-protocol.md §13). Pure functions: the caller passes the date, so the result can be
 * checked against AWS's published test vectors and against requests the 0.169.0 binary signed.
 * The secret key is only used inside `signingKey`.
 */
import { createHash, createHmac } from 'node:crypto';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  method: string;
  url: URL;
  /** Headers to sign besides `host`, `x-amz-date` and `x-amz-security-token` (added here). */
  headers?: Array<[string, string]>;
  body?: Uint8Array | string;
  region: string;
  service: string;
  credentials: AwsCredentials;
  date: Date;
}

export interface Signature {
  /** `YYYYMMDD'T'HHMMSS'Z'` */
  amzDate: string;
  authorization: string;
  signedHeaders: string;
  canonicalRequest: string;
  stringToSign: string;
}

const sha256Hex = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Uint8Array | string, data: string) => createHmac('sha256', key).update(data).digest();

export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** RFC 3986 encoding: everything but unreserved characters. */
function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Path as sent (already percent-encoded once by the URL parser), encoded once more segment by
 * segment: the double encoding AWS uses for every service but S3.
 */
function canonicalUri(url: URL): string {
  const path = url.pathname === '' ? '/' : url.pathname;
  return path
    .split('/')
    .map((segment) => encodeRfc3986(segment))
    .join('/');
}

function canonicalQuery(url: URL): string {
  const pairs: Array<[string, string]> = [];
  for (const [key, value] of url.searchParams) pairs.push([encodeRfc3986(key), encodeRfc3986(value)]);
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Lower-cased names, values trimmed with inner whitespace runs folded (the SigV4 rule). */
function canonicalHeaders(headers: Array<[string, string]>): { text: string; signed: string } {
  const byName = new Map<string, string[]>();
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), value.trim().replace(/\s+/g, ' ')]);
  }
  const names = [...byName.keys()].sort();
  return {
    text: names.map((name) => `${name}:${byName.get(name)!.join(',')}\n`).join(''),
    signed: names.join(';'),
  };
}

export function signingKey(secretAccessKey: string, day: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), 'aws4_request');
}

export function signRequest(input: SignInput): Signature {
  const date = amzDate(input.date);
  const day = date.slice(0, 8);
  const headers: Array<[string, string]> = [...(input.headers ?? []), ['host', input.url.host], ['x-amz-date', date]];
  if (input.credentials.sessionToken) headers.push(['x-amz-security-token', input.credentials.sessionToken]);
  const canonical = canonicalHeaders(headers);
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalUri(input.url),
    canonicalQuery(input.url),
    canonical.text,
    canonical.signed,
    sha256Hex(input.body ?? ''),
  ].join('\n');
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = [SIGV4_ALGORITHM, date, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = createHmac('sha256', signingKey(input.credentials.secretAccessKey, day, input.region, input.service))
    .update(stringToSign)
    .digest('hex');
  return {
    amzDate: date,
    authorization: `${SIGV4_ALGORITHM} Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${canonical.signed}, Signature=${signature}`,
    signedHeaders: canonical.signed,
    canonicalRequest,
    stringToSign,
  };
}
