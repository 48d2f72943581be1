/**
 * clap 4's argument relations — `requires` (optionally only for one value), `conflicts_with`
 * and `required` — with the error texts and the argument ORDER clap prints. The order is not
 * obvious: clap builds a graph of requirements from the arguments given (in the order they were
 * given), unrolls each node's requirements before the node itself, and de-duplicates. Mirroring
 * that algorithm is what makes `exec-desk --remote-transport direct` list
 * `--environment-id <ID>`, `--remote <URL>`, `--aws-sigv4` in the order `codex exec-server`
 * 0.169.0 does (verified case by case in options.test.ts against the binary).
 *
 * Everything here is pure: argument tables in, an error description (or null) out.
 */

export interface Requirement {
  key: string;
  /** Only when the requiring argument has exactly this value (clap `requires_if`). */
  ifValue?: string;
}

export interface RuleArg {
  key: string;
  /** How clap shows it: `--remote <URL>`, `--aws-sigv4`. */
  display: string;
  requires?: readonly Requirement[];
  conflicts?: readonly string[];
}

export interface RuleCommand {
  /** Arguments in declaration order. */
  args: readonly RuleArg[];
  /** Arguments declared `required = true`, in declaration order. */
  required: readonly string[];
}

/** An explicitly given argument: its key and its value as text (`true` for a set flag). */
export type Given = ReadonlyMap<string, string>;

/** What the caller turns into `error: <first>` + `extra` lines + `Usage: <path> <usage>`. */
export interface RuleViolation {
  first: string;
  extra: string[];
  /** The smart usage: displays joined by spaces. */
  usage: string;
}

type Relevant = (requiringKey: string, requirement: Requirement) => boolean;

function find(cmd: RuleCommand, key: string): RuleArg | undefined {
  return cmd.args.find((a) => a.key === key);
}

/** clap's `unroll_arg_requires`: transitive requirements of `key`, depth-first from a stack. */
function unrollRequires(cmd: RuleCommand, key: string, relevant: Relevant): string[] {
  const processed: string[] = [];
  const stack = [key];
  const out: string[] = [];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (processed.includes(current)) continue;
    processed.push(current);
    for (const requirement of find(cmd, current)?.requires ?? []) {
      // The predicate is evaluated against the top-level argument, as clap does.
      if (!relevant(key, requirement)) continue;
      const target = find(cmd, requirement.key);
      if (target?.requires?.length) stack.push(target.key);
      out.push(requirement.key);
    }
  }
  return out;
}

/** clap's `Usage::get_required_usage_from`; with `given` it skips what is present and honours values. */
function requiredUsageFrom(cmd: RuleCommand, graph: readonly string[], incls: readonly string[], given: Given | null): string[] {
  const relevant: Relevant = (key, requirement) =>
    requirement.ifValue === undefined || (given !== null && given.get(key) === requirement.ifValue);
  const unrolled: string[] = [];
  for (const key of graph) {
    unrolled.push(...unrollRequires(cmd, key, relevant), key);
  }
  const out: string[] = [];
  for (const key of [...unrolled, ...incls]) {
    if (given !== null && given.has(key)) continue;
    if (!out.includes(key) && find(cmd, key)) out.push(key);
  }
  return out;
}

const displays = (cmd: RuleCommand, keys: readonly string[]) => keys.map((k) => find(cmd, k)!.display);

/**
 * clap's "smart" usage for `incls` (used by some parse errors): the command's required
 * arguments with their requirements, then `incls`; empty when there is nothing to show.
 */
export function smartUsage(cmd: RuleCommand, incls: readonly string[]): string {
  return displays(cmd, requiredUsageFrom(cmd, cmd.required, incls, null)).join(' ');
}

/**
 * clap's conflict check: the first given argument (in given order) that conflicts with any other
 * given one, in either direction, is reported with all it conflicts with.
 */
export function checkConflicts(cmd: RuleCommand, given: Given): RuleViolation | null {
  const keys = [...given.keys()].filter((k) => find(cmd, k));
  const direct = (k: string) => find(cmd, k)?.conflicts ?? [];
  for (const key of keys) {
    const found: string[] = [];
    for (const other of keys) {
      if (other === key) continue;
      if (direct(key).includes(other) || direct(other).includes(key)) {
        if (!found.includes(other)) found.push(other);
      }
    }
    if (found.length === 0) continue;
    const former = find(cmd, key)!.display;
    const first =
      found.length === 1 ? `the argument '${former}' cannot be used with '${displays(cmd, found)[0]}'` : `the argument '${former}' cannot be used with:`;
    const extra = found.length === 1 ? [] : displays(cmd, found).map((d) => `  ${d}`);
    // clap's conflict usage: the direct requirements of the other given arguments, then those.
    const used = keys.filter((k) => !found.includes(k));
    const required = [
      ...used.flatMap((k) => (find(cmd, k)?.requires ?? []).map((r) => r.key)).filter((k) => !used.includes(k) && !found.includes(k)),
      ...used,
    ];
    const usage = displays(cmd, requiredUsageFrom(cmd, cmd.required, required, null)).join(' ');
    return { first, extra, usage };
  }
  return null;
}

/**
 * clap's required check: `required` arguments plus everything the given arguments require
 * (transitively, value-conditioned requirements only when the value matches), listed in clap's
 * order. `skipRequiresOf` drops the requirements of given arguments (exec-desk's documented
 * extensions to the reference's rules).
 */
export function checkRequired(cmd: RuleCommand, given: Given, skipRequiresOf: ReadonlySet<string> = new Set()): RuleViolation | null {
  const graph: string[] = [...cmd.required];
  for (const [key, value] of given) {
    if (!find(cmd, key) || skipRequiresOf.has(key)) continue;
    const relevant: Relevant = (_k, requirement) => requirement.ifValue === undefined || requirement.ifValue === value;
    for (const required of unrollRequires(cmd, key, relevant)) if (!graph.includes(required)) graph.push(required);
  }
  const missing = graph.filter((k) => !given.has(k));
  if (missing.length === 0) return null;
  const listed = requiredUsageFrom(cmd, graph, missing, given);
  const used = [...given.keys()].filter((k) => find(cmd, k));
  const usage = displays(cmd, requiredUsageFrom(cmd, graph, [...used, ...missing], null)).join(' ');
  return {
    first: 'the following required arguments were not provided:',
    extra: displays(cmd, listed).map((d) => `  ${d}`),
    usage,
  };
}
