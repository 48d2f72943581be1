/**
 * The child environment for `process/start` (local-protocol.md §6.1), as the 0.169.0 binary builds it.
 *
 * Without `envPolicy`, `env` is the whole environment. With one:
 *   1. start from the server's environment: `all` of it, the `core` variables, or `none`;
 *   2. unless `ignoreDefaultExcludes`, drop names matching `*KEY*`, `*SECRET*`, `*TOKEN*`;
 *   3. drop names matching any `exclude` pattern;
 *   4. add `set` (overriding);
 *   5. if `includeOnly` is non-empty, keep only names matching one of its patterns;
 *   6. overlay `env` (it wins over `set` and is never filtered).
 * Finally `CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE` is removed, wherever it came from.
 *
 * Patterns are wildcard patterns matched against the whole name, ASCII case-insensitively, with
 * only `*` (any run) and `?` (one character) special; `[`, `{`, `\` are literal characters.
 * The core set and the pattern rules were probed on the binary (a `[abc` pattern is accepted and
 * matches nothing; `BA[RX]` does not match `BAR`; `foo*` matches `FOO1`; `home` counts as core).
 */

export interface EnvPolicy {
  inherit: 'all' | 'core' | 'none';
  ignoreDefaultExcludes: boolean;
  exclude: string[];
  set: Record<string, string>;
  includeOnly: string[];
}

/** Variables `inherit: "core"` keeps (compared case-insensitively, as the binary does). */
export const CORE_ENV_VARS: readonly string[] = ['HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'LOGNAME', 'PATH', 'SHELL', 'TEMP', 'TMP', 'TMPDIR', 'USER'];

export const DEFAULT_EXCLUDE_PATTERNS: readonly string[] = ['*KEY*', '*SECRET*', '*TOKEN*'];

/** Removed from every child environment. */
export const DROPPED_ENV_VAR = 'CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE';

const coreNames = new Set(CORE_ENV_VARS.map(asciiLower));

export type ServerEnv = Readonly<Record<string, string | undefined>>;

/** Builds the child environment. The result is a fresh object the caller may change. */
export function buildChildEnv(env: Readonly<Record<string, string>>, policy: EnvPolicy | null, serverEnv: ServerEnv = process.env): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (policy !== null) {
    const drop = [...(policy.ignoreDefaultExcludes ? [] : DEFAULT_EXCLUDE_PATTERNS), ...policy.exclude].map(compilePattern);
    if (policy.inherit !== 'none') {
      for (const name of Object.keys(serverEnv)) {
        const value = serverEnv[name];
        if (value === undefined) continue;
        if (policy.inherit === 'core' && !coreNames.has(asciiLower(name))) continue;
        if (drop.some((matches) => matches(name))) continue;
        out[name] = value;
      }
    }
    for (const name of Object.keys(policy.set)) out[name] = policy.set[name]!;
    if (policy.includeOnly.length > 0) {
      const keep = policy.includeOnly.map(compilePattern);
      for (const name of Object.keys(out)) if (!keep.some((matches) => matches(name))) delete out[name];
    }
  }
  for (const name of Object.keys(env)) out[name] = env[name]!;
  delete out[DROPPED_ENV_VAR];
  return out;
}

/** Whether `name` matches the wildcard `pattern` (whole name, `*` and `?`, ASCII case-insensitive). */
export function matchesEnvPattern(pattern: string, name: string): boolean {
  return compilePattern(pattern)(name);
}

function compilePattern(pattern: string): (name: string) => boolean {
  const p = Array.from(asciiLower(pattern));
  if (!p.includes('*') && !p.includes('?')) {
    const literal = p.join('');
    return (name) => asciiLower(name) === literal;
  }
  return (name) => wildcardMatch(p, Array.from(asciiLower(name)));
}

/** Iterative wildcard match with single-star backtracking: linear in practice, never exponential. */
function wildcardMatch(p: string[], s: string[]): boolean {
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === s[si]))) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === '*') {
      starP = pi++;
      starS = si;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}
