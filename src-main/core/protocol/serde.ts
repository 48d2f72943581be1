/**
 * A small declarative decoder that reproduces serde's `#[derive(Deserialize)]` over a
 * serde_json::Value (with `arbitrary_precision`), including its error texts, so request params can
 * be rejected exactly as the reference does (`-32602 <serde message>`).
 *
 * ```ts
 * const ReadParams = struct('ReadParams', {
 *   processId: string(),
 *   afterSeq: option(u64()),
 *   maxBytes: option(usize()),
 *   waitMs: option(u64()),
 * });
 * type ReadParams = Infer<typeof ReadParams>; // { processId: string; afterSeq: number | null; ... }
 * const params = decodeParams(ReadParams, message.params); // throws RpcError -32602
 * ```
 *
 * Rules reproduced (all observed on the 0.169.0 binary):
 * - type errors read `invalid type: <unexpected>, expected <expecting>`; the unexpected value is
 *   `null`, `boolean \`true\``, `number` (any number: arbitrary_precision), `string "<Rust Debug>"`,
 *   `sequence` or `map`;
 * - a struct visits the input's keys in input order, so the first bad field *in the input* wins;
 *   then the first missing required field in declaration order gives `missing field \`x\``;
 *   unknown keys are ignored; `null`/absent params give `invalid type: null, expected struct X`;
 * - an array decodes a struct positionally: every field not marked `withDefault` must be present
 *   (`invalid length <field index>, expected struct X with <n> elements`), and extra elements give
 *   `invalid length <len>, expected fewer elements in array`;
 * - `option(T)` accepts null or absence; `withDefault(T, v)` accepts absence but not null;
 * - integers parse the literal's text: a fraction/exponent (`1.0`, `1e3`), a sign on an unsigned type
 *   (`-1`; but `-0` is 0) or an out-of-range value gives `invalid number`;
 * - unit-variant enums accept `"v"` or `{"v": null}` (`expected string or map`,
 *   `` unknown variant `x`, expected `a` or `b` ``, `invalid value: map, expected map with a single key`).
 *
 * Values come from `parseJsonText` (json-text.ts): integers are `number` or `bigint`, other numbers
 * `JsonFloat`. Plain JS values work too (a non-integer JS number counts as a float).
 */
import { RpcError } from '../rpc/errors.ts';
import { JsonFloat, inputKeyOrder } from '../rpc/json-text.ts';
import { Base64Error, decodeBase64 } from '../rpc/base64.ts';
import { PathUri, PathUriError } from './path-uri.ts';

/** How a struct treats a field that is absent. */
export type Presence = 'required' | 'option' | 'default';

export interface Decoder<T> {
  /** serde's "expected …" text for this type (`a string`, `u64`, `struct ReadParams`, …). */
  readonly expecting: string;
  readonly presence: Presence;
  /** The value used when the field is absent (presence 'option' → null, 'default' → its default). */
  readonly absent?: () => T;
  /** Decodes a JSON value (undefined is treated as null); throws RpcError -32602. */
  decode(value: unknown): T;
}

/** The decoded TypeScript type of a decoder. */
export type Infer<D> = D extends Decoder<infer T> ? T : never;

type Fields = Record<string, Decoder<unknown>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type StructValue<F extends Fields> = Simplify<{ -readonly [K in keyof F]: Infer<F[K]> }>;

function decoder<T>(expecting: string, decode: (value: unknown) => T): Decoder<T> {
  return { expecting, presence: 'required', decode };
}

// ---------------------------------------------------------------------------------------------
// errors

/** Throws serde's params error (`-32602 <message>`). */
export function fail(message: string): never {
  throw RpcError.invalidParams(message);
}

/** `invalid type: <unexpected>, expected <expecting>`. */
export function invalidType(value: unknown, expecting: string): never {
  fail(`invalid type: ${unexpected(value)}, expected ${expecting}`);
}

/** How serde_json (arbitrary_precision) names a value in `invalid type` messages. */
export function unexpected(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'boolean':
      return `boolean \`${value}\``;
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return `string ${rustDebugString(value)}`;
  }
  if (value instanceof JsonFloat) return 'number';
  if (Array.isArray(value)) return 'sequence';
  return 'map';
}

const NEEDS_ESCAPE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}\p{Grapheme_Extend}"\\]/u;
const ESCAPE_ALL = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}\p{Grapheme_Extend}"\\]/gu;

/** Rust's `format!("{:?}", s)` for a str: quotes, `\"`, `\\`, `\n`, `\u{301}`, … */
export function rustDebugString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  return `"${s.replace(ESCAPE_ALL, (c) => {
    switch (c) {
      case '"':
        return '\\"';
      case '\\':
        return '\\\\';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      case '\0':
        return '\\0';
      case ' ':
        return ' ';
    }
    return `\\u{${c.codePointAt(0)!.toString(16)}}`;
  })}"`;
}

// ---------------------------------------------------------------------------------------------
// scalars

export function string(): Decoder<string> {
  return decoder('a string', (v) => (typeof v === 'string' ? v : invalidType(v, 'a string')));
}

export function bool(): Decoder<boolean> {
  return decoder('a boolean', (v) => (typeof v === 'boolean' ? v : invalidType(v, 'a boolean')));
}

/** The integer value of a parsed number, or undefined when the literal is not an integer. */
function integerOf(v: number | bigint | JsonFloat): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  return undefined; // a fraction or exponent: Rust's integer parse of the literal text fails
}

function isNumeric(v: unknown): v is number | bigint | JsonFloat {
  return typeof v === 'number' || typeof v === 'bigint' || v instanceof JsonFloat;
}

function bigIntDecoder(name: string, min: bigint, max: bigint): Decoder<bigint> {
  return decoder(name, (v) => {
    if (!isNumeric(v)) return invalidType(v, name);
    const n = integerOf(v);
    if (n === undefined || n < min || n > max) fail('invalid number');
    return n;
  });
}

function numberDecoder(name: string, min: bigint, max: bigint): Decoder<number> {
  const inner = bigIntDecoder(name, min, max);
  return decoder(name, (v) => Number(inner.decode(v)));
}

const U64_MAX = 2n ** 64n - 1n;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** u64 as a JS number (exact up to 2^53; larger values are rounded — use u64Big when they matter). */
export function u64(): Decoder<number> {
  return numberDecoder('u64', 0n, U64_MAX);
}

/** u64 as an exact bigint (ids that are echoed or compared, e.g. fs/watchMissing watchId). */
export function u64Big(): Decoder<bigint> {
  return bigIntDecoder('u64', 0n, U64_MAX);
}

/** usize (64-bit host) as a JS number. */
export function usize(): Decoder<number> {
  return numberDecoder('usize', 0n, U64_MAX);
}

export function u32(): Decoder<number> {
  return numberDecoder('u32', 0n, 2n ** 32n - 1n);
}

export function u16(): Decoder<number> {
  return numberDecoder('u16', 0n, 65535n);
}

/** i64 as a JS number (rounded beyond ±2^53). */
export function i64(): Decoder<number> {
  return numberDecoder('i64', I64_MIN, I64_MAX);
}

/** Any JSON value (serde_json::Value); null included. */
export function json(): Decoder<unknown> {
  return decoder('any valid JSON value', (v) => (v === undefined ? null : v));
}

/**
 * Unit params (`environment/info`, `environment/status`): absent, `null` or `{}`; anything else is
 * `invalid type: map, expected unit` / `invalid type: sequence, expected unit` / ….
 */
export function unit(): Decoder<null> {
  return decoder('unit', (v) => {
    if (v === undefined || v === null) return null;
    if (typeof v === 'object' && !Array.isArray(v) && !(v instanceof JsonFloat) && Object.keys(v).length === 0) return null;
    return invalidType(v, 'unit');
  });
}

// ---------------------------------------------------------------------------------------------
// protocol field types

/** Base64 bytes (`chunk`, `dataBase64`, …): a string, then the base64 crate's rules and messages. */
export function base64Bytes(): Decoder<Buffer> {
  return decoder('a string', (v) => {
    if (typeof v !== 'string') return invalidType(v, 'a string');
    try {
      return decodeBase64(v);
    } catch (e) {
      if (e instanceof Base64Error) fail(e.message);
      throw e;
    }
  });
}

/** A `file:` path URI (parse stage only; call `.toNativePath()` in the handler). */
export function pathUri(): Decoder<PathUri> {
  return decoder('a string', (v) => {
    if (typeof v !== 'string') return invalidType(v, 'a string');
    try {
      return PathUri.parse(v);
    } catch (e) {
      if (e instanceof PathUriError) fail(e.message);
      throw e;
    }
  });
}

/** A decoder for anything else: `decode` may call `fail()` / `invalidType()`. */
export function custom<T>(expecting: string, decode: (value: unknown) => T): Decoder<T> {
  return decoder(expecting, decode);
}

/** Decodes with `inner`, then maps the result (e.g. extra validation that fails with `fail()`). */
export function refine<T, U>(inner: Decoder<T>, map: (value: T) => U): Decoder<U> {
  return decoder(inner.expecting, (v) => map(inner.decode(v)));
}

// ---------------------------------------------------------------------------------------------
// combinators

/** `Option<T>`: null or absent → null. */
export function option<T>(inner: Decoder<T>): Decoder<T | null> {
  return {
    expecting: `option`,
    presence: 'option',
    absent: () => null,
    decode: (v) => (v === null || v === undefined ? null : inner.decode(v)),
  };
}

/**
 * `#[serde(default)]`: absence (also a short array) gives `value` (a function is called per use);
 * an explicit null still goes through `inner` (so `null` for a bool is an error).
 */
export function withDefault<T>(inner: Decoder<T>, value: T | (() => T)): Decoder<T> {
  const make = typeof value === 'function' ? (value as () => T) : () => value;
  return { expecting: inner.expecting, presence: 'default', absent: make, decode: (v) => inner.decode(v) };
}

/** `Vec<T>`. */
export function seq<T>(inner: Decoder<T>): Decoder<T[]> {
  return decoder('a sequence', (v) => {
    if (!Array.isArray(v)) return invalidType(v, 'a sequence');
    return v.map((item) => inner.decode(item));
  });
}

/** `HashMap<String, T>` as a plain object (values decoded in input order). */
export function map<T>(inner: Decoder<T>): Decoder<Record<string, T>> {
  return decoder('a map', (v) => {
    if (!isMap(v)) return invalidType(v, 'a map');
    const out: Record<string, T> = {};
    for (const key of inputKeyOrder(v)) setOwn(out, key, inner.decode(v[key]));
    return out;
  });
}

/** An enum of unit variants (`"interrupt"`, or `{"interrupt": null}`). */
export function unitEnum<const V extends readonly string[]>(variants: V): Decoder<V[number]> {
  const known = new Set<string>(variants);
  const check = (name: string): V[number] => {
    if (!known.has(name)) fail(`unknown variant \`${name}\`, ${expectedVariants(variants)}`);
    return name;
  };
  return decoder('string or map', (v) => {
    if (typeof v === 'string') return check(v);
    if (isMap(v)) {
      const keys = inputKeyOrder(v);
      if (keys.length !== 1) fail('invalid value: map, expected map with a single key');
      const variant = check(keys[0]!);
      const content = v[keys[0]!];
      if (content !== null) invalidType(content, 'unit');
      return variant;
    }
    return invalidType(v, 'string or map');
  });
}

function expectedVariants(variants: readonly string[]): string {
  if (variants.length === 0) return 'there are no variants';
  if (variants.length === 1) return `expected \`${variants[0]}\``;
  if (variants.length === 2) return `expected \`${variants[0]}\` or \`${variants[1]}\``;
  return `expected one of ${variants.map((n) => `\`${n}\``).join(', ')}`;
}

/**
 * A struct named `name` (as serde names it in messages: `struct ReadParams`). Field keys are the
 * JSON keys, in the Rust declaration order (which decides `missing field` and array positions).
 */
export function struct<const F extends Fields>(name: string, fields: F): Decoder<StructValue<F>> {
  const expecting = `struct ${name}`;
  const entries = Object.entries(fields) as Array<[string, Decoder<unknown>]>;
  const byKey = new Map(entries);
  return decoder(expecting, (v) => {
    const out: Record<string, unknown> = {};
    if (Array.isArray(v)) {
      entries.forEach(([key, field], index) => {
        if (index < v.length) setOwn(out, key, field.decode(v[index]));
        else if (field.presence === 'default') setOwn(out, key, field.absent!());
        else fail(`invalid length ${index}, expected ${expecting} with ${entries.length} element${entries.length === 1 ? '' : 's'}`);
      });
      if (v.length > entries.length) fail(`invalid length ${v.length}, expected fewer elements in array`);
      return out as StructValue<F>;
    }
    if (!isMap(v)) return invalidType(v, expecting);
    for (const key of inputKeyOrder(v)) {
      const field = byKey.get(key);
      if (field !== undefined) setOwn(out, key, field.decode(v[key]));
    }
    for (const [key, field] of entries) {
      if (Object.hasOwn(out, key)) continue;
      if (field.presence === 'required') fail(`missing field \`${key}\``);
      setOwn(out, key, field.absent!());
    }
    return out as StructValue<F>;
  });
}

/** Decodes request params (absent params count as null), throwing RpcError -32602 on failure. */
export function decodeParams<T>(d: Decoder<T>, params: unknown): T {
  return d.decode(params === undefined ? null : params);
}

// ---------------------------------------------------------------------------------------------

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonFloat);
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}
