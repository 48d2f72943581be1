/**
 * JSON text → value, with serde_json's acceptance rules and error texts.
 *
 * The reference exec-server (Rust) reads every frame with serde_json (feature `arbitrary_precision`)
 * into a value whose object visitor rejects duplicate keys, then classifies the envelope, and only
 * then checks for trailing characters. A compatible server must accept and reject exactly the same
 * texts and quote the same reasons, e.g. `key must be a string at line 1 column 2`.
 *
 * Two paths:
 * - fast: `JSON.parse`, followed by a cheap structural scan (strings are skipped with `indexOf`)
 *   that looks for the few things JSON.parse gets "wrong" for us: nesting ≥ 128, duplicate keys,
 *   number literals that are not plain safe integers, array-index-like keys (JS reorders them),
 *   escaped lone surrogates. Any hit falls back to the slow path.
 * - slow: a byte-level port of serde_json's parser state machine (positions are UTF-8 byte columns
 *   exactly as serde_json computes them).
 *
 * Value representation (what `value` holds):
 * - objects are plain objects; a `"__proto__"` key becomes an own data property (never the
 *   prototype), as with JSON.parse. Key order: JS order; when an object has array-index-like keys
 *   ("0", "17") JS moves them first, so the input order is kept in a side table: `inputKeyOrder()`.
 * - numbers: a plain integer literal (`-?(0|[1-9][0-9]*)`) is a JS `number` when it is a safe
 *   integer (`-0` becomes `0`, as the reference does: serde_json reads `-0` as the i64 0), otherwise a
 *   `bigint` with the exact value. Any literal with a fraction or exponent (`1.0`, `1e3`, `1e400`) is a
 *   `JsonFloat` that keeps the source text: with arbitrary_precision the reference keeps the text too,
 *   and its integer fields reject such literals (`invalid number`), and its RequestId rejects them.
 * - so a request id is `number | bigint | string` after parsing, exact for any i64; serialize
 *   outgoing frames with `stringifyJson` (bigint → digits, JsonFloat → its text) to echo it exactly.
 */
import { isUtf8 } from 'node:buffer';

/** A number literal with a fraction and/or exponent, kept as its source text. */
export class JsonFloat {
  constructor(readonly text: string) {}
  /** The nearest double (may be ±Infinity for `1e400`, which serde_json accepts here). */
  get value(): number {
    return Number(this.text);
  }
  toString(): string {
    return this.text;
  }
}

export type JsonParseResult =
  | { ok: true; value: unknown }
  | {
      ok: false;
      /** serde_json's reason, e.g. `expected value at line 1 column 1`. */
      error: string;
      /**
       * Present only when a complete first value was parsed and non-whitespace follows
       * (`trailing characters at line L column C`). The reference decodes the envelope of this first
       * value before it checks for trailing characters, so envelope errors (`missing field \`error\``,
       * `expected a JSON-RPC object`) win; report `error` only when the envelope is fine.
       */
      valueBeforeTrailing?: unknown;
    };

/** serde_json's recursion limit: the 128th nested array/object is refused. */
const RECURSION_LIMIT = 128;

const keyOrders = new WeakMap<object, readonly string[]>();

/** The object's keys in input order (differs from `Object.keys` only for array-index-like keys). */
export function inputKeyOrder(obj: object): readonly string[] {
  return keyOrders.get(obj) ?? Object.keys(obj);
}

/** Parses a text frame (serde_json::from_str). */
export function parseJsonText(text: string): JsonParseResult {
  const fast = fastParse(text);
  if (fast !== SLOW) return { ok: true, value: fast };
  return new ByteParser(Buffer.from(text, 'utf8'), false).run();
}

/** The byte-level parser alone, without the JSON.parse fast path (for tests and diagnostics). */
export function parseJsonTextSlow(text: string): JsonParseResult {
  return new ByteParser(Buffer.from(text, 'utf8'), false).run();
}

/**
 * Parses a binary frame (serde_json::from_slice): like parseJsonText, but invalid UTF-8 inside a
 * string is `invalid unicode code point` (reported after the closing quote), and invalid bytes
 * elsewhere are ordinary syntax errors.
 */
export function parseJsonBytes(bytes: Uint8Array): JsonParseResult {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buf)) return parseJsonText(buf.toString('utf8'));
  return new ByteParser(buf, true).run();
}

/**
 * JSON.stringify that writes bigint as its digits and JsonFloat as its source text. Keys with
 * undefined values are skipped as JSON.stringify does; `toJSON` methods are honoured.
 */
export function stringifyJson(value: unknown): string {
  const out = writeJson(value);
  if (out === undefined) throw new TypeError('value is not serializable as JSON');
  return out;
}

function writeJson(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  if (value instanceof JsonFloat) return value.text;
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return writeJson(withToJson.toJSON());
  if (Array.isArray(value)) return `[${value.map((v) => writeJson(v) ?? 'null').join(',')}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value as object)) {
    const v = writeJson((value as Record<string, unknown>)[key]);
    if (v !== undefined) parts.push(`${JSON.stringify(key)}:${v}`);
  }
  return `{${parts.join(',')}}`;
}

// ---------------------------------------------------------------------------------------------
// Fast path

const SLOW: unique symbol = Symbol('slow');

function fastParse(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return SLOW;
  }
  if (!structureIsPlain(text)) return SLOW;
  // Escaped surrogates (\uD800-\uDFFF) are the only way JSON.parse can yield ill-formed strings
  // from well-formed input; serde_json rejects lone ones.
  if (/\\u[dD][89a-fA-F]/.test(text) && containsIllFormedString(value)) return SLOW;
  return value;
}

const ARRAY_INDEX_KEY = /^(?:0|[1-9][0-9]{0,9})$/;

function isArrayIndexKey(key: string): boolean {
  return ARRAY_INDEX_KEY.test(key) && Number(key) < 4294967295;
}

/**
 * Scans text that JSON.parse already accepted. Returns false when the slow path is needed: nesting
 * of 128 or more, a duplicate key, an array-index-like key, or a number literal that is not a plain
 * safe integer (or is `-0`).
 */
function structureIsPlain(text: string): boolean {
  const n = text.length;
  // Per open container: null for arrays, a Set of keys seen (created lazily) for objects.
  const stack: Array<Set<string> | null | undefined> = [];
  let expectKey = false;
  let nextBackslash = -1; // cached index of the next '\\' at or after some point; n when none
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let end = text.indexOf('"', i + 1);
      if (nextBackslash < i) {
        nextBackslash = text.indexOf('\\', i);
        if (nextBackslash === -1) nextBackslash = n;
      }
      const escaped = nextBackslash < end;
      if (escaped) {
        let j = i + 1;
        for (;;) {
          const ch = text.charCodeAt(j);
          if (ch === 0x5c) j += 2;
          else if (ch === 0x22) break;
          else j++;
        }
        end = j;
      }
      if (expectKey) {
        const key = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        if (isArrayIndexKey(key)) return false;
        const top = stack.length - 1;
        let seen = stack[top];
        if (seen === undefined) stack[top] = seen = new Set();
        if (seen === null) return false; // cannot happen for valid JSON
        if (seen.has(key)) return false;
        seen.add(key);
        expectKey = false;
      }
      i = end + 1;
      continue;
    }
    switch (c) {
      case 0x7b: // {
        stack.push(undefined);
        if (stack.length >= RECURSION_LIMIT) return false;
        expectKey = true;
        break;
      case 0x5b: // [
        stack.push(null);
        if (stack.length >= RECURSION_LIMIT) return false;
        expectKey = false;
        break;
      case 0x7d: // }
      case 0x5d: // ]
        stack.pop();
        expectKey = false;
        break;
      case 0x2c: // ,
        expectKey = stack[stack.length - 1] !== null;
        break;
      case 0x2d: // -
      case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: // 0-4
      case 0x35: case 0x36: case 0x37: case 0x38: case 0x39: { // 5-9
        let j = c === 0x2d ? i + 1 : i;
        const digitsStart = j;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d < 0x30 || d > 0x39) break;
          j++;
        }
        const next = j < n ? text.charCodeAt(j) : 0;
        if (next === 0x2e || next === 0x65 || next === 0x45) return false; // . e E
        if (c === 0x2d && j - digitsStart === 1 && text.charCodeAt(digitsStart) === 0x30) return false; // -0
        if (j - digitsStart > 15 && !Number.isSafeInteger(Number(text.slice(i, j)))) return false;
        i = j;
        continue;
      }
    }
    i++;
  }
  return true;
}

function isWellFormed(s: string): boolean {
  const native = (s as unknown as { isWellFormed?: () => boolean }).isWellFormed;
  if (typeof native === 'function') return native.call(s);
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

function containsIllFormedString(value: unknown): boolean {
  if (typeof value === 'string') return !isWellFormed(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(containsIllFormedString);
  for (const [k, v] of Object.entries(value)) {
    if (!isWellFormed(k) || containsIllFormedString(v)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Slow path: serde_json's parser, byte for byte

const Reason = {
  EofWhileParsingList: 'EOF while parsing a list',
  EofWhileParsingObject: 'EOF while parsing an object',
  EofWhileParsingString: 'EOF while parsing a string',
  EofWhileParsingValue: 'EOF while parsing a value',
  ExpectedColon: 'expected `:`',
  ExpectedListCommaOrEnd: 'expected `,` or `]`',
  ExpectedObjectCommaOrEnd: 'expected `,` or `}`',
  ExpectedSomeIdent: 'expected ident',
  ExpectedSomeValue: 'expected value',
  InvalidEscape: 'invalid escape',
  InvalidNumber: 'invalid number',
  InvalidUnicodeCodePoint: 'invalid unicode code point',
  ControlCharacterWhileParsingString: 'control character (\\u0000-\\u001F) found while parsing a string',
  KeyMustBeAString: 'key must be a string',
  LoneLeadingSurrogateInHexEscape: 'lone leading surrogate in hex escape',
  TrailingComma: 'trailing comma',
  TrailingCharacters: 'trailing characters',
  UnexpectedEndOfHexEscape: 'unexpected end of hex escape',
  RecursionLimitExceeded: 'recursion limit exceeded',
} as const;

class JsonSyntaxError extends Error {}

const HEX: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let d = 0; d < 10; d++) t[0x30 + d] = d;
  for (let d = 0; d < 6; d++) {
    t[0x41 + d] = 10 + d;
    t[0x61 + d] = 10 + d;
  }
  return t;
})();

const ESCAPES: Record<number, string> = {
  0x22: '"',
  0x5c: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

class ByteParser {
  private i = 0;
  private remainingDepth = RECURSION_LIMIT;

  constructor(
    private readonly b: Buffer,
    /** Validate UTF-8 inside strings (from_slice); text input is valid by construction. */
    private readonly validateUtf8: boolean,
  ) {}

  run(): JsonParseResult {
    let value: unknown;
    try {
      value = this.parseValue();
    } catch (e) {
      if (e instanceof JsonSyntaxError) return { ok: false, error: e.message };
      throw e;
    }
    this.skipWhitespace();
    if (this.i < this.b.length) {
      return { ok: false, error: this.message(Reason.TrailingCharacters, this.peekPos()), valueBeforeTrailing: value };
    }
    return { ok: true, value };
  }

  // --- positions ---------------------------------------------------------------------------

  /** serde_json `position_of_index`: 1-based line, column = bytes since the line start. */
  private message(reason: string, pos: number): string {
    const b = this.b;
    let lineStart = 0;
    let line = 1;
    for (let k = b.indexOf(0x0a); k !== -1 && k < pos; k = b.indexOf(0x0a, k + 1)) {
      line++;
      lineStart = k + 1;
    }
    return `${reason} at line ${line} column ${pos - lineStart}`;
  }

  /** `error()`: the position is the current index. */
  private fail(reason: string): never {
    throw new JsonSyntaxError(this.message(reason, this.i));
  }

  private peekPos(): number {
    return Math.min(this.b.length, this.i + 1);
  }

  /** `peek_error()`: the position is one past the current index (capped at the end). */
  private failPeek(reason: string): never {
    throw new JsonSyntaxError(this.message(reason, this.peekPos()));
  }

  // --- grammar -----------------------------------------------------------------------------

  private skipWhitespace(): void {
    const b = this.b;
    let i = this.i;
    while (i < b.length) {
      const c = b[i]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) break;
      i++;
    }
    this.i = i;
  }

  private parseValue(): unknown {
    this.skipWhitespace();
    const b = this.b;
    if (this.i >= b.length) this.failPeek(Reason.EofWhileParsingValue);
    const c = b[this.i]!;
    switch (c) {
      case 0x6e: // n
        this.i++;
        this.parseIdent('ull');
        return null;
      case 0x74: // t
        this.i++;
        this.parseIdent('rue');
        return true;
      case 0x66: // f
        this.i++;
        this.parseIdent('alse');
        return false;
      case 0x2d: // -
        this.i++;
        return this.parseNumber(this.i - 1);
      case 0x22: // "
        this.i++;
        return this.parseString();
      case 0x5b: // [
        if (--this.remainingDepth === 0) this.failPeek(Reason.RecursionLimitExceeded);
        this.i++;
        {
          const arr = this.parseArrayBody();
          this.remainingDepth++;
          return arr;
        }
      case 0x7b: // {
        if (--this.remainingDepth === 0) this.failPeek(Reason.RecursionLimitExceeded);
        this.i++;
        {
          const obj = this.parseObjectBody();
          this.remainingDepth++;
          return obj;
        }
      default:
        if (c >= 0x30 && c <= 0x39) return this.parseNumber(this.i);
        this.failPeek(Reason.ExpectedSomeValue);
    }
  }

  private parseIdent(rest: string): void {
    for (let k = 0; k < rest.length; k++) {
      if (this.i >= this.b.length) this.fail(Reason.EofWhileParsingValue);
      const c = this.b[this.i++]!;
      if (c !== rest.charCodeAt(k)) this.fail(Reason.ExpectedSomeIdent);
    }
  }

  private isDigitAt(i: number): boolean {
    if (i >= this.b.length) return false;
    const c = this.b[i]!;
    return c >= 0x30 && c <= 0x39;
  }

  /** serde_json (arbitrary_precision) `scan_integer` / `scan_number`; `start` includes a `-`. */
  private parseNumber(start: number): unknown {
    const b = this.b;
    if (this.i >= b.length) this.fail(Reason.EofWhileParsingValue);
    const first = b[this.i++]!;
    if (first === 0x30) {
      if (this.isDigitAt(this.i)) this.failPeek(Reason.InvalidNumber);
    } else if (first >= 0x31 && first <= 0x39) {
      while (this.isDigitAt(this.i)) this.i++;
    } else {
      this.fail(Reason.InvalidNumber);
    }
    let isFloat = false;
    if (this.i < b.length && b[this.i] === 0x2e) {
      isFloat = true;
      this.i++;
      if (!this.isDigitAt(this.i)) {
        if (this.i >= b.length) this.failPeek(Reason.EofWhileParsingValue);
        this.failPeek(Reason.InvalidNumber);
      }
      while (this.isDigitAt(this.i)) this.i++;
    }
    if (this.i < b.length && (b[this.i] === 0x65 || b[this.i] === 0x45)) {
      isFloat = true;
      this.i++;
      if (this.i < b.length && (b[this.i] === 0x2b || b[this.i] === 0x2d)) this.i++;
      if (this.i >= b.length) this.fail(Reason.EofWhileParsingValue);
      const d = b[this.i++]!;
      if (d < 0x30 || d > 0x39) this.fail(Reason.InvalidNumber);
      while (this.isDigitAt(this.i)) this.i++;
    }
    const text = b.toString('latin1', start, this.i);
    if (isFloat) return new JsonFloat(text);
    if (text === '-0') return 0;
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }

  /** After the opening quote. serde_json `parse_str_bytes` with validation. */
  private parseString(): string {
    const b = this.b;
    const len = b.length;
    let start = this.i;
    let pieces: string[] | undefined;
    let invalidUtf8 = false;
    for (;;) {
      let i = this.i;
      while (i < len) {
        const c = b[i]!;
        if (c === 0x22 || c === 0x5c || c < 0x20) break;
        i++;
      }
      this.i = i;
      if (i === len) this.fail(Reason.EofWhileParsingString);
      const c = b[i]!;
      if (c === 0x22) {
        const raw = this.rawSegment(start, i);
        if (raw === undefined) invalidUtf8 = true;
        this.i = i + 1;
        if (invalidUtf8) this.fail(Reason.InvalidUnicodeCodePoint);
        if (pieces === undefined) return raw!;
        pieces.push(raw!);
        return pieces.join('');
      }
      if (c === 0x5c) {
        const raw = this.rawSegment(start, i);
        if (raw === undefined) invalidUtf8 = true;
        pieces ??= [];
        if (raw) pieces.push(raw);
        this.i = i + 1;
        pieces.push(this.parseEscape());
        start = this.i;
        continue;
      }
      this.i = i + 1;
      this.fail(Reason.ControlCharacterWhileParsingString);
    }
  }

  /** Decodes bytes [start, end) of a string body; undefined when they are not valid UTF-8. */
  private rawSegment(start: number, end: number): string | undefined {
    if (start === end) return '';
    if (this.validateUtf8 && !isUtf8(this.b.subarray(start, end))) return undefined;
    return this.b.toString('utf8', start, end);
  }

  private parseEscape(): string {
    if (this.i >= this.b.length) this.fail(Reason.EofWhileParsingString);
    const c = this.b[this.i++]!;
    const simple = ESCAPES[c];
    if (simple !== undefined) return simple;
    if (c !== 0x75) this.fail(Reason.InvalidEscape);
    // \u escape
    const n = this.hexEscape();
    if (n >= 0xdc00 && n <= 0xdfff) this.fail(Reason.LoneLeadingSurrogateInHexEscape);
    if (n < 0xd800 || n > 0xdbff) return String.fromCharCode(n);
    if (this.i >= this.b.length) this.fail(Reason.EofWhileParsingString);
    if (this.b[this.i] !== 0x5c) {
      this.i++;
      this.fail(Reason.UnexpectedEndOfHexEscape);
    }
    this.i++;
    if (this.i >= this.b.length) this.fail(Reason.EofWhileParsingString);
    if (this.b[this.i] !== 0x75) {
      this.i++;
      this.fail(Reason.UnexpectedEndOfHexEscape);
    }
    this.i++;
    const n2 = this.hexEscape();
    if (n2 < 0xdc00 || n2 > 0xdfff) this.fail(Reason.LoneLeadingSurrogateInHexEscape);
    return String.fromCharCode(n, n2);
  }

  private hexEscape(): number {
    const b = this.b;
    if (b.length - this.i < 4) {
      this.i = b.length;
      this.fail(Reason.EofWhileParsingString);
    }
    const i = this.i;
    this.i += 4;
    const h0 = HEX[b[i]!]!, h1 = HEX[b[i + 1]!]!, h2 = HEX[b[i + 2]!]!, h3 = HEX[b[i + 3]!]!;
    if ((h0 | h1 | h2 | h3) < 0) this.fail(Reason.InvalidEscape);
    return (h0 << 12) | (h1 << 8) | (h2 << 4) | h3;
  }

  /** After `[`: serde_json `SeqAccess::next_element_seed` until `]`, then `end_seq`. */
  private parseArrayBody(): unknown[] {
    const b = this.b;
    const out: unknown[] = [];
    let first = true;
    for (;;) {
      this.skipWhitespace();
      if (this.i >= b.length) this.failPeek(Reason.EofWhileParsingList);
      let c: number | undefined = b[this.i];
      if (c === 0x5d) break;
      if (c === 0x2c && !first) {
        this.i++;
        this.skipWhitespace();
        c = b[this.i];
      } else if (first) {
        first = false;
      } else {
        this.failPeek(Reason.ExpectedListCommaOrEnd);
      }
      if (c === undefined) this.failPeek(Reason.EofWhileParsingValue);
      if (c === 0x5d) this.failPeek(Reason.TrailingComma);
      out.push(this.parseValue());
    }
    this.i++; // ]
    return out;
  }

  /** After `{`: serde_json `MapAccess` plus the reference's duplicate-key check. */
  private parseObjectBody(): Record<string, unknown> {
    const b = this.b;
    const out: Record<string, unknown> = {};
    let keys: string[] | undefined;
    let first = true;
    for (;;) {
      this.skipWhitespace();
      if (this.i >= b.length) this.failPeek(Reason.EofWhileParsingObject);
      let c: number | undefined = b[this.i];
      if (c === 0x7d) break;
      if (c === 0x2c && !first) {
        this.i++;
        this.skipWhitespace();
        c = b[this.i];
      } else if (first) {
        first = false;
      } else {
        this.failPeek(Reason.ExpectedObjectCommaOrEnd);
      }
      if (c !== 0x22) {
        if (c === 0x7d) this.failPeek(Reason.TrailingComma);
        if (c === undefined) this.failPeek(Reason.EofWhileParsingValue);
        this.failPeek(Reason.KeyMustBeAString);
      }
      this.i++;
      const key = this.parseString();
      // The reference's visitor raises this custom error right after reading the key; serde_json
      // then stamps it with the current position.
      if (Object.hasOwn(out, key)) this.fail(`duplicate JSON object key \`${key}\``);
      this.skipWhitespace();
      if (this.i >= b.length) this.failPeek(Reason.EofWhileParsingObject);
      if (b[this.i] !== 0x3a) this.failPeek(Reason.ExpectedColon);
      this.i++;
      const value = this.parseValue();
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
      } else {
        out[key] = value;
      }
      if (keys !== undefined) keys.push(key);
      else if (isArrayIndexKey(key)) keys = [...Object.keys(out).filter((k) => k !== key), key];
    }
    this.i++; // }
    if (keys !== undefined) keyOrders.set(out, keys);
    return out;
  }
}
