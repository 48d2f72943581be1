/**
 * A small YAML reader for skill front matter and `agents/openai.yaml` (local-protocol.md §10.5).
 * The reference parses these with serde_yaml 0.9 (libyaml); this covers the YAML that skill files
 * use — block mappings and sequences, plain (also multi-line), single- and double-quoted and
 * block (`|`, `>`) scalars, flow collections, comments, anchors and aliases — and rejects what
 * libyaml rejects in that subset (duplicate keys, `: ` inside a plain value, reserved indicators,
 * tab indentation, bad indentation, unterminated quotes or flow collections).
 *
 * Values: `YamlScalar` (text plus whether it was plain, for null and bool resolution), arrays,
 * `Map`s (keys are the scalar text), or null for an empty node.
 */

export class YamlScalar {
  constructor(
    readonly text: string,
    readonly plain: boolean,
  ) {}

  /** A plain `~`, `null`, `Null`, `NULL` (or an empty node) is null in the YAML core schema. */
  get isNull(): boolean {
    return this.plain && ['~', 'null', 'Null', 'NULL', ''].includes(this.text);
  }
}

export type YamlValue = YamlScalar | YamlValue[] | Map<string, YamlValue> | null;

export class YamlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'YamlError';
  }
}

interface Line {
  indent: number;
  text: string; // without the indentation
  raw: string;
}

const FLOW_INDICATORS = new Set(['[', ']', '{', '}', ',']);

class YamlParser {
  private i = 0;
  private readonly lines: Line[];
  private readonly anchors = new Map<string, YamlValue>();

  constructor(src: string) {
    this.lines = src.split(/\r?\n/).map((raw) => {
      const m = /^( *)(.*)$/.exec(raw)!;
      return { indent: m[1]!.length, text: m[2]!, raw };
    });
  }

  parseDocument(): YamlValue {
    // `...` ends the document; only blank lines and comments may follow it.
    const end = this.lines.findIndex((line) => line.indent === 0 && /^\.\.\.(?:[ \t].*)?$/.test(line.text));
    if (end !== -1) {
      if (this.lines.slice(end + 1).some((line) => !this.isBlank(line))) throw new YamlError('deserializing from YAML containing more than one document is not supported');
      this.lines.length = end;
    }
    this.skipBlank();
    if (this.i >= this.lines.length) return null;
    const value = this.node(0);
    this.skipBlank();
    if (this.i < this.lines.length) throw new YamlError('did not find expected <document start>');
    return value;
  }

  private isBlank(line: Line): boolean {
    return line.text.trim() === '' || line.text.startsWith('#');
  }

  private skipBlank(): void {
    while (this.i < this.lines.length && this.isBlank(this.lines[this.i]!)) {
      if (this.lines[this.i]!.text.startsWith('\t') && this.lines[this.i]!.text.trim() !== '') throw new YamlError('found a tab character where an indentation space is expected');
      this.i++;
    }
  }

  /** A block node whose lines are indented at least `min`. */
  private node(min: number): YamlValue {
    this.skipBlank();
    const line = this.lines[this.i];
    if (line === undefined || line.indent < min) return null;
    if (line.text.startsWith('\t')) throw new YamlError('found a tab character where an indentation space is expected');
    if (isSequenceEntry(line.text)) return this.sequence(line.indent);
    if (findMappingColon(line.text) !== -1) return this.mapping(line.indent);
    // a scalar or flow node on its own line(s)
    return this.inlineValue(line.text, line.indent - 1, true);
  }

  private sequence(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    for (;;) {
      this.skipBlank();
      const line = this.lines[this.i];
      if (line === undefined || line.indent < indent) return out;
      if (line.text.startsWith('\t')) throw new YamlError('found a tab character that violates indentation');
      if (line.indent > indent) throw new YamlError('did not find expected \'-\' indicator');
      if (!isSequenceEntry(line.text)) {
        if (findMappingColon(line.text) !== -1) throw new YamlError('did not find expected key');
        throw new YamlError('did not find expected \'-\' indicator');
      }
      const rest = line.text.slice(1);
      const contentOffset = rest.length - rest.trimStart().length;
      if (rest.trim() === '' || rest.trimStart().startsWith('#')) {
        this.i++;
        out.push(this.node(indent + 1));
        continue;
      }
      // Compact node: re-read this line as if the '-' were a space.
      const childIndent = indent + 1 + contentOffset;
      this.lines[this.i] = { indent: childIndent, text: rest.trimStart(), raw: line.raw };
      out.push(this.node(childIndent));
    }
  }

  private mapping(indent: number): Map<string, YamlValue> {
    const out = new Map<string, YamlValue>();
    for (;;) {
      this.skipBlank();
      const line = this.lines[this.i];
      if (line === undefined || line.indent < indent) return out;
      if (line.text.startsWith('\t')) throw new YamlError('found a tab character that violates indentation');
      if (line.indent > indent) throw new YamlError('mapping values are not allowed in this context');
      if (isSequenceEntry(line.text)) throw new YamlError('did not find expected key');
      const colon = findMappingColon(line.text);
      if (colon === -1) throw new YamlError('could not find expected \':\'');
      const key = this.keyText(line.text.slice(0, colon).trim());
      if (out.has(key)) throw new YamlError(`duplicate entry with key "${key}"`);
      const rest = line.text.slice(colon + 1);
      const value = rest.trim();
      if (value === '' || value.startsWith('#')) {
        this.i++;
        this.skipBlank();
        const next = this.lines[this.i];
        if (next !== undefined && next.indent === indent && isSequenceEntry(next.text)) out.set(key, this.sequence(indent));
        else out.set(key, this.node(indent + 1));
        continue;
      }
      out.set(key, this.inlineValue(value, indent, false));
    }
  }

  private keyText(text: string): string {
    if (text.startsWith('"') || text.startsWith("'")) {
      const { value, end } = readQuoted(text, 0);
      if (text.slice(end).trim() !== '') throw new YamlError('could not find expected \':\'');
      return value;
    }
    if (text === '' || text.startsWith('?')) throw new YamlError('could not find expected \':\'');
    return text;
  }

  /**
   * The value starting inside the current line (`text`), continuing on following lines that are
   * indented more than `parentIndent`. Consumes the lines it uses.
   */
  private inlineValue(text: string, parentIndent: number, ownLine: boolean): YamlValue {
    let anchor: string | undefined;
    let rest = text;
    for (;;) {
      const m = /^([&!][^\s]*)(?:[ \t]+|$)/.exec(rest);
      if (!m) break;
      if (m[1]!.startsWith('&')) anchor = m[1]!.slice(1);
      rest = rest.slice(m[0].length);
    }
    let value: YamlValue;
    if (rest === '' || rest.startsWith('#')) {
      this.i++;
      value = this.node(parentIndent + 1);
    } else if (rest.startsWith('*')) {
      const name = rest.slice(1).split(/[ \t]/)[0]!;
      if (!this.anchors.has(name)) throw new YamlError('found undefined alias');
      value = this.anchors.get(name)!;
      this.endOfLine(rest.slice(1 + name.length));
    } else if (rest.startsWith('|') || rest.startsWith('>')) {
      value = this.blockScalar(rest, parentIndent);
    } else if (rest.startsWith('"') || rest.startsWith("'")) {
      value = this.quotedScalar(rest, parentIndent);
    } else if (rest.startsWith('[') || rest.startsWith('{')) {
      value = this.flowNode(rest);
    } else {
      value = this.plainScalar(rest, parentIndent, ownLine);
    }
    if (anchor !== undefined) this.anchors.set(anchor, value);
    return value;
  }

  /** What follows a complete value on its line: only whitespace and a comment. */
  private endOfLine(rest: string): void {
    const trimmed = rest.trim();
    if (trimmed !== '' && !trimmed.startsWith('#')) throw new YamlError('did not find expected key');
    if (trimmed.startsWith('#') && !/^[ \t]/.test(rest)) throw new YamlError('did not find expected comment or line break');
    this.i++;
  }

  private plainScalar(first: string, parentIndent: number, ownLine: boolean): YamlScalar {
    const c = first[0]!;
    if (c === '@' || c === '`') throw new YamlError('found character that cannot start any token');
    if (c === '%' && ownLine) throw new YamlError('found character that cannot start any token');
    if ((c === '-' || c === '?' || c === ':') && (first.length === 1 || /[ \t]/.test(first[1]!))) {
      throw new YamlError('block sequence entries are not allowed in this context');
    }
    if (FLOW_INDICATORS.has(c) || c === '#') throw new YamlError('found character that cannot start any token');
    const parts: string[] = [];
    let current = this.plainSegment(first);
    parts.push(current.text);
    this.i++;
    let ended = current.comment;
    // continuation lines
    let pendingBreaks = 0;
    while (!ended && this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.text.trim() === '') {
        pendingBreaks++;
        this.i++;
        continue;
      }
      if (line.indent <= parentIndent || line.text.startsWith('#')) break;
      if (!ownLine && findMappingColon(line.text) !== -1 && line.indent > parentIndent) {
        throw new YamlError('mapping values are not allowed in this context');
      }
      current = this.plainSegment(line.text.trim());
      parts.push(pendingBreaks > 0 ? '\n'.repeat(pendingBreaks) + current.text : ' ' + current.text);
      pendingBreaks = 0;
      this.i++;
      ended = current.comment;
    }
    // blank lines after the scalar are not part of it
    let text = '';
    for (const part of parts) text += part;
    return new YamlScalar(text.replace(/^[ \t]+|[ \t]+$/g, ''), true);
  }

  /** One line's worth of a plain scalar: up to ` #`; `: ` inside is an error. */
  private plainSegment(text: string): { text: string; comment: boolean } {
    let end = text.length;
    let comment = false;
    for (let k = 0; k < text.length; k++) {
      const ch = text[k]!;
      if (ch === '#' && k > 0 && /[ \t]/.test(text[k - 1]!)) {
        end = k;
        comment = true;
        break;
      }
      if (ch === ':' && (k + 1 === text.length || /[ \t]/.test(text[k + 1]!))) {
        throw new YamlError('mapping values are not allowed in this context');
      }
    }
    return { text: text.slice(0, end).replace(/[ \t]+$/, ''), comment };
  }

  private quotedScalar(first: string, parentIndent: number): YamlScalar {
    // Join continuation lines until the closing quote, then fold.
    let buffer = first;
    const startLine = this.i;
    for (;;) {
      try {
        const { value, end } = readQuoted(buffer, 0);
        this.i = startLine + buffer.split('\n').length - 1;
        this.endOfLine(buffer.slice(end));
        return new YamlScalar(value, false);
      } catch (e) {
        if (!(e instanceof UnterminatedQuote)) throw e;
        const nextIndex = startLine + buffer.split('\n').length;
        const next = this.lines[nextIndex];
        if (next === undefined) throw new YamlError('found unexpected end of stream');
        if (next.text.trim() !== '' && next.indent <= parentIndent && parentIndent >= 0) throw new YamlError('found unexpected end of stream');
        buffer += '\n' + next.raw;
      }
    }
  }

  private flowNode(first: string): YamlValue {
    let buffer = first;
    const startLine = this.i;
    for (;;) {
      const parser = new FlowParser(buffer, this.anchors);
      try {
        const value = parser.parse();
        this.i = startLine + buffer.split('\n').length - 1;
        this.endOfLine(buffer.slice(parser.pos));
        return value;
      } catch (e) {
        if (!(e instanceof UnterminatedFlow)) throw e;
        const next = this.lines[startLine + buffer.split('\n').length];
        if (next === undefined) throw new YamlError('did not find expected \',\' or \']\'');
        buffer += '\n' + next.raw;
      }
    }
  }

  private blockScalar(header: string, parentIndent: number): YamlScalar {
    const m = /^([|>])([+-]?)([1-9]?)([+-]?)(?:[ \t]+#.*)?[ \t]*$/.exec(header);
    if (!m) throw new YamlError('did not find expected comment or line break');
    const literal = m[1] === '|';
    const chomp = m[2] || m[4];
    const explicit = m[3] ? Number(m[3]) : undefined;
    this.i++;
    const body: string[] = [];
    let blockIndent = explicit !== undefined ? Math.max(parentIndent, 0) + explicit : undefined;
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.text.trim() === '') {
        body.push(line.raw.slice(Math.min(line.raw.length, blockIndent ?? line.raw.length)));
        this.i++;
        continue;
      }
      if (blockIndent === undefined) {
        if (line.indent <= parentIndent) break;
        blockIndent = line.indent;
      }
      if (line.indent < blockIndent) break;
      body.push(line.raw.slice(blockIndent));
      this.i++;
    }
    // trailing blank lines belong to chomping
    let trailing = 0;
    while (body.length > 0 && body[body.length - 1]!.trim() === '') {
      body.pop();
      trailing++;
    }
    let text: string;
    if (literal) {
      text = body.join('\n');
    } else {
      text = '';
      for (let k = 0; k < body.length; k++) {
        const ln = body[k]!;
        if (k === 0) {
          text = ln;
          continue;
        }
        const prev = body[k - 1]!;
        if (ln === '') text += '\n';
        else if (prev === '' || /^[ \t]/.test(ln) || /^[ \t]/.test(prev)) text += (prev === '' ? '' : '\n') + ln;
        else text += ' ' + ln;
      }
    }
    if (body.length > 0) {
      if (chomp === '+') text += '\n'.repeat(trailing + 1);
      else if (chomp !== '-') text += '\n';
    }
    return new YamlScalar(text, false);
  }
}

class UnterminatedQuote extends Error {}
class UnterminatedFlow extends Error {}

/** A single- or double-quoted scalar starting at `start`; multi-line content is folded. */
function readQuoted(text: string, start: number): { value: string; end: number } {
  const quote = text[start]!;
  let out = '';
  let k = start + 1;
  let pendingSpace = '';
  const fold = () => {
    // a line break inside quotes: trailing/leading whitespace dropped, one break → space
    out = out.replace(/[ \t]+$/, '');
    let breaks = 0;
    while (k < text.length && (text[k] === '\n' || text[k] === ' ' || text[k] === '\t' || text[k] === '\r')) {
      if (text[k] === '\n') breaks++;
      k++;
    }
    pendingSpace = breaks > 1 ? '\n'.repeat(breaks - 1) : ' ';
  };
  while (k < text.length) {
    const ch = text[k]!;
    if (ch === '\n' || ch === '\r') {
      fold();
      continue;
    }
    if (pendingSpace) {
      out += pendingSpace;
      pendingSpace = '';
    }
    if (quote === "'") {
      if (ch === "'") {
        if (text[k + 1] === "'") {
          out += "'";
          k += 2;
          continue;
        }
        return { value: out, end: k + 1 };
      }
      out += ch;
      k++;
      continue;
    }
    if (ch === '"') return { value: out, end: k + 1 };
    if (ch === '\\') {
      const e = text[k + 1];
      const simple: Record<string, string> = {
        '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b',
        ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029',
      };
      if (e !== undefined && e in simple) {
        out += simple[e];
        k += 2;
        continue;
      }
      if (e === '\n' || e === '\r') {
        k++;
        while (k < text.length && (text[k] === '\n' || text[k] === '\r' || text[k] === ' ' || text[k] === '\t')) k++;
        continue;
      }
      const digits = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      if (digits === 0) throw new YamlError('found unknown escape character while parsing a quoted scalar');
      const hex = text.slice(k + 2, k + 2 + digits);
      if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== digits) throw new YamlError('did not find expected hexdecimal number');
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new YamlError('found invalid Unicode character escape code');
      out += String.fromCodePoint(cp);
      k += 2 + digits;
      continue;
    }
    out += ch;
    k++;
  }
  throw new UnterminatedQuote('unterminated');
}

/** `[a, b]` / `{a: b}` (may span lines). */
class FlowParser {
  pos = 0;
  constructor(
    private readonly src: string,
    private readonly anchors: Map<string, YamlValue>,
  ) {}

  parse(): YamlValue {
    return this.value();
  }

  private ws(): void {
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.pos++;
      else if (c === '#' && (this.pos === 0 || /\s/.test(this.src[this.pos - 1]!))) {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
      } else return;
    }
  }

  private value(): YamlValue {
    this.ws();
    if (this.pos >= this.src.length) throw new UnterminatedFlow();
    const c = this.src[this.pos]!;
    if (c === '[') return this.seq();
    if (c === '{') return this.map();
    if (c === '"' || c === "'") {
      try {
        const { value, end } = readQuoted(this.src, this.pos);
        this.pos = end;
        return new YamlScalar(value, false);
      } catch (e) {
        if (e instanceof UnterminatedQuote) throw new UnterminatedFlow();
        throw e;
      }
    }
    if (c === '*') {
      const m = /^\*([^\s,\]}]+)/.exec(this.src.slice(this.pos))!;
      this.pos += m[0].length;
      if (!this.anchors.has(m[1]!)) throw new YamlError('found undefined alias');
      return this.anchors.get(m[1]!)!;
    }
    if (c === '@' || c === '`') throw new YamlError('found character that cannot start any token');
    let end = this.pos;
    while (end < this.src.length) {
      const ch = this.src[end]!;
      if (ch === ',' || ch === ']' || ch === '}' || ch === '[' || ch === '{' || ch === '\n') break;
      if (ch === ':' && (end + 1 >= this.src.length || /[\s,\]}]/.test(this.src[end + 1]!))) break;
      if (ch === '#' && /\s/.test(this.src[end - 1] ?? '')) break;
      end++;
    }
    const text = this.src.slice(this.pos, end).trim();
    this.pos = end;
    return new YamlScalar(text, true);
  }

  private seq(): YamlValue[] {
    this.pos++;
    const out: YamlValue[] = [];
    for (;;) {
      this.ws();
      if (this.pos >= this.src.length) throw new UnterminatedFlow();
      if (this.src[this.pos] === ']') {
        this.pos++;
        return out;
      }
      out.push(this.value());
      this.ws();
      const c = this.src[this.pos];
      if (c === undefined) throw new UnterminatedFlow();
      if (c === ',') this.pos++;
      else if (c !== ']') throw new YamlError("did not find expected ',' or ']'");
    }
  }

  private map(): Map<string, YamlValue> {
    this.pos++;
    const out = new Map<string, YamlValue>();
    for (;;) {
      this.ws();
      if (this.pos >= this.src.length) throw new UnterminatedFlow();
      if (this.src[this.pos] === '}') {
        this.pos++;
        return out;
      }
      const key = this.value();
      if (!(key instanceof YamlScalar)) throw new YamlError('unsupported complex key');
      this.ws();
      let value: YamlValue = null;
      if (this.src[this.pos] === ':') {
        this.pos++;
        this.ws();
        const c = this.src[this.pos];
        value = c === ',' || c === '}' ? null : this.value();
      }
      if (out.has(key.text)) throw new YamlError(`duplicate entry with key "${key.text}"`);
      out.set(key.text, value);
      this.ws();
      const c = this.src[this.pos];
      if (c === undefined) throw new UnterminatedFlow();
      if (c === ',') this.pos++;
      else if (c !== '}') throw new YamlError("did not find expected ',' or '}'");
    }
  }
}

function isSequenceEntry(text: string): boolean {
  return text === '-' || /^-[ \t]/.test(text);
}

/** Index of the `:` that makes this line a mapping entry (outside quotes/flow), or -1. */
function findMappingColon(text: string): number {
  if (text.startsWith('"') || text.startsWith("'")) {
    try {
      const { end } = readQuoted(text, 0);
      const rest = text.slice(end);
      const m = /^[ \t]*:(?:[ \t]|$)/.exec(rest);
      return m ? end + m[0].indexOf(':') : -1;
    } catch {
      return -1;
    }
  }
  if (text.startsWith('[') || text.startsWith('{') || text.startsWith('#') || text.startsWith('|') || text.startsWith('>')) return -1;
  for (let k = 0; k < text.length; k++) {
    const ch = text[k]!;
    if (ch === '#' && k > 0 && /[ \t]/.test(text[k - 1]!)) return -1;
    if (ch === ':' && (k + 1 === text.length || /[ \t]/.test(text[k + 1]!))) return k;
  }
  return -1;
}

/** Parses a YAML document (the subset described above); throws YamlError. */
export function parseYaml(src: string): YamlValue {
  return new YamlParser(src).parseDocument();
}
