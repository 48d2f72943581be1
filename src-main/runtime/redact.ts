/**
 * Credential redaction for everything the runtime publishes (log ring, snapshots): whatever
 * looks like a token, key or secret is replaced before a person's view or a log line sees it.
 * Pattern-based plus exact values the runtime knows to be secret (API key, control token).
 */
export const REDACTED = '[redacted]';

/** Field names whose values are secret whatever they look like. */
const SECRET_KEY = /token|secret|passw|api[-_]?key|apikey|authorization|cookie|credential|bearer|private[-_]?key|signature/i;

const PATTERNS: readonly RegExp[] = [
  // Authorization schemes
  /\b(Bearer|Basic)\s+[^\s"',;]+/gi,
  // JWTs
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  // OpenAI-style API keys
  /\bsk-[A-Za-z0-9_-]{12,}/g,
  // key=value pairs in URLs, query strings, fragments and env-like text
  /\b([A-Za-z_]*(?:token|secret|passw(?:or)?d|api[-_]?key|apikey|key)[A-Za-z_]*)("?\s*[=:]\s*)("?)[^\s"&#,;}]+\3/gi,
  // Long opaque runs (base64/base64url/hex) of 40+ characters with letters and digits
  /(?<![A-Za-z0-9_+/=-])(?=[A-Za-z0-9_+=-]*[0-9])(?=[A-Za-z0-9_+=-]*[A-Za-z])[A-Za-z0-9_+=-]{40,}(?![A-Za-z0-9_+/=-])/g,
];

export class Redactor {
  private readonly known = new Set<string>();

  /** Registers an exact secret value (ignored when shorter than 6 characters: too ambiguous). */
  addSecret(value: string | null | undefined): void {
    if (value && value.length >= 6) this.known.add(value);
  }

  /** Replaces only the exact secrets registered (for process output: patterns would mangle hashes). */
  knownOnly(input: string): string {
    let out = input;
    for (const secret of this.known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  text(input: string): string {
    let out = this.knownOnly(input);
    out = out.replace(PATTERNS[0]!, (_m, scheme: string) => `${scheme} ${REDACTED}`);
    out = out.replace(PATTERNS[1]!, REDACTED);
    out = out.replace(PATTERNS[2]!, REDACTED);
    out = out.replace(PATTERNS[3]!, (match: string, name: string, sep: string, quote: string) =>
      match.includes(REDACTED) ? match : `${name}${sep}${quote}${REDACTED}${quote}`,
    );
    out = out.replace(PATTERNS[4]!, REDACTED);
    return out;
  }

  /** A field value: secret-named fields are hidden whole; others are stringified and scanned. */
  field(key: string, value: unknown): string | number | boolean | null {
    if (SECRET_KEY.test(key)) return value === null || value === undefined || value === '' ? null : REDACTED;
    if (value === null || value === undefined) return null;
    if (typeof value === 'number' || typeof value === 'boolean') return value;
    if (typeof value === 'bigint') return value.toString();
    const text = typeof value === 'string' ? value : safeJson(hideSecretKeys(value, 0));
    return this.text(truncate(text, MAX_FIELD_CHARS));
  }

  fields(fields: Record<string, unknown> | undefined): Record<string, string | number | boolean | null> | undefined {
    if (!fields) return undefined;
    const out: Record<string, string | number | boolean | null> = {};
    for (const [key, value] of Object.entries(fields)) out[key] = this.field(key, value);
    return out;
  }
}

export const MAX_FIELD_CHARS = 2000;
export const MAX_MESSAGE_CHARS = 2000;

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** A copy of a structured value with secret-named members hidden (depth-limited). */
function hideSecretKeys(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 8) return '[…]';
  if (Array.isArray(value)) return value.map((v) => hideSecretKeys(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = SECRET_KEY.test(key) ? REDACTED : hideSecretKeys(v, depth + 1);
  return out;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
  } catch {
    return String(value);
  }
}
