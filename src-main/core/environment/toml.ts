/**
 * TOML for `environmentConfig/read` (local-protocol.md §10.3): a parser that keeps what the
 * reference keeps (document key order, exact i64 integers, datetimes as written, the TOML 1.1
 * additions the 0.169.0 binary accepts) and reports errors with the `toml` crate's wording and
 * positions, plus a serializer that writes values exactly as the crate's `toml::to_string` does.
 *
 * Value model: tables are `Map`s (insertion order = document order, so keys like "1" keep their
 * place), arrays are JS arrays, integers are `bigint`, floats are `TomlFloat`, datetimes are
 * `TomlDateTime` (already in the crate's display form), strings and booleans are themselves.
 *
 * Error texts observed on the binary (`failed to load executor-local config: <file>:<line>:<col>:
 * <message>`): `string values must be quoted, expected literal string`, `duplicate key`, `invalid
 * basic string, expected \`"\``, `unclosed array, expected \`]\``, `invalid date, expected month
 * between 01 and 12`, ... Columns count characters, lines and columns are 1-based.
 */

export class TomlFloat {
  constructor(readonly value: number) {}
}

export type DateTimeKind = 'offset-datetime' | 'local-datetime' | 'local-date' | 'local-time';

export class TomlDateTime {
  constructor(
    readonly kind: DateTimeKind,
    /** The `toml_datetime` display form (`1979-05-27T07:32:00Z`, `07:32:00.5`, ...). */
    readonly text: string,
  ) {}
}

export type TomlTable = Map<string, TomlValue>;
export type TomlArray = TomlValue[];
export type TomlValue = string | bigint | boolean | TomlFloat | TomlDateTime | TomlArray | TomlTable;

export function isTable(value: TomlValue | undefined): value is TomlTable {
  return value instanceof Map;
}

/** A parse error at a character offset of the source. */
export class TomlParseError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly line: number,
    readonly column: number,
    /** The source line the error points at (for the crate's multi-line display). */
    readonly sourceLine: string,
  ) {
    super(message);
    this.name = 'TomlParseError';
  }

  /** `<file>:<line>:<col>: <message>` (codex's config error format). */
  located(file: string): string {
    return `${file}:${this.line}:${this.column}: ${this.message}`;
  }

  /**
   * The `toml::de::Error` display:
   * `TOML parse error at line L, column C\n  |\nL | <line>\n  |     ^\n<message>\n`.
   */
  display(): string {
    const gutter = ' '.repeat(String(this.line).length);
    const caret = ' '.repeat(this.column - 1) + '^';
    return `TOML parse error at line ${this.line}, column ${this.column}\n${gutter} |\n${this.line} | ${this.sourceLine}\n${gutter} | ${caret}\n${this.message}\n`;
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

type TableState = 'implicit' | 'header' | 'dotted' | 'inline';

const MSG = {
  quoteValue: 'string values must be quoted, expected literal string',
  duplicate: 'duplicate key',
  emptyKey: 'unquoted keys cannot be empty, expected letters, numbers, `-`, `_`',
  badKey: 'invalid unquoted key, expected letters, numbers, `-`, `_`',
  noValue: 'key with no value, expected `=`',
  trailing: 'unexpected key or value, expected newline, `#`',
  basic: 'invalid basic string, expected `"`',
  basicChar: 'invalid basic string, expected non-double-quote visible characters, `\\`',
  mlBasic: 'invalid multi-line basic string, expected `"`',
  literal: "invalid literal string, expected `'`",
  mlLiteral: "invalid multi-line literal string, expected `'`",
  escape: 'missing escaped value, expected `b`, `e`, `f`, `n`, `r`, `\\`, `"`, `x`, `u`, `U`',
  fewDigits: 'too few unicode value digits, expected unicode hexadecimal value',
  badScalar: 'invalid value, expected unicode hexadecimal value',
  comment: 'invalid comment character, expected printable characters',
  carriageReturn: 'carriage return must be followed by newline, expected newline',
  unclosedArray: 'unclosed array, expected `]`',
  extraComma: 'extra comma in array, expected value',
  unclosedInline: 'unclosed inline table, expected `}`',
  extraAssignment: 'extra assignment between key-value pairs, expected `,`',
  unclosedTable: 'unclosed table, expected `]`',
  unclosedArrayTable: 'unclosed array table, expected `]`',
  leadingZero: 'unexpected leading zero, expected nothing',
  underscore: '`_` may only go between digits, expected nothing',
  radixSign: 'integers with a radix cannot be signed, expected nothing',
  intOverflow: 'integer number overflowed',
  floatOverflow: 'floating-point number overflowed',
  fraction: 'invalid fraction, expected digits',
  mantissa: 'invalid mantissa, expected digits',
  exponent: 'invalid exponent, expected digits',
  u64TooLarge: 'u64 value was too large',
} as const;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;
const I128_MIN = -(2n ** 127n);
const I128_MAX = 2n ** 127n - 1n;

function isBareKeyChar(c: string): boolean {
  return /[A-Za-z0-9_-]/.test(c);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

class Parser {
  private pos = 0;
  private readonly states = new WeakMap<TomlTable, TableState>();
  /** Arrays created by `[[...]]` headers (they may be appended to). */
  private readonly tableArrays = new WeakSet<TomlArray>();

  constructor(private readonly src: string) {}

  fail(message: string, offset = this.pos): never {
    throw makeError(this.src, message, offset);
  }

  private peek(n = 0): string | undefined {
    return this.src[this.pos + n];
  }

  private eof(): boolean {
    return this.pos >= this.src.length;
  }

  private skipWs(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  /** Whitespace, newlines and comments (inside arrays and inline tables). */
  private skipWsCommentsNewlines(): void {
    for (;;) {
      this.skipWs();
      const c = this.peek();
      if (c === '\n') this.pos++;
      else if (c === '\r') this.newline();
      else if (c === '#') this.comment();
      else return;
    }
  }

  private newline(): void {
    if (this.peek() === '\n') {
      this.pos++;
      return;
    }
    if (this.peek() === '\r') {
      if (this.peek(1) === '\n') {
        this.pos += 2;
        return;
      }
      this.fail(MSG.carriageReturn, this.pos + 1);
    }
  }

  private comment(): void {
    this.pos++; // '#'
    while (!this.eof()) {
      const c = this.src.charCodeAt(this.pos);
      if (c === 0x0a) return;
      if (c === 0x0d) {
        if (this.peek(1) === '\n') return;
        this.fail(MSG.carriageReturn, this.pos + 1);
      }
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) this.fail(MSG.comment);
      this.pos++;
    }
  }

  /** After a key/value or header: optional whitespace and comment, then a newline or EOF. */
  private lineEnd(): void {
    this.skipWs();
    if (this.peek() === '#') this.comment();
    if (this.eof()) return;
    const c = this.peek();
    if (c === '\n' || c === '\r') {
      this.newline();
      return;
    }
    this.fail(MSG.trailing);
  }

  parseDocument(): TomlTable {
    const root: TomlTable = new Map();
    this.states.set(root, 'header');
    if (this.src.charCodeAt(0) === 0xfeff) this.pos = 1;
    let current = root;
    while (!this.eof()) {
      this.skipWs();
      const c = this.peek();
      if (c === undefined) break;
      if (c === '#') {
        this.comment();
        if (!this.eof()) this.newline();
      } else if (c === '\n' || c === '\r') {
        this.newline();
      } else if (c === '[') {
        current = this.header(root);
        this.lineEnd();
      } else {
        this.keyValue(current);
        this.lineEnd();
      }
    }
    return root;
  }

  // --- keys -----------------------------------------------------------------------------------

  private simpleKey(): { key: string; offset: number } {
    const offset = this.pos;
    const c = this.peek();
    if (c === '"') {
      if (this.src.startsWith('"""', this.pos)) this.fail(MSG.badKey);
      return { key: this.basicString(), offset };
    }
    if (c === "'") {
      if (this.src.startsWith("'''", this.pos)) this.fail(MSG.badKey);
      return { key: this.literalString(), offset };
    }
    let end = this.pos;
    while (end < this.src.length && !/[ \t=.\[\],{}#\n\r"']/.test(this.src[end]!)) end++;
    const run = this.src.slice(this.pos, end);
    if (run === '') this.fail(MSG.emptyKey);
    for (const ch of run) if (!isBareKeyChar(ch)) this.fail(MSG.badKey);
    this.pos = end;
    return { key: run, offset };
  }

  private dottedKey(): Array<{ key: string; offset: number }> {
    const keys = [this.simpleKey()];
    for (;;) {
      const save = this.pos;
      this.skipWs();
      if (this.peek() !== '.') {
        this.pos = save;
        return keys;
      }
      this.pos++;
      this.skipWs();
      const next = this.peek();
      if (next === undefined || next === '\n' || next === '\r') this.fail(MSG.noValue);
      keys.push(this.simpleKey());
    }
  }

  // --- headers --------------------------------------------------------------------------------

  private header(root: TomlTable): TomlTable {
    const isArray = this.peek(1) === '[';
    this.pos += isArray ? 2 : 1;
    this.skipWs();
    const keys = this.dottedKey();
    this.skipWs();
    if (isArray) {
      if (this.peek() !== ']') this.fail(MSG.unclosedArrayTable);
      if (this.peek(1) !== ']') this.fail(MSG.unclosedArrayTable, this.pos + 1);
      this.pos += 2;
    } else {
      if (this.peek() !== ']') this.fail(MSG.unclosedTable);
      this.pos++;
    }

    // Walk (creating implicit tables) to the parent of the last key.
    let table = root;
    for (const { key, offset } of keys.slice(0, -1)) {
      const existing = table.get(key);
      if (existing === undefined) {
        const created: TomlTable = new Map();
        this.states.set(created, 'implicit');
        table.set(key, created);
        table = created;
      } else if (isTable(existing)) {
        if (this.states.get(existing) === 'inline') this.fail('cannot extend value of type inline table with a dotted key', offset);
        table = existing;
      } else if (Array.isArray(existing) && this.tableArrays.has(existing)) {
        table = existing[existing.length - 1] as TomlTable;
      } else {
        this.fail(MSG.duplicate, offset);
      }
    }

    const last = keys[keys.length - 1]!;
    const existing = table.get(last.key);
    if (isArray) {
      if (existing === undefined) {
        const array: TomlArray = [];
        this.tableArrays.add(array);
        table.set(last.key, array);
        const element: TomlTable = new Map();
        this.states.set(element, 'header');
        array.push(element);
        return element;
      }
      if (Array.isArray(existing) && this.tableArrays.has(existing)) {
        const element: TomlTable = new Map();
        this.states.set(element, 'header');
        existing.push(element);
        return element;
      }
      this.fail(MSG.duplicate, last.offset);
    }
    if (existing === undefined) {
      const created: TomlTable = new Map();
      this.states.set(created, 'header');
      table.set(last.key, created);
      return created;
    }
    if (isTable(existing) && this.states.get(existing) === 'implicit') {
      this.states.set(existing, 'header');
      return existing;
    }
    this.fail(MSG.duplicate, last.offset);
  }

  // --- key/value ------------------------------------------------------------------------------

  private keyValue(table: TomlTable, inline = false): void {
    const keys = this.dottedKey();
    this.skipWs();
    if (this.peek() !== '=') this.fail(MSG.noValue);
    this.pos++;
    this.skipWs();
    const value = this.value(inline);
    let target = table;
    let crossedHeaderTable = false;
    for (const { key, offset } of keys.slice(0, -1)) {
      const existing = target.get(key);
      if (existing === undefined) {
        const created: TomlTable = new Map();
        this.states.set(created, 'dotted');
        target.set(key, created);
        target = created;
      } else if (isTable(existing) && this.states.get(existing) === 'dotted') {
        target = existing;
      } else if (isTable(existing) && (this.states.get(existing) === 'implicit' || this.states.get(existing) === 'header') && !inline) {
        // `[a.b.c]` then `[a]` + `b.d = 1`: a table made by a header cannot take dotted keys
        crossedHeaderTable = true;
        target = existing;
      } else {
        this.fail(`cannot extend value of type ${typeName(existing, this.states, this.tableArrays)} with a dotted key`, offset);
      }
    }
    const last = keys[keys.length - 1]!;
    if (crossedHeaderTable || target.has(last.key)) this.fail(MSG.duplicate, last.offset);
    target.set(last.key, value);
  }

  // --- values ---------------------------------------------------------------------------------

  private value(inline: boolean): TomlValue {
    const c = this.peek();
    if (c === '"') return this.src.startsWith('"""', this.pos) ? this.mlBasicString() : this.basicString();
    if (c === "'") return this.src.startsWith("'''", this.pos) ? this.mlLiteralString() : this.literalString();
    if (c === '[') return this.array();
    if (c === '{') return this.inlineTable();
    if (c === ']') this.fail('missing array opening, expected `[`');
    if (c === '}') this.fail('missing inline table opening, expected `{`');
    if (c === '=') this.fail('extra `=`, expected nothing');
    return this.scalar(inline);
  }

  private scalar(inline: boolean): TomlValue {
    const start = this.pos;
    // An unquoted run: up to a delimiter; inside inline tables whitespace also ends it.
    let end = start;
    while (end < this.src.length) {
      const ch = this.src[end]!;
      if (ch === ',' || ch === ']' || ch === '}' || ch === '#' || ch === '\n' || ch === '\r' || ch === '=' || ch === '[' || ch === '{') break;
      end++;
    }
    let text = this.src.slice(start, end).replace(/[ \t]+$/, '');
    // A date followed by a space and a time is one value; otherwise whitespace ends the atom
    // (two atoms without a comma are reported as an unquoted string).
    const dateSpace = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/.test(text);
    if (!dateSpace && /[ \t]/.test(text)) {
      const firstAtom = text.split(/[ \t]/)[0]!;
      if (inline) {
        text = firstAtom;
      } else {
        this.fail(MSG.quoteValue, start);
      }
    } else if (dateSpace) {
      text = text.replace(/^(\S+ \S+).*$/, '$1');
    }
    this.pos = start + text.length;
    if (text === '') this.fail(MSG.quoteValue, start);
    if (text === 'true') return true;
    if (text === 'false') return false;
    const first = text[0]!;
    if (first === 't') this.fail('invalid boolean, expected `true`', start);
    if (first === 'f') this.fail('invalid boolean, expected `false`', start);
    const signedSpecial = /^[+-](inf|nan)./.exec(text);
    if (signedSpecial) this.fail(`invalid float, expected \`${signedSpecial[1]}\``, start + 1);
    if (/^_[0-9_]/.test(text)) this.fail(MSG.underscore, start);
    if (/^[+-]?(inf|nan)$/.test(text)) {
      const sign = text.startsWith('-') ? -1 : 1;
      return new TomlFloat(text.endsWith('inf') ? sign * Infinity : NaN);
    }
    if (/^\d{2}:/.test(text) || /^\d{4}-/.test(text)) return parseDateTime(text, start, this);
    if (/^[+-]$/.test(text)) this.fail(MSG.quoteValue, start);
    if (isDigit(first) || first === '+' || first === '-' || first === '.') return parseNumber(text, start, this);
    this.fail(MSG.quoteValue, start);
  }

  private array(): TomlArray {
    this.pos++; // '['
    const out: TomlArray = [];
    for (;;) {
      this.skipWsCommentsNewlines();
      const c = this.peek();
      if (c === ']') {
        this.pos++;
        return out;
      }
      if (c === undefined) this.fail(MSG.unclosedArray);
      if (c === ',') this.fail(MSG.extraComma);
      out.push(this.value(false));
      const afterValue = this.pos;
      this.skipWsCommentsNewlines();
      const d = this.peek();
      if (d === ',') {
        this.pos++;
        const afterComma = this.pos;
        this.skipWsCommentsNewlines();
        if (this.peek() === ',') this.fail(MSG.extraComma);
        if (this.eof()) {
          this.pos = afterComma;
          this.skipWs();
          this.fail(MSG.unclosedArray);
        }
        continue;
      }
      if (d === ']') {
        this.pos++;
        return out;
      }
      this.pos = afterValue;
      this.skipWs();
      this.fail(MSG.unclosedArray);
    }
  }

  private inlineTable(): TomlTable {
    this.pos++; // '{'
    const table: TomlTable = new Map();
    this.states.set(table, 'inline');
    for (;;) {
      this.skipWsCommentsNewlines();
      const c = this.peek();
      if (c === '}') {
        this.pos++;
        this.sealInline(table);
        return table;
      }
      if (c === undefined) this.fail(MSG.unclosedInline);
      if (c === ',') this.fail('extra comma in inline table, expected key');
      this.keyValue(table, true);
      const afterValue = this.pos;
      this.skipWs();
      if (this.peek() !== ',' && this.peek() !== '}' && this.peek() !== '\n' && this.peek() !== '\r' && this.peek() !== '#' && !this.eof()) {
        // `{x = 1 y = 2}`: another assignment without a comma
        const save = this.pos;
        try {
          this.dottedKey();
          this.skipWs();
          if (this.peek() === '=') this.fail(MSG.extraAssignment);
        } catch (e) {
          if (e instanceof TomlParseError && e.message === MSG.extraAssignment) throw e;
        }
        this.pos = save;
        this.fail(MSG.unclosedInline);
      }
      this.skipWsCommentsNewlines();
      const d = this.peek();
      if (d === ',') {
        this.pos++;
        continue;
      }
      if (d === '}') {
        this.pos++;
        this.sealInline(table);
        return table;
      }
      this.pos = afterValue;
      this.skipWs();
      this.fail(MSG.unclosedInline);
    }
  }

  /** Tables made by dotted keys inside an inline table are part of it: sealed too. */
  private sealInline(table: TomlTable): void {
    this.states.set(table, 'inline');
    for (const v of table.values()) if (isTable(v) && this.states.get(v) === 'dotted') this.sealInline(v);
  }

  // --- strings --------------------------------------------------------------------------------

  private basicString(): string {
    this.pos++; // '"'
    let out = '';
    for (;;) {
      if (this.eof()) this.fail(MSG.basic);
      const ch = this.src[this.pos]!;
      const code = ch.charCodeAt(0);
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '\n' || (ch === '\r' && this.peek(1) === '\n')) this.fail(MSG.basic);
      if (ch === '\\') {
        out += this.escape();
        continue;
      }
      if ((code < 0x20 && code !== 0x09) || code === 0x7f) this.fail(MSG.basicChar);
      out += ch;
      this.pos++;
    }
  }

  private mlBasicString(): string {
    this.pos += 3;
    if (this.peek() === '\n') this.pos++;
    else if (this.peek() === '\r' && this.peek(1) === '\n') this.pos += 2;
    let out = '';
    for (;;) {
      if (this.eof()) this.fail(MSG.mlBasic);
      const ch = this.src[this.pos]!;
      if (this.src.startsWith('"""', this.pos)) {
        // up to two extra quotes belong to the content
        let quotes = 3;
        while (quotes < 5 && this.src[this.pos + quotes] === '"') quotes++;
        out += '"'.repeat(quotes - 3);
        this.pos += quotes;
        return out;
      }
      if (ch === '\\') {
        // line-ending backslash: trim whitespace and newlines up to the next content
        let look = this.pos + 1;
        while (this.src[look] === ' ' || this.src[look] === '\t') look++;
        if (this.src[look] === '\n' || (this.src[look] === '\r' && this.src[look + 1] === '\n')) {
          this.pos = look;
          while (!this.eof() && /[ \t\r\n]/.test(this.src[this.pos]!)) {
            if (this.src[this.pos] === '\r' && this.src[this.pos + 1] !== '\n') this.fail(MSG.carriageReturn, this.pos + 1);
            this.pos++;
          }
          continue;
        }
        out += this.escape();
        continue;
      }
      if (ch === '\r') {
        if (this.peek(1) !== '\n') this.fail(MSG.carriageReturn, this.pos + 1);
        out += '\n';
        this.pos += 2;
        continue;
      }
      const code = ch.charCodeAt(0);
      if ((code < 0x20 && code !== 0x09 && code !== 0x0a) || code === 0x7f) this.fail('invalid multi-line basic string, expected `\\`, characters');
      out += ch;
      this.pos++;
    }
  }

  private literalString(): string {
    this.pos++;
    const start = this.pos;
    for (;;) {
      if (this.eof()) this.fail(MSG.literal);
      const ch = this.src[this.pos]!;
      if (ch === "'") {
        const s = this.src.slice(start, this.pos);
        this.pos++;
        return s;
      }
      if (ch === '\n' || ch === '\r') this.fail(MSG.literal);
      const code = ch.charCodeAt(0);
      if ((code < 0x20 && code !== 0x09) || code === 0x7f) this.fail('invalid literal string, expected non-single-quote visible characters');
      this.pos++;
    }
  }

  private mlLiteralString(): string {
    this.pos += 3;
    if (this.peek() === '\n') this.pos++;
    else if (this.peek() === '\r' && this.peek(1) === '\n') this.pos += 2;
    let out = '';
    for (;;) {
      if (this.eof()) this.fail(MSG.mlLiteral);
      const ch = this.src[this.pos]!;
      if (this.src.startsWith("'''", this.pos)) {
        let quotes = 3;
        while (quotes < 5 && this.src[this.pos + quotes] === "'") quotes++;
        out += "'".repeat(quotes - 3);
        this.pos += quotes;
        return out;
      }
      if (ch === '\r') {
        if (this.peek(1) !== '\n') this.fail(MSG.carriageReturn, this.pos + 1);
        out += '\n';
        this.pos += 2;
        continue;
      }
      const code = ch.charCodeAt(0);
      if ((code < 0x20 && code !== 0x09 && code !== 0x0a) || code === 0x7f) this.fail('invalid multi-line literal string, expected characters');
      out += ch;
      this.pos++;
    }
  }

  private escape(): string {
    this.pos++; // '\'
    const c = this.peek();
    const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\x1b', '"': '"', '\\': '\\' };
    if (c !== undefined && c in simple) {
      this.pos++;
      return simple[c]!;
    }
    const digits = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
    if (digits === 0) this.fail(MSG.escape);
    this.pos++;
    const hexStart = this.pos;
    for (let i = 0; i < digits; i++) {
      if (!/[0-9A-Fa-f]/.test(this.peek() ?? '')) this.fail(MSG.fewDigits);
      this.pos++;
    }
    const cp = parseInt(this.src.slice(hexStart, this.pos), 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail(MSG.badScalar, hexStart);
    return String.fromCodePoint(cp);
  }
}

function typeName(value: TomlValue, states: WeakMap<TomlTable, TableState>, tableArrays: WeakSet<TomlArray>): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'boolean') return 'boolean';
  if (value instanceof TomlFloat) return 'float';
  if (value instanceof TomlDateTime) return 'datetime';
  if (Array.isArray(value)) return tableArrays.has(value) ? 'array of tables' : 'array';
  return states.get(value) === 'inline' ? 'inline table' : 'table';
}

// ---------------------------------------------------------------------------------------------
// numbers and datetimes

function parseNumber(text: string, start: number, p: Parser): TomlValue {
  let i = 0;
  let sign = '';
  if (text[0] === '+' || text[0] === '-') {
    sign = text[0];
    i = 1;
  }
  const body = text.slice(i);
  if (/^0[xob]/.test(body)) {
    if (sign) p.fail(MSG.radixSign, start);
    const radix = body[1] === 'x' ? 16 : body[1] === 'o' ? 8 : 2;
    const digits = body.slice(2);
    checkUnderscores(digits, start + i + 2, p);
    const clean = digits.replace(/_/g, '');
    const valid = radix === 16 ? /^[0-9A-Fa-f]+$/ : radix === 8 ? /^[0-7]+$/ : /^[01]+$/;
    if (clean === '') p.fail(MSG.intOverflow, start);
    if (!valid.test(clean)) {
      const bad = [...digits].findIndex((ch) => ch !== '_' && !valid.test(ch));
      p.fail(`invalid ${radix === 16 ? 'hexadecimal' : radix === 8 ? 'octal' : 'binary'} number`, start + i + 2 + bad);
    }
    const value = BigInt((radix === 16 ? '0x' : radix === 8 ? '0o' : '0b') + clean);
    if (value > I64_MAX) p.fail(MSG.intOverflow, start);
    return value;
  }
  // decimal integer or float
  const m = /^([0-9_]*)(?:(\.)([0-9_]*))?(?:([eE])([+-]?[0-9_]*))?$/.exec(body);
  if (m === null) {
    const extraDot = /^[0-9_]+\.[0-9_]+(?=\.)/.exec(body);
    if (extraDot) p.fail('invalid float, expected nothing', start + i + extraDot[0].length);
    p.fail(MSG.quoteValue, start);
  }
  const [, intPart = '', dot, frac = '', exp, expPart = ''] = m;
  if (intPart === '') p.fail(MSG.mantissa, start);
  checkUnderscores(intPart, start + i, p);
  if (intPart.length > 1 && intPart[0] === '0') p.fail(MSG.leadingZero, start);
  const isFloat = dot !== undefined || exp !== undefined;
  if (dot !== undefined) {
    const fracOffset = start + i + intPart.length + 1;
    if (frac === '' || frac[0] === '_') p.fail(frac === '' ? MSG.fraction : MSG.underscore, fracOffset);
    checkUnderscores(frac, fracOffset, p);
  }
  if (exp !== undefined) {
    const expOffset = start + i + intPart.length + (dot !== undefined ? 1 + frac.length : 0) + 1;
    const digits = expPart.replace(/^[+-]/, '');
    if (digits === '') p.fail(MSG.exponent, expOffset + (expPart.length - digits.length));
    checkUnderscores(digits, expOffset + (expPart.length - digits.length), p);
  }
  if (!isFloat) {
    const value = BigInt(sign + intPart.replace(/_/g, ''));
    if (value >= I64_MIN && value <= I64_MAX) return value;
    if (value > I64_MAX && value <= U64_MAX) p.fail(MSG.u64TooLarge, start);
    if (value >= I128_MIN && value <= I128_MAX) p.fail(`invalid type: integer \`${value}\` as i128, expected any valid TOML value`, start);
    p.fail(MSG.intOverflow, start);
  }
  const value = Number(text.replace(/_/g, ''));
  if (!Number.isFinite(value)) p.fail(MSG.floatOverflow, start);
  return new TomlFloat(value);
}

/** `_` must sit between two digits. */
function checkUnderscores(digits: string, offset: number, p: Parser): void {
  for (let k = 0; k < digits.length; k++) {
    if (digits[k] !== '_') continue;
    const before = digits[k - 1];
    const after = digits[k + 1];
    if (before === undefined || before === '_' || after === undefined || after === '_') p.fail(MSG.underscore, offset + k);
  }
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;

function parseDateTime(text: string, start: number, p: Parser): TomlDateTime {
  let datePart: string | undefined;
  let rest = text;
  if (/^\d{4}-/.test(text)) {
    datePart = text.slice(0, 10);
    rest = text.slice(10);
    if (/^\d{4}-\d{2}$/.test(text)) p.fail('invalid date, expected `-` (MM-DD)', start);
    if (!DATE_RE.test(datePart)) p.fail(MSG.quoteValue, start);
    if (rest === '') return new TomlDateTime('local-date', validateDate(datePart, start, p));
    if (!/^[Tt ]/.test(rest)) p.fail(MSG.quoteValue, start);
    rest = rest.slice(1);
    if (rest === '') p.fail('invalid time, expected hour', start);
  }
  const offsetMatch = /([Zz]|[+-]\d{2}:\d{2})$/.exec(rest);
  let offset = '';
  let timePart = rest;
  if (datePart !== undefined && offsetMatch !== null) {
    offset = offsetMatch[1]!;
    timePart = rest.slice(0, rest.length - offset.length);
  }
  const tm = TIME_RE.exec(timePart);
  if (tm === null) p.fail(MSG.quoteValue, start);
  const dateText = datePart !== undefined ? validateDate(datePart, start, p) : undefined;
  const [, hh, mm, ss = '00', frac] = tm;
  if (Number(hh) > 23) p.fail('invalid time, expected hour between 00 and 23', start);
  if (Number(mm) > 59) p.fail('invalid time, expected minute between 00 and 59', start);
  if (Number(ss) > 60) p.fail('invalid time, expected second between 00 and 60', start);
  let timeText = `${hh}:${mm}:${ss}`;
  if (frac !== undefined) {
    const nanos = frac.slice(0, 9).padEnd(9, '0').replace(/0+$/, '');
    if (nanos !== '') timeText += `.${nanos}`;
  }
  if (dateText === undefined) return new TomlDateTime('local-time', timeText);
  if (offset === '') return new TomlDateTime('local-datetime', `${dateText}T${timeText}`);
  let offsetText = 'Z';
  if (offset !== 'Z' && offset !== 'z') {
    if (Number(offset.slice(1, 3)) > 23) p.fail('invalid offset, expected hours between 00 and 23', start);
    if (Number(offset.slice(4, 6)) > 59) p.fail('invalid offset, expected minutes between 00 and 59', start);
    offsetText = offset;
  }
  return new TomlDateTime('offset-datetime', `${dateText}T${timeText}${offsetText}`);
}

function validateDate(date: string, start: number, p: Parser): string {
  const [, y, m, d] = DATE_RE.exec(date)!;
  const month = Number(m);
  if (month < 1 || month > 12) p.fail('invalid date, expected month between 01 and 12', start);
  const year = Number(y);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  const day = Number(d);
  if (day < 1 || day > days) p.fail(`invalid date, expected day between 01 and ${days}`, start);
  return date;
}

function makeError(src: string, message: string, offset: number): TomlParseError {
  // Line/column of a character offset; the offset just past a final newline stays on that line.
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < src.length; i++) {
    if (src[i] === '\n' && i + 1 < src.length) {
      line++;
      lineStart = i + 1;
    }
  }
  // (an offset just past a final newline stays on that line: the crate counts the newline in it)
  const column = [...src.slice(lineStart, Math.min(offset, src.length))].length + 1;
  let lineEnd = src.indexOf('\n', lineStart);
  if (lineEnd === -1) lineEnd = src.length;
  const sourceLine = src.slice(lineStart, lineEnd).replace(/\r$/, '');
  return new TomlParseError(message, offset, line, column, sourceLine);
}

/** Parses a TOML document; throws TomlParseError. */
export function parseToml(src: string): TomlTable {
  return new Parser(src).parseDocument();
}

// ---------------------------------------------------------------------------------------------
// Serializer (`toml::to_string` of a `toml::Value` table)

/** Serializes a root table the way the `toml` crate does (values first, then tables). */
export function stringifyToml(root: TomlTable): string {
  const out: string[] = [];
  writeTableBody(root, [], out, true);
  return out.join('');
}

function isArrayOfTables(value: TomlValue): value is TomlTable[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => isTable(v));
}

function isSection(value: TomlValue): boolean {
  return isTable(value) || isArrayOfTables(value);
}

function writeTableBody(table: TomlTable, path: string[], out: string[], isRoot: boolean): void {
  const values = [...table].filter(([, v]) => !isSection(v));
  // a table's header is written when it holds values or nothing at all
  if (!isRoot && (values.length > 0 || table.size === 0)) {
    if (out.length > 0) out.push('\n');
    out.push(`[${path.map(formatKey).join('.')}]\n`);
  }
  for (const [k, v] of values) out.push(`${formatKey(k)} = ${formatValue(v)}\n`);
  for (const [k, v] of table) {
    if (isTable(v)) {
      writeTableBody(v, [...path, k], out, false);
    } else if (isArrayOfTables(v)) {
      for (const element of v) {
        if (out.length > 0) out.push('\n');
        out.push(`[[${[...path, k].map(formatKey).join('.')}]]\n`);
        writeTableBody(element, [...path, k], out, true);
      }
    }
  }
}

export function formatValue(value: TomlValue): string {
  if (typeof value === 'string') return formatString(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof TomlFloat) return formatFloat(value.value);
  if (value instanceof TomlDateTime) return value.text;
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (value.size === 0) return '{}';
  return `{ ${[...value].map(([k, v]) => `${formatKey(k)} = ${formatValue(v)}`).join(', ')} }`;
}

export function formatKey(key: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(key)) return key;
  const m = metrics(key);
  if (!m.escapeCodes && !m.escape && m.maxDouble === 0 && !m.newline) return basic(key);
  if (!m.escapeCodes && m.maxSingle === 0 && !m.newline) return `'${key}'`;
  return basic(key);
}

interface Metrics {
  maxSingle: number;
  maxDouble: number;
  escapeCodes: boolean;
  escape: boolean;
  newline: boolean;
}

function metrics(s: string): Metrics {
  const m: Metrics = { maxSingle: 0, maxDouble: 0, escapeCodes: false, escape: false, newline: false };
  let singles = 0;
  let doubles = 0;
  for (const ch of s) {
    singles = ch === "'" ? singles + 1 : 0;
    doubles = ch === '"' ? doubles + 1 : 0;
    m.maxSingle = Math.max(m.maxSingle, singles);
    m.maxDouble = Math.max(m.maxDouble, doubles);
    const code = ch.codePointAt(0)!;
    if (ch === '\\') m.escape = true;
    else if (ch === '\t') {
      /* neutral */
    } else if (ch === '\n') m.newline = true;
    else if (code <= 0x1f || code === 0x7f) m.escapeCodes = true;
  }
  return m;
}

/** The `toml` crate's default string style choice. */
export function formatString(s: string): string {
  const m = metrics(s);
  if (!m.escapeCodes && !m.escape && m.maxDouble === 0 && !m.newline) return basic(s);
  if (!m.escapeCodes && m.maxSingle === 0 && !m.newline) return `'${s}'`;
  if (!m.escapeCodes && !m.escape && m.maxDouble <= 2) return mlBasic(s, m.newline);
  if (!m.escapeCodes && m.maxSingle <= 2) return `'''${m.newline ? '\n' : ''}${s}'''`;
  return m.newline ? mlBasic(s, true) : basic(s);
}

function escapeChar(ch: string): string | undefined {
  switch (ch) {
    case '\b':
      return '\\b';
    case '\t':
      return '\\t';
    case '\f':
      return '\\f';
    case '\r':
      return '\\r';
    case '\\':
      return '\\\\';
  }
  const code = ch.codePointAt(0)!;
  if (code <= 0x1f || code === 0x7f) return `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return undefined;
}

function basic(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else out += escapeChar(ch) ?? ch;
  }
  return `${out}"`;
}

function mlBasic(s: string, newline: boolean): string {
  let out = `"""${newline ? '\n' : ''}`;
  let quotes = 0;
  for (const ch of s) {
    if (ch === '"') {
      quotes++;
      if (quotes === 3) {
        out += '\\"';
        quotes = 0;
      } else {
        out += '"';
      }
      continue;
    }
    quotes = 0;
    if (ch === '\n') out += '\n';
    else out += escapeChar(ch) ?? ch;
  }
  return `${out}"""`;
}

/** Rust's `Display` for f64 as the crate writes it: positional digits, `.0` when integral. */
export function formatFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  const text = rustFloatDisplay(value);
  return /[.]/.test(text) ? text : `${text}.0`;
}

/** Rust `{}` for f64: shortest round-trip digits, never an exponent. */
export function rustFloatDisplay(value: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const sign = value < 0 ? '-' : '';
  const [mantissa, expText] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp >= 0) {
    if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length);
    return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}
