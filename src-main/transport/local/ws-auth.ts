/**
 * WebSocket upgrade authentication, as `codex exec-server` 0.169.0 does it (local-protocol.md §12).
 *
 * Two halves:
 * - startup: turn the `--ws-*` flags into a {@link WsAuthConfig}, with the reference's flag-combination
 *   errors ({@link planWsAuth}) and its file-reading errors ({@link readWsAuthPlan}); both throw
 *   {@link WsAuthStartupError} whose message is the reference's sentence (the CLI prints it after
 *   `Error: ` and exits 1).
 * - per upgrade: {@link authorizeUpgrade} checks the `Authorization` header and answers with the exact
 *   401 body the reference sends.
 *
 * Check order, all observed on the 0.169.0 binary:
 * 1. no header → missing; the FIRST `Authorization` header is the one used when several are sent;
 * 2. header bytes outside visible ASCII (tab allowed), no space, a scheme other than `bearer`
 *    (ASCII case-insensitive) or a blank token → invalid authorization header;
 * 3. capability token: SHA-256 of the token vs the digest, constant time;
 *    signed bearer token: anything wrong with the JWS or the claim types (bad signature, alg other than
 *    HS256, malformed base64url/JSON, missing/non-integer `exp`, …) → `invalid websocket jwt` before
 *    any time or identity check; then expired, then not-yet-valid, then issuer, then audience.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { compactVerify } from 'jose';
import { osErrorMessage } from '../../core/os-error.ts';

export type WsAuthConfig =
  | { mode: 'none' }
  | { mode: 'capability-token'; tokenSha256: Buffer /* 32 bytes */ }
  | { mode: 'signed-bearer-token'; secret: Uint8Array; issuer?: string; audience?: string; maxClockSkewSeconds: number };

export type AuthOutcome = { ok: true } | { ok: false; reason: string /* the exact 401 plain-text body */ };

/** The 401 bodies, verbatim. */
export const WS_AUTH_REASONS = {
  missingToken: 'missing websocket bearer token',
  invalidHeader: 'invalid authorization header',
  invalidToken: 'invalid websocket bearer token',
  invalidJwt: 'invalid websocket jwt',
  expiredJwt: 'expired websocket jwt',
  jwtNotYetValid: 'websocket jwt is not valid yet',
  issuerMismatch: 'websocket jwt issuer mismatch',
  audienceMismatch: 'websocket jwt audience mismatch',
} as const;

const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

function fail(reason: string): AuthOutcome {
  return { ok: false, reason };
}

// ---------------------------------------------------------------------------------------------
// Per-upgrade check
// ---------------------------------------------------------------------------------------------

/**
 * Decides one upgrade request. `authorization` is `req.headers.authorization` (Node keeps the first
 * of duplicate Authorization headers) or `req.headersDistinct.authorization` (the first entry is
 * used, as the reference does). `nowMs` is for tests; the reference reads the wall clock.
 */
export async function authorizeUpgrade(
  config: WsAuthConfig,
  authorization: string | string[] | undefined,
  nowMs: number = Date.now(),
): Promise<AuthOutcome> {
  if (config.mode === 'none') return { ok: true };
  const raw = Array.isArray(authorization) ? authorization[0] : authorization;
  if (raw === undefined) return fail(WS_AUTH_REASONS.missingToken);
  const token = bearerToken(raw);
  if (token === null) return fail(WS_AUTH_REASONS.invalidHeader);

  if (config.mode === 'capability-token') {
    const actual = createHash('sha256').update(token, 'utf8').digest();
    const expected = config.tokenSha256;
    const same = expected.length === actual.length && timingSafeEqual(expected, actual);
    return same ? { ok: true } : fail(WS_AUTH_REASONS.invalidToken);
  }
  return verifySignedBearerToken(token, config, nowMs);
}

/** Visible ASCII plus horizontal tab, like `http::HeaderValue::to_str`. */
const VISIBLE_HEADER = /^[\t\x20-\x7e]*$/;

/** `Bearer <token>` → token, or null for an invalid header. */
function bearerToken(header: string): string | null {
  if (!VISIBLE_HEADER.test(header)) return null;
  const space = header.indexOf(' ');
  if (space < 0) return null;
  if (header.slice(0, space).toLowerCase() !== 'bearer') return null;
  const token = header.slice(space + 1).trim(); // only space/tab can occur here, as in Rust's trim
  return token === '' ? null : token;
}

async function verifySignedBearerToken(
  token: string,
  config: Extract<WsAuthConfig, { mode: 'signed-bearer-token' }>,
  nowMs: number,
): Promise<AuthOutcome> {
  const claims = await decodeJwt(token, config.secret);
  if (claims === null) return fail(WS_AUTH_REASONS.invalidJwt);

  const now = BigInt(Math.floor(nowMs / 1000));
  const skew = toI64(config.maxClockSkewSeconds);
  if (now > saturate(claims.exp + skew)) return fail(WS_AUTH_REASONS.expiredJwt);
  if (claims.nbf !== undefined && now < saturate(claims.nbf - skew)) return fail(WS_AUTH_REASONS.jwtNotYetValid);
  if (config.issuer !== undefined && claims.iss !== config.issuer) return fail(WS_AUTH_REASONS.issuerMismatch);
  if (config.audience !== undefined && !(claims.aud ?? []).includes(config.audience)) {
    return fail(WS_AUTH_REASONS.audienceMismatch);
  }
  return { ok: true };
}

function saturate(value: bigint): bigint {
  return value > I64_MAX ? I64_MAX : value < I64_MIN ? I64_MIN : value;
}

function toI64(value: number): bigint {
  if (Number.isNaN(value)) return 0n;
  if (value === Infinity) return I64_MAX;
  if (value === -Infinity) return I64_MIN;
  return saturate(BigInt(Math.trunc(value)));
}

// ---------------------------------------------------------------------------------------------
// JWT decoding with the reference's strictness (jsonwebtoken 9 + serde_json)
// ---------------------------------------------------------------------------------------------

interface JwtClaims {
  exp: bigint;
  nbf?: bigint;
  iss?: string;
  /** One entry for a string `aud`, the list for an array. */
  aud?: string[];
}

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL_CHARS = /^[A-Za-z0-9_-]*$/;

/**
 * Unpadded base64url with zero trailing bits, as the `base64` crate's URL_SAFE_NO_PAD engine
 * requires. jose's decoder (atob on Node 20) also takes padding, whitespace and non-zero trailing
 * bits, which the reference rejects, so segments are screened here first.
 */
function isStrictBase64Url(segment: string): boolean {
  if (!BASE64URL_CHARS.test(segment)) return false;
  const rem = segment.length % 4;
  if (rem === 1) return false;
  if (rem === 0) return true;
  const last = BASE64URL_ALPHABET.indexOf(segment[segment.length - 1]!);
  return (last & (rem === 2 ? 0b1111 : 0b0011)) === 0;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8 then JSON (a BOM is kept, so it fails JSON as it does in serde_json). */
function parseJsonSegment(segment: string): { text: string; members: Array<[string, string]> } | null {
  let text: string;
  try {
    text = utf8.decode(Buffer.from(segment, 'base64url'));
    JSON.parse(text);
  } catch {
    return null;
  }
  const members = topLevelMembers(text);
  return members === null ? null : { text, members };
}

/** Fields of jsonwebtoken's `Header` struct: duplicates of these fail its deserialization. */
const HEADER_STRING_FIELDS = ['typ', 'cty', 'jku', 'kid', 'x5u', 'x5t', 'x5t#S256'];
const HEADER_FIELDS = new Set(['alg', 'jwk', 'x5c', ...HEADER_STRING_FIELDS]);
/**
 * Fields the reference deserializes from the claims (its own `JwtClaims` plus jsonwebtoken's
 * `ClaimsForValidation`): a duplicate of any of them is rejected (observed: duplicate `sub` →
 * invalid, duplicate `iat` → accepted).
 */
const CLAIM_FIELDS = new Set(['exp', 'nbf', 'iss', 'aud', 'sub']);

/**
 * The claims of a token the reference's `jsonwebtoken::decode` would accept, else null. The shape
 * checks run before jose verifies the signature; every failure gives the same 401 body, so the
 * order among them cannot be observed.
 */
async function decodeJwt(token: string, secret: Uint8Array): Promise<JwtClaims | null> {
  const segments = token.split('.');
  if (segments.length !== 3 || !segments.every(isStrictBase64Url)) return null;
  const header = parseJsonSegment(segments[0]!);
  if (header === null || !headerAcceptable(header.members)) return null;
  const payload = parseJsonSegment(segments[1]!);
  if (payload === null) return null;
  const claims = claimsFrom(payload.members);
  if (claims === null) return null;

  try {
    await compactVerify(token, secret, { algorithms: ['HS256'], crit: recognizedCrit(header.text) });
  } catch {
    return null;
  }
  return claims;
}

/** Type rules of jsonwebtoken's `Header`: alg HS256, the string fields string-or-null, no duplicates. */
function headerAcceptable(members: Array<[string, string]>): boolean {
  const seen = new Set<string>();
  let alg: unknown;
  for (const [key, raw] of members) {
    if (!HEADER_FIELDS.has(key)) continue;
    if (seen.has(key)) return false;
    seen.add(key);
    const value: unknown = JSON.parse(raw);
    if (key === 'alg') alg = value;
    else if (HEADER_STRING_FIELDS.includes(key)) {
      if (value !== null && typeof value !== 'string') return false;
    } else if (key === 'x5c') {
      if (value !== null && !(Array.isArray(value) && value.every((v) => typeof v === 'string'))) return false;
    } else if (key === 'jwk') {
      if (value !== null && !plausibleJwk(value)) return false;
    }
  }
  return alg === 'HS256';
}

/** An approximation of jsonwebtoken's `Jwk`: a known `kty` with its required members. */
function plausibleJwk(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const jwk = value as Record<string, unknown>;
  const required: Record<string, string[]> = { EC: ['crv', 'x', 'y'], RSA: ['n', 'e'], oct: ['k'], OKP: ['crv', 'x'] };
  const needs = typeof jwk.kty === 'string' ? required[jwk.kty] : undefined;
  return needs !== undefined && needs.every((name) => typeof jwk[name] === 'string');
}

/**
 * The reference ignores `crit`; jose refuses unknown critical parameters. Declaring the listed names
 * as recognized makes jose accept a well-formed `crit` too (a malformed one still fails here).
 */
function recognizedCrit(headerText: string): Record<string, boolean> | undefined {
  const parsed: unknown = JSON.parse(headerText);
  const crit = (parsed as { crit?: unknown }).crit;
  if (!Array.isArray(crit) || !crit.every((n) => typeof n === 'string' && n !== '')) return undefined;
  return Object.fromEntries(crit.map((name: string) => [name, true]));
}

function claimsFrom(members: Array<[string, string]>): JwtClaims | null {
  const seen = new Set<string>();
  const raw: Record<string, string> = {};
  for (const [key, value] of members) {
    if (!CLAIM_FIELDS.has(key)) continue;
    if (seen.has(key)) return null;
    seen.add(key);
    raw[key] = value;
  }
  if (raw.exp === undefined) return null;
  const exp = i64Lexeme(raw.exp);
  if (exp === null) return null;
  const claims: JwtClaims = { exp };

  if (raw.nbf !== undefined && raw.nbf !== 'null') {
    const nbf = i64Lexeme(raw.nbf);
    if (nbf === null) return null;
    claims.nbf = nbf;
  }
  if (raw.iss !== undefined && raw.iss !== 'null') {
    const iss: unknown = JSON.parse(raw.iss);
    if (!isWellFormedString(iss)) return null;
    claims.iss = iss;
  }
  if (raw.aud !== undefined && raw.aud !== 'null') {
    const aud: unknown = JSON.parse(raw.aud);
    if (isWellFormedString(aud)) claims.aud = [aud];
    else if (Array.isArray(aud) && aud.every(isWellFormedString)) claims.aud = aud;
    else return null;
  }
  return claims;
}

/**
 * A JSON number lexeme that serde_json hands to an `i64`: an integer without fraction or exponent
 * in i64 range. `-0` is parsed as a float by serde_json, so it is rejected too (observed).
 */
function i64Lexeme(lexeme: string): bigint | null {
  if (!/^-?(0|[1-9][0-9]*)$/.test(lexeme) || lexeme === '-0') return null;
  const value = BigInt(lexeme);
  return value > I64_MAX || value < I64_MIN ? null : value;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** serde_json refuses `\ud800`-style lone surrogates in strings it decodes into `String`. */
function isWellFormedString(value: unknown): value is string {
  return typeof value === 'string' && !LONE_SURROGATE.test(value);
}

/**
 * The members of a top-level JSON object as [decoded key, raw value text] pairs, in order and with
 * duplicates kept; null when the text is not an object. The text must already be valid JSON.
 */
export function topLevelMembers(text: string): Array<[string, string]> | null {
  let i = skipWhitespace(text, 0);
  if (text[i] !== '{') return null;
  const members: Array<[string, string]> = [];
  i = skipWhitespace(text, i + 1);
  if (text[i] === '}') return members;
  for (;;) {
    i = skipWhitespace(text, i);
    const keyEnd = endOfString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWhitespace(text, keyEnd) + 1; // past ':'
    i = skipWhitespace(text, i);
    const valueEnd = endOfValue(text, i);
    members.push([key, text.slice(i, valueEnd)]);
    i = skipWhitespace(text, valueEnd);
    if (text[i] !== ',') return members;
    i += 1;
  }
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  return i;
}

function endOfString(text: string, i: number): number {
  let j = i + 1;
  while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  return j + 1;
}

function endOfValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return endOfString(text, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    let j = i;
    for (;;) {
      const ch = text[j];
      if (ch === '"') {
        j = endOfString(text, j);
        continue;
      }
      if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
  }
  let j = i;
  while (j < text.length && !',}] \t\n\r'.includes(text[j]!)) j++;
  return j;
}

// ---------------------------------------------------------------------------------------------
// Startup: flags → config
// ---------------------------------------------------------------------------------------------

export type WsAuthMode = 'capability-token' | 'signed-bearer-token';

/** The raw `--ws-*` flag values (undefined = flag absent). */
export interface WsAuthFlags {
  wsAuth?: WsAuthMode;
  wsTokenFile?: string;
  wsTokenSha256?: string;
  wsSharedSecretFile?: string;
  wsIssuer?: string;
  wsAudience?: string;
  /** clap parses it as u64; values above i64::MAX fail later, when the secret is loaded. */
  wsMaxClockSkewSeconds?: bigint;
}

/** What the flags ask for, validated but with no file read yet. */
export type WsAuthPlan =
  | { mode: 'none' }
  | { mode: 'capability-token'; source: { kind: 'file'; path: string } | { kind: 'sha256'; digest: Buffer } }
  | {
      mode: 'signed-bearer-token';
      sharedSecretFile: string;
      issuer?: string;
      audience?: string;
      maxClockSkewSeconds: bigint;
    };

/** A startup failure; `message` is the reference's text without its `Error: ` prefix (exit 1). */
export class WsAuthStartupError extends Error {
  override readonly name = 'WsAuthStartupError';
}

export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 30n;
export const MIN_SIGNED_BEARER_SECRET_BYTES = 32;

/**
 * `str::trim` of Rust: Unicode White_Space at both ends. Unlike JS `trim`, U+0085 is trimmed and
 * U+FEFF (BOM) is kept (observed: a token file starting with a BOM keeps it).
 */
export function rustTrim(value: string): string {
  const ws = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
  return value.replace(new RegExp(`^${ws}+|${ws}+$`, 'g'), '');
}

/** Trimmed, and absent when blank: how the reference treats `--ws-issuer` / `--ws-audience`. */
function normalizeOptional(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = rustTrim(value);
  return trimmed === '' ? undefined : trimmed;
}

/** `--ws-token-sha256`: trimmed, exactly 64 hex digits (either case). */
export function parseSha256Arg(value: string): Buffer {
  const trimmed = rustTrim(value);
  if (!/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    throw new WsAuthStartupError('--ws-token-sha256 must be a 64-character hex SHA-256 digest');
  }
  return Buffer.from(trimmed, 'hex');
}

/**
 * The flag-combination rules, checked in the reference's order before anything else at startup
 * (before the `--listen` URL is even parsed). Throws {@link WsAuthStartupError}.
 */
export function planWsAuth(flags: WsAuthFlags): WsAuthPlan {
  const jwtFlagSet =
    flags.wsSharedSecretFile !== undefined ||
    flags.wsIssuer !== undefined ||
    flags.wsAudience !== undefined ||
    flags.wsMaxClockSkewSeconds !== undefined;
  const tokenFlagSet = flags.wsTokenFile !== undefined || flags.wsTokenSha256 !== undefined;

  switch (flags.wsAuth) {
    case undefined:
      if (jwtFlagSet || tokenFlagSet) {
        throw new WsAuthStartupError(
          'websocket auth flags require `--ws-auth capability-token` or `--ws-auth signed-bearer-token`',
        );
      }
      return { mode: 'none' };
    case 'capability-token':
      if (jwtFlagSet) {
        throw new WsAuthStartupError(
          '`--ws-shared-secret-file`, `--ws-issuer`, `--ws-audience`, and `--ws-max-clock-skew-seconds` require `--ws-auth signed-bearer-token`',
        );
      }
      if (flags.wsTokenFile !== undefined && flags.wsTokenSha256 !== undefined) {
        throw new WsAuthStartupError('`--ws-token-file` and `--ws-token-sha256` are mutually exclusive');
      }
      if (flags.wsTokenFile !== undefined) return { mode: 'capability-token', source: { kind: 'file', path: flags.wsTokenFile } };
      if (flags.wsTokenSha256 !== undefined) {
        return { mode: 'capability-token', source: { kind: 'sha256', digest: parseSha256Arg(flags.wsTokenSha256) } };
      }
      throw new WsAuthStartupError(
        '`--ws-token-file` or `--ws-token-sha256` is required when `--ws-auth capability-token` is set',
      );
    case 'signed-bearer-token': {
      if (tokenFlagSet) {
        throw new WsAuthStartupError(
          '`--ws-token-file` and `--ws-token-sha256` require `--ws-auth capability-token`, not `signed-bearer-token`',
        );
      }
      if (flags.wsSharedSecretFile === undefined) {
        throw new WsAuthStartupError(
          '`--ws-shared-secret-file` is required when `--ws-auth signed-bearer-token` is set',
        );
      }
      const plan: WsAuthPlan = {
        mode: 'signed-bearer-token',
        sharedSecretFile: flags.wsSharedSecretFile,
        maxClockSkewSeconds: flags.wsMaxClockSkewSeconds ?? DEFAULT_MAX_CLOCK_SKEW_SECONDS,
      };
      const issuer = normalizeOptional(flags.wsIssuer);
      const audience = normalizeOptional(flags.wsAudience);
      if (issuer !== undefined) plan.issuer = issuer;
      if (audience !== undefined) plan.audience = audience;
      return plan;
    }
  }
}

/**
 * Reads the token / secret file a plan names. Relative paths are resolved against `cwd` and
 * normalized, and messages show that absolute path, as the reference does. Throws
 * {@link WsAuthStartupError}. Errors, in order: unreadable (`<strerror> (os error N)`, musl texts),
 * not UTF-8, blank after trimming, secret under 32 bytes, clock skew above i64::MAX.
 */
export async function readWsAuthPlan(plan: WsAuthPlan, cwd: string = process.cwd()): Promise<WsAuthConfig> {
  switch (plan.mode) {
    case 'none':
      return { mode: 'none' };
    case 'capability-token': {
      if (plan.source.kind === 'sha256') return { mode: 'capability-token', tokenSha256: plan.source.digest };
      const token = await readTrimmedSecret(resolvePath(cwd, plan.source.path));
      return { mode: 'capability-token', tokenSha256: createHash('sha256').update(token, 'utf8').digest() };
    }
    case 'signed-bearer-token': {
      const path = resolvePath(cwd, plan.sharedSecretFile);
      const secret = Buffer.from(await readTrimmedSecret(path), 'utf8');
      if (secret.length < MIN_SIGNED_BEARER_SECRET_BYTES) {
        throw new WsAuthStartupError(
          `signed websocket bearer secret ${path} must be at least ${MIN_SIGNED_BEARER_SECRET_BYTES} bytes`,
        );
      }
      if (plan.maxClockSkewSeconds > I64_MAX) {
        throw new WsAuthStartupError('websocket auth clock skew must fit in a signed 64-bit integer');
      }
      const config: WsAuthConfig = {
        mode: 'signed-bearer-token',
        secret: new Uint8Array(secret),
        maxClockSkewSeconds: Number(plan.maxClockSkewSeconds),
      };
      if (plan.issuer !== undefined) config.issuer = plan.issuer;
      if (plan.audience !== undefined) config.audience = plan.audience;
      return config;
    }
  }
}

/** {@link planWsAuth} then {@link readWsAuthPlan}: flags straight to a config. */
export async function loadWsAuth(flags: WsAuthFlags, cwd?: string): Promise<WsAuthConfig> {
  return readWsAuthPlan(planWsAuth(flags), cwd);
}

async function readTrimmedSecret(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new WsAuthStartupError(`failed to read websocket auth secret ${path}: ${osErrorMessage(err as NodeJS.ErrnoException)}`);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new WsAuthStartupError(`failed to read websocket auth secret ${path}: stream did not contain valid UTF-8`);
  }
  const trimmed = rustTrim(text);
  if (trimmed === '') throw new WsAuthStartupError(`websocket auth secret ${path} must not be empty`);
  return trimmed;
}
