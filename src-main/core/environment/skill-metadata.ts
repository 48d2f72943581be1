/**
 * Skill metadata for `capabilities/discoverV2` (local-protocol.md §10.5), as the 0.169.0 binary
 * reads it:
 *
 * - `SKILL.md` front matter (`---` lines around YAML): `name` (falls back to the skill
 *   directory's name; at most 64 characters), `description` (required, non-empty) and
 *   `metadata.short-description`; every value is collapsed to single spaces. Invalid YAML gets
 *   one line-oriented repair (values such as `Build for AWS: ECS` or `@mention` are quoted)
 *   before the skill is rejected.
 * - `agents/openai.yaml`: `dependencies.tools[]` and `policy`; a file that does not parse is
 *   ignored silently ("fail open").
 */
import { parseYaml, YamlError, YamlScalar, type YamlValue } from './yaml-lite.ts';

export const MAX_NAME_LEN = 64;
const MAX_DESCRIPTION_LEN = 1024;

export interface ParsedSkillFrontmatter {
  name: string;
  description: string;
  shortDescription: string | null;
}

export interface SkillToolDependency {
  type: string;
  value: string;
  description: string | null;
  transport: string | null;
  command: string | null;
  url: string | null;
  oauthCallbackPort: number | null;
}

export interface SkillMetadata {
  dependencies: { tools: SkillToolDependency[] } | null;
  policy: { allowImplicitInvocation: boolean | null; products: string[] } | null;
}

/** Rust's `str::trim` (Unicode White_Space; U+FEFF is not whitespace). */
export function rustTrim(s: string): string {
  return s.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
}

/** `split_whitespace().join(" ")`. */
export function sanitizeSingleLine(s: string): string {
  return s.split(/\p{White_Space}+/u).filter((part) => part !== '').join(' ');
}

/** Rust's `str::lines()`: split on `\n`, drop one trailing `\r` per line, no final empty line. */
function rustLines(s: string): string[] {
  if (s === '') return [];
  const lines = s.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

function extractFrontmatter(contents: string): string | undefined {
  const lines = rustLines(contents);
  if (lines.length === 0 || rustTrim(lines[0]!) !== '---') return undefined;
  const body: string[] = [];
  for (const line of lines.slice(1)) {
    if (rustTrim(line) === '---') return body.length === 0 ? undefined : body.join('\n');
    body.push(line);
  }
  return undefined;
}

class InvalidShape extends Error {}

interface FrontmatterFields {
  rawName: string | null;
  rawDescription: string | null;
  rawShort: string | null;
}

/** `SkillFrontmatter { name, description, metadata: { short-description } }`, or undefined. */
function frontmatterFields(frontmatter: string): FrontmatterFields | undefined {
  let doc: YamlValue;
  try {
    doc = parseYaml(frontmatter);
  } catch (err) {
    if (err instanceof YamlError) return undefined;
    throw err;
  }
  if (!(doc instanceof Map)) return undefined;
  try {
    const rawName = optionalString(doc.get('name'));
    const rawDescription = optionalString(doc.get('description'));
    let rawShort: string | null = null;
    const metadata = doc.get('metadata');
    if (metadata instanceof Map) rawShort = optionalString(metadata.get('short-description'));
    else if (metadata !== undefined && metadata !== null && !(metadata instanceof YamlScalar && metadata.isNull)) return undefined;
    return { rawName, rawDescription, rawShort };
  } catch (err) {
    if (err instanceof InvalidShape) return undefined;
    throw err;
  }
}

/** Quotes `key: value` lines whose plain value YAML would reject (`a: b` inside, `@x`, `[x`). */
function repairScalarFields(frontmatter: string): string | undefined {
  let changed = false;
  let blockIndent: number | undefined;
  const out: string[] = [];
  for (const line of rustLines(frontmatter)) {
    const indent = /^ */.exec(line)![0].length;
    if (blockIndent !== undefined) {
      if (rustTrim(line) === '' || indent > blockIndent) {
        out.push(line);
        continue;
      }
      blockIndent = undefined;
    }
    const colon = line.indexOf(':');
    if (colon === -1) {
      out.push(line);
      continue;
    }
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1);
    if (rustTrim(key) === '' || (value !== '' && !/^\p{White_Space}/u.test(value))) {
      out.push(line);
      continue;
    }
    const trimmedStart = value.replace(/^\p{White_Space}+/u, '');
    const leading = value.slice(0, value.length - trimmedStart.length);
    let scalar = trimmedStart;
    let comment = '';
    for (let k = 0; k < trimmedStart.length; k++) {
      if (trimmedStart[k] === '#' && (k === 0 || /\p{White_Space}/u.test(trimmedStart[k - 1]!))) {
        const commentStart = trimmedStart.slice(0, k).replace(/\p{White_Space}+$/u, '').length;
        scalar = trimmedStart.slice(0, commentStart);
        comment = trimmedStart.slice(commentStart);
        break;
      }
    }
    scalar = scalar.replace(/\p{White_Space}+$/u, '');
    const first = scalar[0];
    if (first === undefined) {
      out.push(line);
      continue;
    }
    if (first === '|' || first === '>') {
      blockIndent = indent;
      out.push(line);
      continue;
    }
    if (first === "'" || first === '"') {
      out.push(line);
      continue;
    }
    const hasColonSeparator = /:\p{White_Space}/u.test(scalar);
    let invalidFlowLike = false;
    if (first === '[' || first === '{' || first === '@' || first === '`') {
      try {
        parseYaml(scalar);
      } catch {
        invalidFlowLike = true;
      }
    }
    if (!hasColonSeparator && !invalidFlowLike) {
      out.push(line);
      continue;
    }
    out.push(`${key}:${leading}'${scalar.replace(/'/g, "''")}'${comment}`);
    changed = true;
  }
  return changed ? out.join('\n') : undefined;
}

/** An `Option<String>` field: null/absent → null, any scalar → its text, else invalid. */
function optionalString(value: YamlValue | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (value instanceof YamlScalar) return value.isNull ? null : value.text;
  throw new InvalidShape();
}

/** Parses a SKILL.md; undefined when the reference would report `invalid skill metadata`. */
export function parseSkillFrontmatter(contents: string, defaultName: () => string): ParsedSkillFrontmatter | undefined {
  const frontmatter = extractFrontmatter(contents);
  if (frontmatter === undefined) return undefined;
  // serde_yaml::from_str::<SkillFrontmatter>: syntax and type errors alike get the repair.
  let fields = frontmatterFields(frontmatter);
  if (fields === undefined) {
    const repaired = repairScalarFields(frontmatter);
    if (repaired !== undefined) fields = frontmatterFields(repaired);
  }
  if (fields === undefined) return undefined;
  const { rawName, rawDescription, rawShort } = fields;
  const sanitizedName = rawName === null ? '' : sanitizeSingleLine(rawName);
  const name = sanitizedName !== '' ? sanitizedName : defaultName();
  const description = rawDescription === null ? '' : sanitizeSingleLine(rawDescription);
  const shortSanitized = rawShort === null ? '' : sanitizeSingleLine(rawShort);
  if (name === '' || [...name].length > MAX_NAME_LEN) return undefined;
  if (description === '') return undefined;
  return { name, description, shortDescription: shortSanitized === '' ? null : shortSanitized };
}

// ---------------------------------------------------------------------------------------------
// agents/openai.yaml

const PRODUCTS = ['chatgpt', 'codex', 'atlas'];

function resolveString(value: string | null, maxLen: number): string | null {
  if (value === null) return null;
  const sanitized = sanitizeSingleLine(value);
  if (sanitized === '' || [...sanitized].length > maxLen) return null;
  return sanitized;
}

function asMapOrNull(value: YamlValue | undefined): Map<string, YamlValue> | null {
  if (value === undefined || value === null) return null;
  if (value instanceof YamlScalar && value.isNull) return null;
  if (value instanceof Map) return value;
  throw new InvalidShape();
}

function asSeq(value: YamlValue | undefined): YamlValue[] {
  if (value === undefined || value === null) return [];
  if (value instanceof YamlScalar && value.isNull) return [];
  if (Array.isArray(value)) return value;
  throw new InvalidShape();
}

function optionalBool(value: YamlValue | undefined): boolean | null {
  if (value === undefined || value === null) return null;
  if (value instanceof YamlScalar) {
    if (value.isNull) return null;
    if (value.plain && ['true', 'True', 'TRUE'].includes(value.text)) return true;
    if (value.plain && ['false', 'False', 'FALSE'].includes(value.text)) return false;
  }
  throw new InvalidShape();
}

function optionalU16(value: YamlValue | undefined): number | null {
  if (value === undefined || value === null) return null;
  if (value instanceof YamlScalar) {
    if (value.isNull) return null;
    if (value.plain && /^[+]?[0-9]+$/.test(value.text) && Number(value.text) <= 65535) return Number(value.text);
  }
  throw new InvalidShape();
}

/** Dependencies and policy from `agents/openai.yaml` contents (null/null when it does not parse). */
export function parseSkillMetadataFile(contents: string | null): SkillMetadata {
  const none: SkillMetadata = { dependencies: null, policy: null };
  if (contents === null) return none;
  let doc: YamlValue;
  try {
    doc = parseYaml(contents);
  } catch (err) {
    if (err instanceof YamlError) return none;
    throw err;
  }
  try {
    const root = asMapOrNull(doc);
    if (root === null) return none;
    const iface = asMapOrNull(root.get('interface'));
    if (iface !== null) {
      for (const value of iface.values()) if (Array.isArray(value)) throw new InvalidShape();
    }
    const deps = asMapOrNull(root.get('dependencies'));
    const tools: SkillToolDependency[] = [];
    if (deps !== null) {
      for (const raw of asSeq(deps.get('tools'))) {
        const tool = asMapOrNull(raw) ?? new Map<string, YamlValue>();
        const oauth = asMapOrNull(tool.get('oauth'));
        const port = oauth === null ? null : optionalU16(oauth.get('callbackPort') ?? oauth.get('callback_port'));
        const type = resolveString(optionalString(tool.get('type')), MAX_NAME_LEN);
        const value = resolveString(optionalString(tool.get('value')), MAX_DESCRIPTION_LEN);
        const description = resolveString(optionalString(tool.get('description')), MAX_DESCRIPTION_LEN);
        const transport = resolveString(optionalString(tool.get('transport')), MAX_NAME_LEN);
        const command = resolveString(optionalString(tool.get('command')), MAX_DESCRIPTION_LEN);
        const url = resolveString(optionalString(tool.get('url')), MAX_DESCRIPTION_LEN);
        if (type === null || value === null) continue;
        tools.push({ type, value, description, transport, command, url, oauthCallbackPort: port });
      }
    }
    const policyMap = asMapOrNull(root.get('policy'));
    let policy: SkillMetadata['policy'] = null;
    if (policyMap !== null || (root.has('policy') && root.get('policy') instanceof Map)) {
      const map = policyMap ?? new Map<string, YamlValue>();
      const products: string[] = [];
      for (const item of asSeq(map.get('products'))) {
        if (!(item instanceof YamlScalar) || !PRODUCTS.includes(item.text)) throw new InvalidShape();
        products.push(item.text);
      }
      policy = { allowImplicitInvocation: optionalBool(map.get('allow_implicit_invocation')), products };
    }
    return { dependencies: tools.length > 0 ? { tools } : null, policy };
  } catch (err) {
    if (err instanceof InvalidShape) return none;
    throw err;
  }
}
