/**
 * Command line of the headless server (`exec-desk [OPTIONS]`), flag-compatible with
 * `codex exec-server` 0.169.0 in local mode (local-protocol.md §1.1, §12).
 *
 * The reference uses clap; exec-desk reproduces what a user can observe of it: which argv is accepted,
 * the exit code (2 for usage errors, 1 for configuration errors, 0 for help/version) and the first
 * line of every message. Pipeline, in the reference's order:
 *
 * 1. clap-style scan of argv (exit 2, `error: ...`): unknown flags, missing/invalid values,
 *    repeated flags, positional arguments; `-h`/`--help`, `-V`/`--version` (exit 0);
 * 2. `CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE` when the flag is absent: only `true`/`false` (exit 2);
 * 3. `--ws-*` flag combinations and `--ws-token-sha256` (exit 1, `Error: ...`);
 * 4. the `--listen` URL (exit 1);
 * 5. ws auth with `--listen stdio` (exit 1);
 * 6. reading the token / secret files, secret length, clock-skew range (exit 1).
 *
 * All of that happens in {@link parseCli}. What the reference only learns when it binds (address in
 * use / not available) comes from {@link bindFailure}; the non-loopback policy is
 * {@link checkBindAllowed} (see there: the reference exec-server does NOT refuse).
 *
 * The flags are declared once, in {@link LOCAL_FLAGS}; commander builds the help text from that
 * table and assembles the final values. commander's own tokenizer differs from clap's (it takes
 * `--listen -x` as a value, reports unknown options only after parsing), so argv first goes
 * through a small clap-compatible scanner and commander parses the canonical `--flag=value` form.
 *
 * Remote mode (remote-protocol.md §1): {@link REMOTE_FLAGS} and the `forward` subcommand
 * ({@link FORWARD_FLAGS}) carry clap's `requires` / `conflicts_with` relations, checked by
 * clap-rules.ts after the scan (conflicts first, then requirements, subcommand before parent),
 * followed by the reference's own start-up checks (exit 1): `--aws-sigv4` needs the direct
 * transport, direct cannot forward, then the `--ws-*` checks above. Deliberate difference: the
 * reference makes `--exit-on-stdin-close` require `--remote`; exec-desk also honours it in local mode.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { osErrorMessage } from '../core/os-error.ts';
import type { AuthSelection } from '../remote/auth/auth-provider.ts';
import { DEFAULT_AWS_SERVICE } from '../remote/auth/sigv4-provider.ts';
import { checkConflicts, checkRequired, smartUsage, type Requirement, type RuleCommand, type RuleViolation } from './clap-rules.ts';
import {
  planWsAuth,
  readWsAuthPlan,
  WsAuthStartupError,
  type WsAuthConfig,
  type WsAuthFlags,
  type WsAuthMode,
} from '../transport/local/ws-auth.ts';

export interface ServerOptions {
  listen: { kind: 'ws'; host: string; port: number } | { kind: 'stdio' };
  wsAuth: WsAuthConfig;
  concurrentRequests: number;
  exitOnStdinClose: boolean;
  noUi: boolean;
  /** Set by `--remote` (or `forward`): register with a registry and serve relay streams instead of `listen`. */
  remote: RemoteOptions | null;
  /** `--dashboard[=PORT]` (exec-desk only): serve the control websocket + dashboard; null when absent. */
  dashboard: { port: number } | null;
}

/** `--remote …` / `forward …`, as given (the URL and id are trimmed where they are used, §2.1). */
export interface RemoteOptions {
  /** `--remote <URL>`: the registry base URL, raw. */
  registryUrl: string;
  environmentId: string;
  /** `--name`: accepted and, like 0.169.0, sent nowhere. */
  name: string | null;
  transport: 'noise' | 'direct';
  auth: AuthSelection;
  /** `forward --connect <URL>`: bridge each stream to this exec-server (raw; validated after auth, §14). */
  forwardTo: string | null;
}

export type CliOutcome = { kind: 'run'; options: ServerOptions } | { kind: 'exit'; code: number; stdout?: string; stderr?: string };
export type ExitOutcome = Extract<CliOutcome, { kind: 'exit' }>;

export interface ParseCliContext {
  /** Base for relative `--ws-token-file` / `--ws-shared-secret-file`; default `process.cwd()`. */
  cwd?: string;
  /** Printed by `--version`; default: the `version` of exec-desk's package.json. */
  version?: string;
}

export const PROGRAM_NAME = 'exec-desk';
export const EXIT_ON_STDIN_CLOSE_ENV = 'CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE';
export const DEFAULT_LISTEN_URL = 'ws://127.0.0.1:0';

// ---------------------------------------------------------------------------------------------
// The flag table
// ---------------------------------------------------------------------------------------------

/** How clap parses a value (each kind fails with the same message as clap's parser for it). */
type ValueKind =
  | { type: 'string' } // String: anything, even empty
  | { type: 'path' } // PathBuf: empty is "a value is required"
  | { type: 'u64' }
  | { type: 'nonzero-usize' }
  | { type: 'port' } // u16
  | { type: 'enum'; choices: readonly string[] };

export interface FlagSpec {
  /** commander's attribute name for the value. */
  key: string;
  long: `--${string}`;
  short?: string;
  /** Present for flags that take a value; `name` is the placeholder (`<URL>`). */
  value?: { name: string; kind: ValueKind; optional?: true };
  /** Flags that act at once instead of setting a value. */
  action?: 'help' | 'version';
  description: string;
  /** clap `requires` / `requires_if` (by key). */
  requires?: readonly Requirement[];
  /** clap `conflicts_with` (by key; checked in both directions). */
  conflicts?: readonly string[];
}

/** Local-mode flags (the remote ones follow in {@link REMOTE_FLAGS}). */
export const LOCAL_FLAGS: readonly FlagSpec[] = [
  {
    key: 'concurrentRequests',
    long: '--concurrent-requests',
    value: { name: 'COUNT', kind: { type: 'nonzero-usize' } },
    description: 'Maximum number of requests to process concurrently on each connection [default: 1]',
  },
  {
    key: 'listen',
    long: '--listen',
    value: { name: 'URL', kind: { type: 'string' } },
    description: 'Transport endpoint URL. Supported values: `ws://IP:PORT` (default), `stdio`, `stdio://`',
  },
  {
    key: 'wsAuth',
    long: '--ws-auth',
    value: { name: 'MODE', kind: { type: 'enum', choices: ['capability-token', 'signed-bearer-token'] } },
    description: 'Authentication mode for incoming WebSocket connections',
  },
  {
    key: 'wsTokenFile',
    long: '--ws-token-file',
    value: { name: 'PATH', kind: { type: 'path' } },
    description: 'Absolute path to the capability-token file',
  },
  {
    key: 'wsTokenSha256',
    long: '--ws-token-sha256',
    value: { name: 'HEX', kind: { type: 'string' } },
    description: 'Hex-encoded SHA-256 digest of the capability token',
  },
  {
    key: 'wsSharedSecretFile',
    long: '--ws-shared-secret-file',
    value: { name: 'PATH', kind: { type: 'path' } },
    description: 'Absolute path to the shared secret file for signed JWT bearer tokens',
  },
  {
    key: 'wsIssuer',
    long: '--ws-issuer',
    value: { name: 'ISSUER', kind: { type: 'string' } },
    description: 'Expected issuer for signed JWT bearer tokens',
  },
  {
    key: 'wsAudience',
    long: '--ws-audience',
    value: { name: 'AUDIENCE', kind: { type: 'string' } },
    description: 'Expected audience for signed JWT bearer tokens',
  },
  {
    key: 'wsMaxClockSkewSeconds',
    long: '--ws-max-clock-skew-seconds',
    value: { name: 'SECONDS', kind: { type: 'u64' } },
    description: 'Maximum clock skew when validating signed JWT bearer tokens [default: 30]',
  },
  {
    key: 'exitOnStdinClose',
    long: '--exit-on-stdin-close',
    description: `Exit when the parent-owned standard-input pipe closes [env: ${EXIT_ON_STDIN_CLOSE_ENV}=]`,
  },
  {
    key: 'noUi',
    long: '--no-ui',
    description: 'Run headless (the only mode under plain Node; accepted for the desktop app)',
  },
  { key: 'help', long: '--help', short: 'h', action: 'help', description: 'Print help' },
  { key: 'version', long: '--version', short: 'V', action: 'version', description: 'Print version' },
];

/** exec-desk's own headless flags (not in `codex exec-server`). */
export const DESKTOP_FLAGS: readonly FlagSpec[] = [
  {
    key: 'dashboard',
    long: '--dashboard',
    // Optional value, attached only (`--dashboard=PORT`), so `--dashboard` never eats the next argument.
    value: { name: 'PORT', kind: { type: 'port' }, optional: true },
    description: 'Serve the browser dashboard and control websocket on 127.0.0.1 (PORT default: any free port)',
  },
];

/** The five credential sources of remote mode: any two together are a clap conflict [binary]. */
const CREDENTIAL_FLAG_KEYS = ['useAgentIdentityAuth', 'registrationBearerStdin', 'executorCredentialStdin', 'chatgptTokenStdin', 'awsSigv4'];
const othersOf = (key: string, keys: readonly string[]) => keys.filter((k) => k !== key);
const NEEDS_REMOTE: readonly Requirement[] = [{ key: 'remote' }];
const NEEDS_SIGV4: readonly Requirement[] = [{ key: 'awsSigv4' }];

export const REMOTE_TRANSPORTS = ['noise', 'direct'] as const;

/**
 * Remote-mode flags of `codex exec-server` 0.169.0 (remote-protocol.md §1), with the relations
 * observed on the binary. Only exit-on-stdin-close's `requires --remote` is relaxed (see the
 * module comment).
 */
export const REMOTE_FLAGS: readonly FlagSpec[] = [
  {
    key: 'remote',
    long: '--remote',
    value: { name: 'URL', kind: { type: 'string' } },
    description: 'Register this exec-server as a remote environment using the given base URL',
    requires: [{ key: 'environmentId' }],
    conflicts: ['listen'],
  },
  {
    key: 'remoteTransport',
    long: '--remote-transport',
    value: { name: 'REMOTE_TRANSPORT', kind: { type: 'enum', choices: REMOTE_TRANSPORTS } },
    description: 'Transport used for the remote executor connection [default: noise]',
    requires: [{ key: 'remote' }, { key: 'awsSigv4', ifValue: 'direct' }],
  },
  {
    key: 'environmentId',
    long: '--environment-id',
    value: { name: 'ID', kind: { type: 'string' } },
    description: 'Environment id to attach to when registering remotely',
  },
  { key: 'name', long: '--name', value: { name: 'NAME', kind: { type: 'string' } }, description: 'Human-readable environment name' },
  {
    key: 'useAgentIdentityAuth',
    long: '--use-agent-identity-auth',
    description: 'Use Agent Identity auth from CODEX_ACCESS_TOKEN for remote registration',
    requires: NEEDS_REMOTE,
    conflicts: othersOf('useAgentIdentityAuth', CREDENTIAL_FLAG_KEYS),
  },
  {
    key: 'registrationBearerStdin',
    long: '--registration-bearer-stdin',
    description: 'Read one registration bearer from stdin',
    requires: NEEDS_REMOTE,
    conflicts: othersOf('registrationBearerStdin', CREDENTIAL_FLAG_KEYS),
  },
  {
    key: 'executorCredentialStdin',
    long: '--executor-credential-stdin',
    description: 'Read rotating executor credentials from stdin; exit when the pipe closes',
    requires: NEEDS_REMOTE,
    conflicts: othersOf('executorCredentialStdin', CREDENTIAL_FLAG_KEYS),
  },
  {
    key: 'chatgptTokenStdin',
    long: '--chatgpt-token-stdin',
    description: 'Read a ChatGPT access token from stdin for HTTPS registration',
    requires: NEEDS_REMOTE,
    conflicts: othersOf('chatgptTokenStdin', CREDENTIAL_FLAG_KEYS),
  },
  {
    key: 'chatgptAccountId',
    long: '--chatgpt-account-id',
    value: { name: 'ID', kind: { type: 'string' } },
    description: "ChatGPT account ID. Must match the token's account claim when present",
    requires: [{ key: 'chatgptTokenStdin' }],
  },
  {
    key: 'awsSigv4',
    long: '--aws-sigv4',
    description: 'Sign Direct registration and WebSocket handshake requests with AWS SigV4',
    requires: NEEDS_REMOTE,
    conflicts: othersOf('awsSigv4', CREDENTIAL_FLAG_KEYS),
  },
  {
    key: 'awsProfile',
    long: '--aws-profile',
    value: { name: 'PROFILE', kind: { type: 'string' } },
    description: 'AWS profile used for SigV4 authentication',
    requires: NEEDS_SIGV4,
  },
  {
    key: 'awsRegion',
    long: '--aws-region',
    value: { name: 'REGION', kind: { type: 'string' } },
    description: 'AWS signing region. Uses the SDK region chain when omitted',
    requires: NEEDS_SIGV4,
  },
  {
    key: 'awsService',
    long: '--aws-service',
    value: { name: 'SERVICE', kind: { type: 'string' } },
    description: `AWS signing service [default: ${DEFAULT_AWS_SERVICE}]`,
    requires: NEEDS_SIGV4,
  },
];

const FLAGS: readonly FlagSpec[] = [
  ...DESKTOP_FLAGS,
  ...LOCAL_FLAGS.map((f) => (f.key === 'exitOnStdinClose' ? { ...f, requires: [{ key: 'remote', ifValue: 'true' }] } : f)),
  ...REMOTE_FLAGS,
];

/**
 * `exec-desk forward --remote <URL> --environment-id <ID> --connect <URL>` (§14): its own flag
 * set (no --listen, --ws-*, --concurrent-requests or --chatgpt-*), three required arguments.
 */
export const FORWARD_FLAGS: readonly FlagSpec[] = [
  { key: 'connect', long: '--connect', value: { name: 'URL', kind: { type: 'string' } }, description: 'Destination exec-server WebSocket URL' },
  ...REMOTE_FLAGS.filter((f) => !['chatgptTokenStdin', 'chatgptAccountId'].includes(f.key)).map((f): FlagSpec => {
    const conflicts = f.conflicts?.filter((k) => k !== 'listen' && k !== 'chatgptTokenStdin');
    // remote and environment-id are plain required arguments here.
    const requires = f.key === 'remote' ? undefined : f.requires?.filter((r) => r.key !== 'remote');
    return { ...f, conflicts, requires };
  }),
  LOCAL_FLAGS.find((f) => f.key === 'exitOnStdinClose')!,
  { key: 'help', long: '--help', short: 'h', action: 'help', description: 'Print help' },
];

/** One clap command: the root, or `forward`. */
interface CliCommand {
  /** For `Usage:` lines. */
  path: string;
  flags: readonly FlagSpec[];
  byLong: ReadonlyMap<string, FlagSpec>;
  byShort: ReadonlyMap<string, FlagSpec>;
  /** Subcommand names (clap's built-in `help` included on the root only). */
  subcommands: readonly string[];
  /** The generic usage after the path. */
  genericUsage: string;
  rules: RuleCommand;
  help: () => string;
}

function display(spec: FlagSpec): string {
  if (spec.value?.optional) return `${spec.long}[=<${spec.value.name}>]`;
  return spec.value ? `${spec.long} <${spec.value.name}>` : spec.long;
}

function cliCommand(path: string, flags: readonly FlagSpec[], subcommands: string[], required: string[], help: () => string): CliCommand {
  const rules: RuleCommand = {
    args: flags.filter((f) => !f.action).map((f) => ({ key: f.key, display: display(f), requires: f.requires, conflicts: f.conflicts })),
    required,
  };
  const requiredUsage = required.map((k) => display(flags.find((f) => f.key === k)!));
  return {
    path,
    flags,
    byLong: new Map(flags.map((f) => [f.long, f])),
    byShort: new Map(flags.filter((f) => f.short !== undefined).map((f) => [f.short!, f])),
    subcommands,
    genericUsage: ['[OPTIONS]', ...requiredUsage, ...(subcommands.length > 0 ? ['[COMMAND]'] : [])].join(' '),
    rules,
    help,
  };
}

const FORWARD_SUBCOMMAND = 'forward';
const FORWARD = cliCommand(`${PROGRAM_NAME} ${FORWARD_SUBCOMMAND}`, FORWARD_FLAGS, [], ['remote', 'environmentId', 'connect'], () => forwardHelpText());
const ROOT = cliCommand(PROGRAM_NAME, FLAGS, [FORWARD_SUBCOMMAND, 'help'], [], () => helpText());
const byLong = ROOT.byLong;

// ---------------------------------------------------------------------------------------------
// clap-compatible messages
// ---------------------------------------------------------------------------------------------

class UsageError extends Error {
  constructor(
    readonly first: string,
    readonly extra: string[] = [],
    /** The text after `Usage: `, or null when clap prints no usage line for this error. */
    readonly usage: string | null = null,
  ) {
    super(first);
  }
}

class EarlyExit extends Error {
  constructor(readonly outcome: ExitOutcome) {
    super('early exit');
  }
}

function renderUsageError(err: UsageError): ExitOutcome {
  let text = `error: ${err.first}\n`;
  for (const line of err.extra) text += `${line}\n`;
  text += '\n';
  if (err.usage !== null) text += `Usage: ${err.usage}\n\n`;
  text += "For more information, try '--help'.\n";
  return { kind: 'exit', code: 2, stderr: text };
}

/** A configuration error: the reference prints anyhow's `Error: <message>` and exits 1. */
export function configError(message: string): ExitOutcome {
  return { kind: 'exit', code: 1, stderr: `Error: ${message}\n` };
}

function possibleValues(choices: readonly string[]): string {
  return `  [possible values: ${choices.join(', ')}]`;
}

function choicesOf(spec: FlagSpec): readonly string[] | undefined {
  const kind = spec.value?.kind;
  return kind?.type === 'enum' ? kind.choices : undefined;
}

function valueRequired(spec: FlagSpec): UsageError {
  const choices = choicesOf(spec);
  return new UsageError(
    `a value is required for '${display(spec)}' but none was supplied`,
    choices ? [possibleValues(choices)] : [],
  );
}

// ---------------------------------------------------------------------------------------------
// Value parsers (clap's, with Rust's error texts)
// ---------------------------------------------------------------------------------------------

const U64_MAX = (1n << 64n) - 1n;

/** `u64::from_str` / `usize::from_str` on a 64-bit target: optional `+`, ASCII digits. */
export function parseRustUnsigned(text: string, max: bigint = U64_MAX): { value: bigint } | { error: string } {
  if (text === '') return { error: 'cannot parse integer from empty string' };
  if (text === '+' || text === '-') return { error: 'invalid digit found in string' };
  const digits = text.startsWith('+') ? text.slice(1) : text;
  let value = 0n;
  for (const ch of digits) {
    if (ch < '0' || ch > '9') return { error: 'invalid digit found in string' };
    value = value * 10n + BigInt(ch.charCodeAt(0) - 48);
    if (value > max) return { error: 'number too large to fit in target type' };
  }
  return { value };
}

type FlagValue = string | bigint | boolean;

function parseValue(spec: FlagSpec, raw: string): FlagValue {
  const kind = spec.value!.kind;
  const invalid = (reason: string) => new UsageError(`invalid value '${raw}' for '${display(spec)}': ${reason}`);
  switch (kind.type) {
    case 'string':
      return raw;
    case 'path':
      if (raw === '') throw valueRequired(spec);
      return raw;
    case 'enum':
      if (raw === '') throw valueRequired(spec);
      if (!kind.choices.includes(raw)) {
        throw new UsageError(`invalid value '${raw}' for '${display(spec)}'`, [possibleValues(kind.choices)]);
      }
      return raw;
    case 'u64':
    case 'nonzero-usize': {
      const parsed = parseRustUnsigned(raw);
      if ('error' in parsed) throw invalid(parsed.error);
      if (kind.type === 'nonzero-usize' && parsed.value === 0n) throw invalid('number would be zero for non-zero type');
      return parsed.value;
    }
    case 'port': {
      const parsed = parseRustUnsigned(raw, 0xffffn);
      if ('error' in parsed) throw invalid(parsed.error);
      return parsed.value;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The clap-compatible scan
// ---------------------------------------------------------------------------------------------

interface Pending {
  spec: FlagSpec;
  values: string[];
  /** No more values can attach (after `--`, or once it has its one value). */
  closed: boolean;
}

/** What the scan found: the flags of the root command and, when given, of `forward`. */
interface Scanned {
  given: Map<string, FlagValue>;
  forward: Map<string, FlagValue> | null;
}

/**
 * Walks argv the way clap 4 does for `cmd` and returns the given flags with their values.
 * An option's value is only validated when the option is "resolved": when the next known flag is
 * met or argv ends (so `--concurrent-requests abc --foo` reports `--foo` first); an unknown flag,
 * an attached value on a flag, or a positional argument is reported at once. A subcommand is
 * parsed AND validated before the parent's pending value and the parent's own checks (clap
 * recurses). Throws {@link UsageError}, or {@link EarlyExit} for help/version.
 */
function scanCommand(cmd: CliCommand, argv: readonly string[], env: NodeJS.ProcessEnv, version: string): Scanned {
  const given = new Map<string, FlagValue>();
  let forward: Map<string, FlagValue> | null = null;
  let pending: Pending | null = null;
  let trailing = false;
  const usage = `${cmd.path} ${cmd.genericUsage}`;

  const react = (spec: FlagSpec, values: readonly string[]) => {
    if (spec.action === 'help') throw new EarlyExit({ kind: 'exit', code: 0, stdout: cmd.help() });
    if (spec.action === 'version') throw new EarlyExit({ kind: 'exit', code: 0, stdout: `${PROGRAM_NAME} ${version}\n` });
    if (spec.value && !spec.value.optional && values.length === 0) throw valueRequired(spec);
    if (given.has(spec.key)) {
      throw new UsageError(`the argument '${display(spec)}' cannot be used multiple times`, [], usage);
    }
    given.set(spec.key, spec.value && values.length > 0 ? parseValue(spec, values[0]!) : true);
  };
  const resolvePending = () => {
    if (pending === null) return;
    const { spec, values } = pending;
    pending = null;
    react(spec, values);
  };

  scan: for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (trailing) {
      if (cmd.subcommands.includes(arg)) {
        throw new UsageError(
          `unexpected argument '${arg}' found`,
          ['', `  tip: subcommand '${arg}' exists; to use it, remove the '--' before it`],
          usage,
        );
      }
      if (cmd.subcommands.length === 0) throw new UsageError(`unexpected argument '${arg}' found`, [], usage);
      throw new UsageError(`unrecognized subcommand '${arg}'`, [], usage);
    }
    if (arg === '--') {
      trailing = true;
      if (pending) pending.closed = true;
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(0, eq) : arg;
      const attached = eq >= 0 ? arg.slice(eq + 1) : undefined;
      const spec = cmd.byLong.get(name);
      // clap shows a "smart" usage for these two: what was given so far / the flag and its requirements.
      if (!spec) throw new UsageError(`unexpected argument '${name}' found`, [], smartOr(cmd, [...given.keys()]));
      if (!spec.value) {
        if (attached !== undefined) {
          const incls = [...(spec.requires ?? []).filter((r) => r.ifValue === undefined).map((r) => r.key), spec.key];
          throw new UsageError(`unexpected value '${attached}' for '${display(spec)}' found; no more were expected`, [], smartOr(cmd, incls));
        }
        resolvePending();
        react(spec, []);
      } else if (attached !== undefined) {
        resolvePending();
        react(spec, [attached]);
      } else if (spec.value.optional) {
        resolvePending();
        react(spec, []);
      } else {
        resolvePending();
        pending = { spec, values: [], closed: false };
      }
      continue;
    }
    if (arg.length > 1 && arg.startsWith('-')) {
      for (let k = 1; k < arg.length; k++) {
        const ch = arg[k]!;
        const spec = cmd.byShort.get(ch);
        if (!spec) throw new UsageError(`unexpected argument '-${ch}' found`, [], usage);
        resolvePending();
        if (spec.value) {
          let rest = arg.slice(k + 1);
          if (rest.startsWith('=')) rest = rest.slice(1);
          if (rest !== '') react(spec, [rest]);
          else pending = { spec, values: [], closed: false };
          break;
        }
        react(spec, []);
      }
      continue;
    }
    // A positional argument: the value of a pending option, else a subcommand.
    const current = pending as Pending | null;
    if (current !== null && !current.closed) {
      current.values.push(arg);
      current.closed = true;
      continue;
    }
    if (arg === 'help' && cmd.subcommands.includes('help')) {
      // clap's `help` subcommand: prints help (of a named subcommand), or complains about what follows.
      const next = argv[i + 1];
      if (next === FORWARD_SUBCOMMAND && cmd.subcommands.includes(FORWARD_SUBCOMMAND)) {
        const after = argv[i + 2];
        if (after !== undefined) throw new UsageError(`unrecognized subcommand '${after}'`, [], `${FORWARD.path} ${FORWARD.genericUsage}`);
        throw new EarlyExit({ kind: 'exit', code: 0, stdout: FORWARD.help() });
      }
      if (next !== undefined && next !== 'help') throw new UsageError(`unrecognized subcommand '${next}'`, [], usage);
      throw new EarlyExit({ kind: 'exit', code: 0, stdout: cmd.help() });
    }
    if (arg === FORWARD_SUBCOMMAND && cmd.subcommands.includes(FORWARD_SUBCOMMAND)) {
      forward = scanCommand(FORWARD, argv.slice(i + 1), env, version).given;
      break scan;
    }
    if (cmd.subcommands.length === 0) throw new UsageError(`unexpected argument '${arg}' found`, [], usage);
    throw new UsageError(`unrecognized subcommand '${arg}'`, [], usage);
  }
  resolvePending();
  // clap adds env values after argv, then validates: conflicts, then requirements.
  if (!given.has('exitOnStdinClose')) {
    const fromEnv = exitOnStdinCloseFromEnv(env);
    if (fromEnv !== undefined) given.set('exitOnStdinClose', fromEnv);
  }
  const asText = new Map([...given].map(([k, v]) => [k, String(v)]));
  // exec-desk extension: --exit-on-stdin-close is honoured in local mode too (only there: before
  // `forward` it requires the root's --remote, as in the reference).
  const skip = new Set(given.has('remote') || forward ? [] : ['exitOnStdinClose']);
  const violation = checkConflicts(cmd.rules, asText) ?? checkRequired(cmd.rules, asText, skip);
  if (violation) throw ruleError(cmd, violation);
  return { given, forward };
}

function smartOr(cmd: CliCommand, incls: readonly string[]): string {
  const smart = smartUsage(cmd.rules, incls);
  return smart ? `${cmd.path} ${smart}` : `${cmd.path} ${cmd.genericUsage}`;
}

function ruleError(cmd: CliCommand, violation: RuleViolation): UsageError {
  return new UsageError(violation.first, violation.extra, violation.usage ? `${cmd.path} ${violation.usage}` : cmd.path);
}

/** clap's `BoolValueParser` on the env var: only `true` / `false`; undefined when unset. */
function exitOnStdinCloseFromEnv(env: NodeJS.ProcessEnv): boolean | undefined {
  const raw = env[EXIT_ON_STDIN_CLOSE_ENV];
  if (raw === undefined) return undefined;
  const shown = byLong.get('--exit-on-stdin-close')!.long;
  const choices = [possibleValues(['true', 'false'])];
  if (raw === '') throw new UsageError(`a value is required for '${shown}' but none was supplied`, choices);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new UsageError(`invalid value '${raw}' for '${shown}'`, choices);
}

// ---------------------------------------------------------------------------------------------
// commander: help text and value assembly
// ---------------------------------------------------------------------------------------------

function addFlags(cmd: Command, flags: readonly FlagSpec[]): void {
  for (const spec of flags) {
    if (spec.action) continue;
    // Commander spells an optional value `--flag [NAME]` (display() gives clap's `--flag[=<NAME>]`).
    const flags = spec.value?.optional ? `${spec.long} [${spec.value.name}]` : display(spec);
    const option = new Option(flags, spec.description);
    const kind = spec.value?.kind;
    if (kind?.type === 'enum') option.choices(kind.choices);
    if (kind?.type === 'u64' || kind?.type === 'nonzero-usize' || kind?.type === 'port') option.argParser((raw: string) => BigInt(raw));
    cmd.addOption(option);
  }
}

function quietCommand(name: string, description: string, usage: string): Command {
  return new Command(name)
    .description(description)
    .usage(usage)
    .helpOption('-h, --help', 'Print help')
    .configureHelp({ helpWidth: 100 })
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} })
    .allowExcessArguments(false);
}

const FORWARD_DESCRIPTION = 'Register an existing WebSocket exec-server as a remote environment';

function buildCommand(version: string, forHelp = false): Command {
  const cmd = quietCommand(PROGRAM_NAME, 'Serve a codex exec-server compatible endpoint on a local websocket or stdio', ROOT.genericUsage);
  addFlags(cmd, FLAGS);
  if (forHelp) {
    // Listed under "Commands:"; `forward` itself is parsed by scanCommand (commander would
    // otherwise demand a subcommand when assembling values).
    cmd.command(FORWARD_SUBCOMMAND).description(FORWARD_DESCRIPTION);
    cmd.helpCommand('help [COMMAND]', 'Print this message or the help of the given subcommand(s)');
  }
  return cmd.version(version, '-V, --version', 'Print version');
}

/** The help text (`-h`, `--help`, `help`). */
export function helpText(version: string = packageVersion()): string {
  return buildCommand(version, true).helpInformation();
}

/** `exec-desk forward --help` / `exec-desk help forward`. */
export function forwardHelpText(): string {
  const cmd = quietCommand(`${PROGRAM_NAME} ${FORWARD_SUBCOMMAND}`, FORWARD_DESCRIPTION, FORWARD.genericUsage);
  addFlags(cmd, FORWARD_FLAGS);
  return cmd.helpInformation();
}

/** Hands the already validated flags to commander in canonical form and reads them back. */
function assemble(given: Map<string, FlagValue>, version: string): Record<string, unknown> {
  const canonical: string[] = [];
  for (const spec of FLAGS) {
    const value = given.get(spec.key);
    if (value === undefined || value === false || spec.action) continue;
    canonical.push(spec.value && value !== true ? `${spec.long}=${String(value)}` : spec.long);
  }
  const cmd = buildCommand(version);
  cmd.parse(canonical, { from: 'user' });
  const opts = cmd.opts<Record<string, unknown>>();
  // commander treats a lone `--no-ui` as the negation of `ui`.
  return { ...opts, noUi: opts.ui === false };
}

let cachedVersion: string | undefined;
export function packageVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    cachedVersion = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    cachedVersion = '0.0.0';
  }
  return cachedVersion;
}

/** commander gives `true` for a bare `--dashboard`, a bigint for `--dashboard=PORT`. */
function dashboardOption(value: unknown): ServerOptions['dashboard'] {
  if (value === undefined) return null;
  return { port: typeof value === 'bigint' ? Number(value) : 0 };
}

// ---------------------------------------------------------------------------------------------
// --listen
// ---------------------------------------------------------------------------------------------

export type ListenTarget = ServerOptions['listen'];

/** Thrown for an unusable `--listen`; the message is the reference's (exit 1). */
export class ListenUrlError extends Error {
  override readonly name = 'ListenUrlError';
}

/**
 * `stdio`, `stdio://`, or `ws://` + a Rust `SocketAddr` (`IPv4:PORT` / `[IPv6]:PORT`, numeric
 * `%scope` allowed, no host names, no path). The host is returned in Node's form: IPv6 without
 * brackets, canonical, with `%scope` when non-zero.
 */
export function parseListenUrl(url: string): ListenTarget {
  if (url === 'stdio' || url === 'stdio://') return { kind: 'stdio' };
  if (url.startsWith('ws://')) {
    const addr = parseRustSocketAddr(url.slice('ws://'.length));
    if (addr === null) throw new ListenUrlError(`invalid websocket --listen URL \`${url}\`; expected \`ws://IP:PORT\``);
    const host = addr.kind === 'v4' ? addr.ip : `${formatIpv6(addr.groups)}${addr.scope ? `%${addr.scope}` : ''}`;
    return { kind: 'ws', host, port: addr.port };
  }
  throw new ListenUrlError(`unsupported --listen URL \`${url}\`; expected \`ws://IP:PORT\` or \`stdio\``);
}

type RustSocketAddr =
  | { kind: 'v4'; ip: string; octets: number[]; port: number }
  | { kind: 'v6'; groups: number[]; scope: number; port: number };

/** A cursor parser with the acceptance rules of Rust's `core::net` parser. */
class AddrParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.pos === this.text.length;
  }

  atomically<T>(read: () => T | null): T | null {
    const start = this.pos;
    const result = read();
    if (result === null) this.pos = start;
    return result;
  }

  readGiven(ch: string): true | null {
    return this.atomically(() => {
      if (this.text[this.pos] !== ch) return null;
      this.pos++;
      return true;
    });
  }

  /** `read_number`: digits in `radix`, at most `maxDigits`, value ≤ max. */
  readNumber(radix: 10 | 16, maxDigits: number | null, allowZeroPrefix: boolean, max: number): number | null {
    return this.atomically(() => {
      const hasLeadingZero = this.text[this.pos] === '0';
      let digits = 0;
      let value = 0;
      for (;;) {
        const ch = this.text[this.pos];
        const digit = ch === undefined ? NaN : parseInt(ch, radix);
        if (Number.isNaN(digit)) break;
        this.pos++;
        value = value * radix + digit;
        digits++;
        if (maxDigits !== null ? digits > maxDigits : value > max) return null;
      }
      if (digits === 0) return null;
      if (!allowZeroPrefix && hasLeadingZero && digits > 1) return null;
      return value > max ? null : value;
    });
  }

  readSeparated<T>(separator: string, index: number, read: () => T | null): T | null {
    return this.atomically(() => {
      if (index > 0 && this.readGiven(separator) === null) return null;
      return read();
    });
  }

  readIpv4(): number[] | null {
    return this.atomically(() => {
      const octets: number[] = [];
      for (let i = 0; i < 4; i++) {
        const octet = this.readSeparated('.', i, () => this.readNumber(10, 3, false, 255));
        if (octet === null) return null;
        octets.push(octet);
      }
      return octets;
    });
  }

  /** Colon-separated groups, possibly ending in an embedded IPv4; [count, endedWithIpv4]. */
  private readGroups(groups: number[], limit: number): [number, boolean] {
    for (let i = 0; i < limit; i++) {
      if (i < limit - 1) {
        const v4 = this.readSeparated(':', i, () => this.readIpv4());
        if (v4 !== null) {
          groups[i] = (v4[0]! << 8) | v4[1]!;
          groups[i + 1] = (v4[2]! << 8) | v4[3]!;
          return [i + 2, true];
        }
      }
      const group = this.readSeparated(':', i, () => this.readNumber(16, 4, true, 0xffff));
      if (group === null) return [i, false];
      groups[i] = group;
    }
    return [limit, false];
  }

  readIpv6(): number[] | null {
    return this.atomically(() => {
      const head = new Array<number>(8).fill(0);
      const [headSize, headIpv4] = this.readGroups(head, 8);
      if (headSize === 8) return head;
      if (headIpv4) return null;
      if (this.readGiven(':') === null || this.readGiven(':') === null) return null;
      const tail = new Array<number>(7).fill(0);
      const [tailSize] = this.readGroups(tail, 8 - (headSize + 1));
      for (let k = 0; k < tailSize; k++) head[8 - tailSize + k] = tail[k]!;
      return head;
    });
  }

  readPort(): number | null {
    return this.atomically(() => (this.readGiven(':') === null ? null : this.readNumber(10, null, true, 0xffff)));
  }

  readSocketAddrV4(): RustSocketAddr | null {
    return this.atomically(() => {
      const octets = this.readIpv4();
      if (octets === null) return null;
      const port = this.readPort();
      return port === null ? null : { kind: 'v4', ip: octets.join('.'), octets, port };
    });
  }

  readSocketAddrV6(): RustSocketAddr | null {
    return this.atomically(() => {
      if (this.readGiven('[') === null) return null;
      const groups = this.readIpv6();
      if (groups === null) return null;
      const scope = this.atomically(() => (this.readGiven('%') === null ? null : this.readNumber(10, null, true, 0xffffffff)));
      if (this.readGiven(']') === null) return null;
      const port = this.readPort();
      return port === null ? null : { kind: 'v6', groups, scope: scope ?? 0, port };
    });
  }
}

/** Rust's `"...".parse::<SocketAddr>()`; null when it would fail. */
export function parseRustSocketAddr(text: string): RustSocketAddr | null {
  const parser = new AddrParser(text);
  const addr = parser.readSocketAddrV4() ?? parser.readSocketAddrV6();
  return addr !== null && parser.done() ? addr : null;
}

/** Rust's `Ipv6Addr` display: `::ffff:a.b.c.d` for mapped, else the longest zero run (>1) as `::`. */
function formatIpv6(groups: readonly number[]): string {
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  let best = { start: 0, len: 0 };
  let current = { start: 0, len: 0 };
  groups.forEach((g, i) => {
    if (g === 0) {
      if (current.len === 0) current = { start: i, len: 0 };
      current.len++;
      if (current.len > best.len) best = { ...current };
    } else current = { start: 0, len: 0 };
  });
  const hex = (part: readonly number[]) => part.map((g) => g.toString(16)).join(':');
  if (best.len > 1) return `${hex(groups.slice(0, best.start))}::${hex(groups.slice(best.start + best.len))}`;
  return hex(groups);
}

/**
 * `host:port` the way Rust prints a `SocketAddr` (`0.0.0.0:0`, `[::1]:8080`,
 * `[::ffff:127.0.0.1]:1`). `host` is an IP as given to / returned by Node (IPv6 without brackets,
 * optional `%scope`). Also suits printing the bound URL: `ws://${formatSocketAddr(...)}`.
 */
export function formatSocketAddr(host: string, port: number): string {
  const v4 = parseRustSocketAddr(`${host}:${port}`);
  if (v4?.kind === 'v4') return `${v4.ip}:${port}`;
  const v6 = parseRustSocketAddr(`[${host}]:${port}`);
  if (v6?.kind === 'v6') return `[${formatIpv6(v6.groups)}${v6.scope ? `%${v6.scope}` : ''}]:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Rust's `IpAddr::is_loopback`: 127.0.0.0/8 or exactly `::1` (a mapped `::ffff:127.x` is not). */
export function isLoopbackHost(host: string): boolean {
  const v4 = parseRustSocketAddr(`${host}:0`);
  if (v4?.kind === 'v4') return v4.octets[0] === 127;
  const v6 = parseRustSocketAddr(`[${host}]:0`);
  return v6?.kind === 'v6' && v6.groups.every((g, i) => g === (i === 7 ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Bind time
// ---------------------------------------------------------------------------------------------

export interface BindPolicy {
  /**
   * Strict parity with `codex exec-server` 0.169.0, which starts on a non-loopback address without
   * auth (observed with `ws://0.0.0.0:0`, `ws://[::]:0` and a LAN address). Default false: exec-desk
   * keeps the refusal its architecture asks for, in the reference family's wording.
   */
  allowUnauthenticatedNonLoopback?: boolean;
}

/**
 * Call before binding a websocket listener. Returns null when the bind may go ahead, else the
 * outcome to exit with: exit 1 and `Error: refusing to start non-loopback websocket listener
 * <addr> without auth; ...`, the sentence (and `<addr>` rendering, e.g. `0.0.0.0:0`) that
 * `codex app-server` 0.169.0 prints. The reference exec-server itself has no such check.
 */
export function checkBindAllowed(listen: ListenTarget, wsAuth: WsAuthConfig, policy: BindPolicy = {}): ExitOutcome | null {
  if (listen.kind !== 'ws' || wsAuth.mode !== 'none' || policy.allowUnauthenticatedNonLoopback) return null;
  if (isLoopbackHost(listen.host)) return null;
  return configError(
    `refusing to start non-loopback websocket listener ${formatSocketAddr(listen.host, listen.port)} without auth; ` +
      'configure `--ws-auth capability-token` or `--ws-auth signed-bearer-token`',
  );
}

/**
 * A failed `listen()` rendered as the reference renders its bind error: exit 1,
 * `Error: Address in use (os error 98)` / `Error: Address not available (os error 99)`.
 */
export function bindFailure(err: unknown): ExitOutcome {
  return configError(osErrorMessage(err as NodeJS.ErrnoException));
}

// ---------------------------------------------------------------------------------------------
// parseCli
// ---------------------------------------------------------------------------------------------

/**
 * Parses the argv after `node bin/exec-desk.mjs` (no program name). Reads the token / secret files
 * (the reference does that before binding, too). Never throws for bad input: every failure is an
 * `exit` outcome with the reference's code and message.
 */
export async function parseCli(argv: string[], env: NodeJS.ProcessEnv, context: ParseCliContext = {}): Promise<CliOutcome> {
  const version = context.version ?? packageVersion();
  let values: Record<string, unknown>;
  let scanned: Scanned;
  try {
    scanned = scanCommand(ROOT, argv, env, version);
    values = assemble(scanned.given, version);
  } catch (err) {
    if (err instanceof EarlyExit) return err.outcome;
    if (err instanceof UsageError) return renderUsageError(err);
    throw err;
  }

  // The reference's own checks after clap, in its order (exit 1).
  const remoteError = checkRemoteCombination(scanned.given, scanned.forward);
  if (remoteError) return configError(remoteError);

  const authFlags: WsAuthFlags = {};
  if (values.wsAuth !== undefined) authFlags.wsAuth = values.wsAuth as WsAuthMode;
  if (values.wsTokenFile !== undefined) authFlags.wsTokenFile = values.wsTokenFile as string;
  if (values.wsTokenSha256 !== undefined) authFlags.wsTokenSha256 = values.wsTokenSha256 as string;
  if (values.wsSharedSecretFile !== undefined) authFlags.wsSharedSecretFile = values.wsSharedSecretFile as string;
  if (values.wsIssuer !== undefined) authFlags.wsIssuer = values.wsIssuer as string;
  if (values.wsAudience !== undefined) authFlags.wsAudience = values.wsAudience as string;
  if (values.wsMaxClockSkewSeconds !== undefined) authFlags.wsMaxClockSkewSeconds = values.wsMaxClockSkewSeconds as bigint;

  try {
    const plan = planWsAuth(authFlags);
    const listen = parseListenUrl((values.listen as string | undefined) ?? DEFAULT_LISTEN_URL);
    if (listen.kind === 'stdio' && plan.mode !== 'none') {
      return configError('WebSocket auth requires a WebSocket listener, not stdio');
    }
    const wsAuth = await readWsAuthPlan(plan, context.cwd);
    const concurrent = (values.concurrentRequests as bigint | undefined) ?? 1n;
    const forward = scanned.forward;
    return {
      kind: 'run',
      options: {
        listen,
        wsAuth,
        // usize can exceed 2^53; such a limit is unlimited in practice.
        concurrentRequests: concurrent > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(concurrent),
        exitOnStdinClose: scanned.given.get('exitOnStdinClose') === true || forward?.get('exitOnStdinClose') === true,
        noUi: values.noUi === true,
        remote: forward ? remoteOptions(forward, forward.get('connect') as string) : scanned.given.has('remote') ? remoteOptions(scanned.given, null) : null,
        dashboard: dashboardOption(values.dashboard),
      },
    };
  } catch (err) {
    if (err instanceof WsAuthStartupError || err instanceof ListenUrlError) return configError(err.message);
    throw err;
  }
}

export const SIGV4_NEEDS_DIRECT = '--aws-sigv4 requires --remote-transport direct';
export const DIRECT_CANNOT_FORWARD = 'direct exec-server transport does not support forwarding';

/** The reference's post-clap remote checks; the message to print, or null. */
function checkRemoteCombination(root: ReadonlyMap<string, FlagValue>, forward: ReadonlyMap<string, FlagValue> | null): string | null {
  for (const flags of forward ? [root, forward] : [root]) {
    if (flags.get('awsSigv4') === true && flags.get('remoteTransport') !== 'direct') return SIGV4_NEEDS_DIRECT;
  }
  if (forward?.get('remoteTransport') === 'direct') return DIRECT_CANNOT_FORWARD;
  return null;
}

function remoteOptions(flags: ReadonlyMap<string, FlagValue>, forwardTo: string | null): RemoteOptions {
  const text = (key: string) => (flags.has(key) ? String(flags.get(key)) : null);
  const flag = (key: string) => flags.get(key) === true;
  return {
    registryUrl: text('remote') ?? '',
    environmentId: text('environmentId') ?? '',
    name: text('name'),
    transport: flags.get('remoteTransport') === 'direct' ? 'direct' : 'noise',
    auth: {
      useAgentIdentityAuth: flag('useAgentIdentityAuth'),
      registrationBearerStdin: flag('registrationBearerStdin'),
      executorCredentialStdin: flag('executorCredentialStdin'),
      chatgptTokenStdin: flag('chatgptTokenStdin'),
      chatgptAccountId: text('chatgptAccountId'),
      awsSigv4: flag('awsSigv4') ? { profile: text('awsProfile'), region: text('awsRegion'), service: text('awsService') ?? DEFAULT_AWS_SERVICE } : null,
    },
    forwardTo,
  };
}
