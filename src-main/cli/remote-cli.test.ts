/**
 * Remote-mode command line, differentially: every argv below is run through the real CLI
 * (`node bin/exec-desk.mjs …`) and through `codex exec-server …` 0.169.0, and both must exit with
 * the same code and print the same first stderr line; for clap errors also the same argument
 * list and usage line (the program name aside). Nearly all cases fail before any network I/O (the
 * registry URL points at a closed loopback port anyway; the few that register get a loopback
 * registry refusing them), with a fresh empty CODEX_HOME unless the case sets one, stdin at EOF
 * unless the case pipes some, and no credential unless the case sets CODEX_API_KEY.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli, type CliOutcome, type RemoteOptions } from './options.ts';
import { execDeskBin, referenceAvailable } from '../testkit/server-process.ts';
import { referenceCommand } from '../testkit/remote/reference.ts';
import { LOOPBACK_ONLY_ENV } from '../testkit/temp-home-process.ts';

const R = 'http://127.0.0.1:1/api';
const W = 'ws://127.0.0.1:1';
const FORWARD = ['--remote', R, '--environment-id', 'e', '--connect', W];
const KEY = { CODEX_API_KEY: 'sk-test' };
/** Replaced by the URL of a loopback server that accepts connections and never answers. */
const HANGING_REGISTRY = '<hanging registry>';
/** Replaced by the URL of a loopback registry answering every request `400` / `403` with an error body. */
const REFUSING_REGISTRY_400 = '<registry answering 400>';
const REFUSING_REGISTRY_403 = '<registry answering 403>';
/** A CODEX_HOME that does not exist, and one that is not a directory. */
const MISSING_HOME = { CODEX_HOME: '/nonexistent/exec-desk-codex-home' };
const FILE_HOME = { CODEX_HOME: '/dev/null' };
const HTTPS_R = 'https://127.0.0.1:1/api';
const FRAME = `${JSON.stringify({ version: 1, token: 'tok', environment_id: 'e', expires_at: Math.floor(Date.now() / 1000) + 3600 })}\n`;
/** A JWT-shaped ChatGPT access token naming account `acct`. */
const CHATGPT_TOKEN = [{ alg: 'none' }, { 'https://api.openai.com/auth': { chatgpt_account_id: 'acct' } }]
  .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
  .concat('c2ln')
  .join('.');

interface Case {
  argv: string[];
  code: number;
  /** The first stderr line, as the reference prints it (with `exec-desk` for the program). */
  first: string;
  env?: Record<string, string>;
  /** Written to a stdin pipe (then closed, unless `keepStdinOpen`); without it stdin is /dev/null. */
  stdin?: string;
  keepStdinOpen?: boolean;
  /** Hand `stdin` over as a regular file instead of a pipe. */
  stdinFile?: boolean;
}

const usage = (argv: string[], first: string): Case => ({ argv, code: 2, first: `error: ${first}` });
const config = (argv: string[], message: string, env?: Record<string, string>): Case => ({ argv, code: 1, first: `Error: ${message}`, env });
const REQUIRED = 'the following required arguments were not provided:';
const conflict = (a: string, b: string) => `the argument '${a}' cannot be used with '${b}'`;

const CREDENTIAL_FLAGS = ['--use-agent-identity-auth', '--registration-bearer-stdin', '--executor-credential-stdin', '--chatgpt-token-stdin', '--aws-sigv4'];

const CASES: Case[] = [
  // requirements
  usage(['--remote', R], REQUIRED),
  usage(['--remote='], REQUIRED),
  usage(['--remote-transport', 'direct'], REQUIRED),
  usage(['--remote-transport', 'noise'], REQUIRED),
  usage(['--remote', R, '--environment-id', 'e', '--remote-transport', 'direct'], REQUIRED),
  usage(['--environment-id', 'e', '--remote-transport', 'direct'], REQUIRED),
  usage(['--remote-transport', 'direct', '--aws-sigv4'], REQUIRED),
  usage(['--use-agent-identity-auth'], REQUIRED),
  usage(['--name', 'n', '--use-agent-identity-auth'], REQUIRED),
  usage(['--registration-bearer-stdin'], REQUIRED),
  usage(['--executor-credential-stdin'], REQUIRED),
  usage(['--chatgpt-token-stdin'], REQUIRED),
  usage(['--aws-sigv4'], REQUIRED),
  usage(['--chatgpt-account-id', 'x'], REQUIRED),
  usage(['--chatgpt-account-id', 'x', '--chatgpt-token-stdin'], REQUIRED),
  usage(['--remote', R, '--chatgpt-account-id', 'x'], REQUIRED),
  usage(['--environment-id', 'e', '--chatgpt-account-id', 'x'], REQUIRED),
  usage(['--aws-service', 's'], REQUIRED),
  usage(['--aws-profile', 'p'], REQUIRED),
  usage(['--aws-region', 'r', '--aws-sigv4'], REQUIRED),
  usage(['--remote', R, '--environment-id', 'e', '--aws-profile', 'p'], REQUIRED),
  usage(['--exit-on-stdin-close', '--remote', R], REQUIRED),
  // conflicts
  usage(['--remote', R, '--environment-id', 'e', '--listen', 'ws://127.0.0.1:0'], conflict('--remote <URL>', '--listen <URL>')),
  usage(['--listen', 'stdio', '--remote', R], conflict('--listen <URL>', '--remote <URL>')),
  ...CREDENTIAL_FLAGS.flatMap((a, i) =>
    CREDENTIAL_FLAGS.slice(i + 1).map((b) => usage(['--remote', R, '--environment-id', 'e', a, b], conflict(a, b))),
  ),
  usage(['--use-agent-identity-auth', '--registration-bearer-stdin'], conflict('--use-agent-identity-auth', '--registration-bearer-stdin')),
  usage(['--aws-sigv4', '--registration-bearer-stdin', '--executor-credential-stdin'], "the argument '--aws-sigv4' cannot be used with:"),
  // values, repetition
  usage(['--remote', R, '--environment-id', 'e', '--remote-transport', 'bogus'], "invalid value 'bogus' for '--remote-transport <REMOTE_TRANSPORT>'"),
  usage(['--remote', R, '--environment-id', 'e', '--remote-transport'], "a value is required for '--remote-transport <REMOTE_TRANSPORT>' but none was supplied"),
  usage(['--remote', R, '--remote', R, '--environment-id', 'e'], "the argument '--remote <URL>' cannot be used multiple times"),
  usage(['--remote', R, '--environment-id', 'e', '--name', 'x', '--name', 'y'], "the argument '--name <NAME>' cannot be used multiple times"),
  usage(['--remote', R, '--environment-id', 'e', '--aws-sigv4=1'], "unexpected value '1' for '--aws-sigv4' found; no more were expected"),
  // forward
  usage(['forward'], REQUIRED),
  usage(['forward', '--connect', W], REQUIRED),
  usage(['forward', '--connect='], REQUIRED),
  usage(['--remote', R, '--environment-id', 'e', 'forward', '--connect', W], REQUIRED),
  usage(['forward', ...FORWARD, '--aws-profile', 'p'], REQUIRED),
  usage(['forward', ...FORWARD, '--aws-service', 's', '--aws-region', 'r'], REQUIRED),
  usage(['forward', ...FORWARD, '--remote-transport', 'direct'], REQUIRED),
  usage(['forward', '--aws-profile', 'p'], REQUIRED),
  usage(['forward', '--connect', 'w', '--environment-id', 'e', '--name', 'x'], REQUIRED),
  usage(['--remote-transport', 'noise', 'forward', ...FORWARD], REQUIRED),
  // root flags before `forward` are the root's: their requirements are the root's, checked after forward's
  usage(['--remote-transport', 'direct', 'forward', ...FORWARD], REQUIRED),
  usage(['--remote-transport', 'direct', 'forward', ...FORWARD, '--aws-sigv4'], REQUIRED),
  usage(['--remote-transport', 'direct', '--aws-sigv4', 'forward', ...FORWARD], REQUIRED),
  usage(['--remote', R, '--environment-id', 'e', '--remote-transport', 'direct', 'forward', ...FORWARD], REQUIRED),
  usage(['--exit-on-stdin-close', 'forward', ...FORWARD], REQUIRED),
  usage(['--exit-on-stdin-close', 'forward', '--connect', W], REQUIRED),
  { ...usage(['forward', ...FORWARD], REQUIRED), env: { CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE: 'true' } },
  usage(['--chatgpt-account-id', 'x', '--remote', R, '--environment-id', 'e', 'forward', ...FORWARD], REQUIRED),
  usage(['forward', ...FORWARD, '--use-agent-identity-auth', '--registration-bearer-stdin'], conflict('--use-agent-identity-auth', '--registration-bearer-stdin')),
  usage(['forward', ...FORWARD, '--executor-credential-stdin', '--aws-sigv4'], conflict('--executor-credential-stdin', '--aws-sigv4')),
  usage(['forward', '--remote-transport', 'direct', ...FORWARD, '--use-agent-identity-auth', '--aws-sigv4'], conflict('--use-agent-identity-auth', '--aws-sigv4')),
  usage(['forward', ...FORWARD, '--chatgpt-token-stdin'], "unexpected argument '--chatgpt-token-stdin' found"),
  usage(['forward', ...FORWARD, '--listen', 'stdio'], "unexpected argument '--listen' found"),
  usage(['forward', ...FORWARD, '--concurrent-requests', '2'], "unexpected argument '--concurrent-requests' found"),
  usage(['forward', '-V'], "unexpected argument '-V' found"),
  usage(['forward', 'x'], "unexpected argument 'x' found"),
  usage(['forward', 'help'], "unexpected argument 'help' found"),
  usage(['forward', ...FORWARD, '--', 'x'], "unexpected argument 'x' found"),
  usage(['forward', '--connect'], "a value is required for '--connect <URL>' but none was supplied"),
  usage(['forward', '--connect', W, '--connect', W], "the argument '--connect <URL>' cannot be used multiple times"),
  usage(['--', 'forward'], "unexpected argument 'forward' found"),
  usage(['help', 'forward', 'x'], "unrecognized subcommand 'x'"),
  usage(['--concurrent-requests', 'abc', 'forward'], REQUIRED),
  usage(['--concurrent-requests', 'abc', 'forward', ...FORWARD], "invalid value 'abc' for '--concurrent-requests <COUNT>': invalid digit found in string"),
  // the reference's checks after clap (exit 1), in its order
  config(['--remote', R, '--environment-id', 'e', '--aws-sigv4'], '--aws-sigv4 requires --remote-transport direct'),
  config(['--remote', R, '--environment-id', 'e', '--remote-transport', 'noise', '--aws-sigv4', '--aws-profile', 'p'], '--aws-sigv4 requires --remote-transport direct'),
  config(['--remote', R, '--environment-id', 'e', '--ws-auth', 'capability-token', '--aws-sigv4'], '--aws-sigv4 requires --remote-transport direct'),
  config(['forward', ...FORWARD, '--aws-sigv4'], '--aws-sigv4 requires --remote-transport direct'),
  config(['--aws-sigv4', '--remote', R, '--environment-id', 'e', 'forward', ...FORWARD], '--aws-sigv4 requires --remote-transport direct'),
  config(['forward', ...FORWARD, '--remote-transport', 'direct', '--aws-sigv4'], 'direct exec-server transport does not support forwarding'),
  config(['--ws-token-file', '/x', 'forward', ...FORWARD, '--remote-transport', 'direct', '--aws-sigv4'], 'direct exec-server transport does not support forwarding'),
  config(['--remote', R, '--environment-id', 'e', '--ws-auth', 'capability-token'], '`--ws-token-file` or `--ws-token-sha256` is required when `--ws-auth capability-token` is set'),
  config(['--ws-auth', 'capability-token', 'forward', ...FORWARD], '`--ws-token-file` or `--ws-token-sha256` is required when `--ws-auth capability-token` is set'),
  config(['--remote', R, '--environment-id', 'e', '--ws-token-file', '/x'], 'websocket auth flags require `--ws-auth capability-token` or `--ws-auth signed-bearer-token`'),
];

/** Cases decided by remote-mode start-up (credential resolution, the forward URL) rather than the parser. */
const STARTUP_CASES: Case[] = [
  config(['--remote', R, '--environment-id', 'e'], 'remote exec-server registration requires ChatGPT authentication or API key authentication; run `codex login` or set CODEX_API_KEY'),
  config(['forward', ...FORWARD], 'remote exec-server registration requires ChatGPT authentication or API key authentication; run `codex login` or set CODEX_API_KEY'),
  config(['--remote', 'http://example.invalid', '--environment-id', 'e'], 'remote exec-server API-key authentication is restricted to HTTPS openai.com and openai.org hosts and subdomains or loopback hosts', KEY),
  config(['--remote', 'notaurl', '--environment-id', 'e'], 'invalid remote exec-server registration URL: relative URL without a base', KEY),
  config(['--remote', R, '--environment-id', 'e', '--remote-transport', 'direct', '--aws-sigv4'], 'AWS SDK config did not resolve a region'),
  // ...but without a credential the credential is reported first
  config(['--remote', 'notaurl', '--environment-id', 'e'], 'remote exec-server registration requires ChatGPT authentication or API key authentication; run `codex login` or set CODEX_API_KEY'),
  config(['forward', '--remote', R, '--environment-id', 'e', '--connect', 'http://127.0.0.1:1'], 'failed to configure exec-server websocket: forward destination must be a ws:// or wss:// URL', KEY),
  config(['forward', '--remote', R, '--environment-id', 'e', '--connect', 'notaurl', '--exit-on-stdin-close'], 'failed to configure exec-server websocket: relative URL without a base', KEY),
  config(['forward', '--remote', R, '--environment-id', 'e', '--connect', 'ws://'], 'failed to configure exec-server websocket: empty host', KEY),
  // stdin credential modes with stdin at EOF, and Agent Identity without its token
  config(['--remote', R, '--environment-id', 'e', '--executor-credential-stdin'], 'exec-server executor credential pipe closed'),
  config(['--remote', R, '--environment-id', 'e', '--exit-on-stdin-close', '--executor-credential-stdin'], 'exec-server executor credential pipe closed'),
  config(['--remote', R, '--environment-id', 'e', '--registration-bearer-stdin'], 'expected a newline-terminated registration bearer of at most 16 KiB'),
  config(['--remote', R, '--environment-id', 'e', '--chatgpt-token-stdin', '--chatgpt-account-id', 'x'], 'ChatGPT token registry URLs must use HTTPS without userinfo or fragments'),
  config(['--remote', R, '--environment-id', 'e', '--use-agent-identity-auth'], 'CODEX_ACCESS_TOKEN is required when --use-agent-identity-auth is set'),
  config(['--remote', R, '--environment-id', 'e', '--use-agent-identity-auth', '--ws-auth', 'capability-token'], '`--ws-token-file` or `--ws-token-sha256` is required when `--ws-auth capability-token` is set'),
  // an explicit CODEX_HOME must be a directory: checked first, except that the bearer and ChatGPT
  // token modes read (and check) their line first; the ChatGPT token mode wants a pipe or socket
  config(['--remote', R, '--environment-id', 'e'], 'CODEX_HOME points to "/nonexistent/exec-desk-codex-home", but that path does not exist', MISSING_HOME),
  config(['--remote', R, '--environment-id', 'e'], 'CODEX_HOME points to "/dev/null", but that path is not a directory', FILE_HOME),
  config(['--remote', 'notaurl', '--environment-id', 'e'], 'CODEX_HOME points to "/nonexistent/exec-desk-codex-home", but that path does not exist', { ...KEY, ...MISSING_HOME }),
  config(['--remote', R, '--environment-id', 'e', '--use-agent-identity-auth'], 'CODEX_HOME points to "/nonexistent/exec-desk-codex-home", but that path does not exist', MISSING_HOME),
  config(['--remote', R, '--environment-id', 'e', '--remote-transport', 'direct', '--aws-sigv4'], 'CODEX_HOME points to "/nonexistent/exec-desk-codex-home", but that path does not exist', MISSING_HOME),
  config(['--remote', R, '--environment-id', 'e', '--executor-credential-stdin'], 'CODEX_HOME points to "/nonexistent/exec-desk-codex-home", but that path does not exist', MISSING_HOME),
  config(['--remote', R, '--environment-id', 'e', '--registration-bearer-stdin'], 'expected a newline-terminated registration bearer of at most 16 KiB', MISSING_HOME),
  { ...config(['--remote', 'notaurl', '--environment-id', 'e', '--registration-bearer-stdin'], 'CODEX_HOME points to "/nonexistent/exec-desk-codex-home", but that path does not exist', MISSING_HOME), stdin: 'bearer\n' },
  { ...config(['forward', ...FORWARD, '--registration-bearer-stdin'], 'CODEX_HOME points to "/nonexistent/exec-desk-codex-home", but that path does not exist', MISSING_HOME), stdin: 'bearer\n' },
  { ...config(['--remote', R, '--environment-id', 'e', '--registration-bearer-stdin'], 'invalid registration bearer', MISSING_HOME), stdin: 'two words\n' },
  config(['--remote', HTTPS_R, '--environment-id', 'e', '--chatgpt-token-stdin'], 'ChatGPT token stdin must be a pipe or socket', MISSING_HOME),
  config(['--remote', 'notaurl', '--environment-id', 'e', '--chatgpt-token-stdin'], 'ChatGPT token registry URLs must use HTTPS without userinfo or fragments'),
  { ...config(['--remote', HTTPS_R, '--environment-id', 'e', '--chatgpt-token-stdin'], 'expected a bounded, newline-terminated ChatGPT access token', MISSING_HOME), stdin: '' },
  { ...config(['--remote', HTTPS_R, '--environment-id', 'e', '--chatgpt-token-stdin', '--chatgpt-account-id', 'other'], '--chatgpt-account-id does not match the token', MISSING_HOME), stdin: `${CHATGPT_TOKEN}\n` },
  { ...config(['--remote', HTTPS_R, '--environment-id', 'e', '--chatgpt-token-stdin'], 'CODEX_HOME points to "/nonexistent/exec-desk-codex-home", but that path does not exist', MISSING_HOME), stdin: `${CHATGPT_TOKEN}\n` },
  // only the ChatGPT token mode refuses a regular file; the bearer and executor credential modes read it
  { ...config(['--remote', HTTPS_R, '--environment-id', 'e', '--chatgpt-token-stdin'], 'ChatGPT token stdin must be a pipe or socket'), stdin: `${CHATGPT_TOKEN}\n`, stdinFile: true },
  { ...config(['--remote', R, '--environment-id', 'e', '--registration-bearer-stdin'], 'CODEX_HOME points to "/nonexistent/exec-desk-codex-home", but that path does not exist', MISSING_HOME), stdin: 'bearer\n', stdinFile: true },
  { ...config(['--remote', R, '--environment-id', 'other', '--executor-credential-stdin'], 'exec-server executor credential is for a different environment'), stdin: FRAME, stdinFile: true },
  // stdin credentials: the registry's error body is never shown
  { ...config(['--remote', REFUSING_REGISTRY_400, '--environment-id', 'e', '--registration-bearer-stdin'], 'environment registry request failed (400 Bad Request): environment registry executor registration failed'), stdin: 'bearer\n' },
  { ...config(['--remote', REFUSING_REGISTRY_403, '--environment-id', 'e', '--registration-bearer-stdin'], 'environment registry authentication error: environment registry authentication failed (403 Forbidden): response body omitted'), stdin: 'bearer\n' },
  { ...config(['--remote', REFUSING_REGISTRY_400, '--environment-id', 'e', '--executor-credential-stdin'], 'environment registry request failed (400 Bad Request): environment registry executor registration failed'), stdin: FRAME, keepStdinOpen: true },
  config(['--remote', REFUSING_REGISTRY_403, '--environment-id', 'e'], 'environment registry authentication error: environment registry authentication failed (403 Forbidden): secret echo', KEY),
  // --exit-on-stdin-close with stdin already at EOF: exit 0 before registering (against a registry
  // that never answers, so a fast registration error cannot race the EOF in either binary)
  { argv: ['--remote', HANGING_REGISTRY, '--environment-id', 'e', '--exit-on-stdin-close'], code: 0, first: '', env: KEY },
];

interface Run {
  code: number | null;
  stderr: string;
}

let home: string;
let hanging: Server;
let hangingUrl = '';
const refusing: HttpServer[] = [];
const refusingUrls = new Map<string, string>();
const held = new Set<Socket>();
before(async () => {
  hanging = createServer((socket) => {
    held.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => held.delete(socket));
  });
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/api`;
  for (const [placeholder, status] of [[REFUSING_REGISTRY_400, 400], [REFUSING_REGISTRY_403, 403]] as const) {
    const server = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'refused', message: 'secret echo' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    refusing.push(server);
    refusingUrls.set(placeholder, `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`);
  }
  home = mkdtempSync(join(tmpdir(), 'exec-desk-remote-cli-'));
  // The reference warns when CODEX_HOME lies inside its temp dir; give it another one.
  mkdirSync(join(home, 'tmp'));
});
after(async () => {
  rmSync(home, { recursive: true, force: true });
  for (const socket of held) socket.destroy();
  await new Promise<void>((resolve) => hanging.close(() => resolve()));
  for (const server of refusing) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

const argvOf = (c: Case) => c.argv.map((a) => (a === HANGING_REGISTRY ? hangingUrl : refusingUrls.get(a) ?? a));

/** A fresh CODEX_HOME per run: concurrent reference runs race on the helper files they create in it. */
function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const codexHome = mkdtempSync(join(home, 'home-'));
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: codexHome,
    CODEX_HOME: codexHome,
    TMPDIR: join(home, 'tmp'),
    ...LOOPBACK_ONLY_ENV,
    ...extra,
  };
}

function runCli(command: string, args: string[], env: NodeJS.ProcessEnv, c: Case): Promise<Run> {
  return new Promise((resolve, reject) => {
    let input: 'ignore' | 'pipe' | number = c.stdin === undefined ? 'ignore' : 'pipe';
    if (c.stdinFile) {
      const file = join(mkdtempSync(join(home, 'stdin-')), 'stdin');
      writeFileSync(file, c.stdin ?? '');
      input = openSync(file, 'r');
    }
    const child = spawn(command, args, { env, stdio: [input, 'ignore', 'pipe'] });
    if (typeof input === 'number') closeSync(input);
    else if (c.stdin !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.write(c.stdin);
      if (!c.keepStdinOpen) child.stdin!.end();
    }
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', () => child.stdin?.destroy());
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const runDesk = (c: Case) => runCli(process.execPath, [execDeskBin, ...argvOf(c)], baseEnv(c.env), c);
const runReference = (c: Case) => runCli(referenceCommand(), ['exec-server', ...argvOf(c)], baseEnv(c.env), c);

/**
 * The first stderr line that is not a log line: exec-desk logs `<ISO time> INFO …` once it starts
 * registering; the reference warns `WARNING: proceeding, even though we could not create PATH
 * aliases: …` when it cannot set up helper binaries under CODEX_HOME.
 */
function firstLine(stderr: string): string {
  return stderr.split('\n').find((line) => !/^\d{4}-\d\d-\d\dT\S+ [A-Z]+ /.test(line) && !line.startsWith('WARNING: proceeding')) ?? '';
}

/** The comparable part of a clap error: up to the usage line, without `tip:` lines, program name normalised. */
function clapBlock(stderr: string): string {
  return stderr
    .replaceAll('codex exec-server', 'exec-desk')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('tip:'))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .split("\nFor more information, try '--help'.")[0]!
    .replace(/\n+$/, '');
}

/** Runs `work` over items, `width` at a time. */
async function pool<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const at = next++;
        results[at] = await work(items[at]!);
      }
    }),
  );
  return results;
}

describe('remote flags through the real CLI', () => {
  test('exec-desk: exit code and first stderr line of every bad combination', { timeout: 240_000 }, async () => {
    const runs = await pool([...CASES, ...STARTUP_CASES], 3, runDesk);
    [...CASES, ...STARTUP_CASES].forEach((c, i) => {
      const run = runs[i]!;
      assert.equal(run.code, c.code, `${JSON.stringify(c.argv)}: ${run.stderr}`);
      if (c.first) assert.equal(firstLine(run.stderr), c.first, JSON.stringify(c.argv));
    });
  });

  test(
    'the reference agrees: same exit codes, first lines, and for clap errors the argument list and usage line',
    { skip: !referenceAvailable() && 'reference binary not installed', timeout: 240_000 },
    async () => {
      const all = [...CASES, ...STARTUP_CASES];
      const [desk, ref] = await Promise.all([pool(all, 2, runDesk), pool(all, 2, runReference)]);
      all.forEach((c, i) => {
        const label = JSON.stringify(c.argv);
        assert.equal(ref[i]!.code, c.code, `reference exit for ${label}: ${ref[i]!.stderr}`);
        assert.equal(desk[i]!.code, ref[i]!.code, label);
        if (c.code === 0) return;
        assert.equal(firstLine(desk[i]!.stderr), firstLine(ref[i]!.stderr), label);
        if (c.code === 2) assert.equal(clapBlock(desk[i]!.stderr), clapBlock(ref[i]!.stderr), label);
      });
    },
  );
});

describe('parsed remote options', () => {
  const run = async (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<RemoteOptions | null> => {
    const outcome: CliOutcome = await parseCli(argv, env);
    assert.equal(outcome.kind, 'run', JSON.stringify(outcome));
    return (outcome as Extract<CliOutcome, { kind: 'run' }>).options.remote;
  };
  const noAuth = {
    useAgentIdentityAuth: false,
    registrationBearerStdin: false,
    executorCredentialStdin: false,
    chatgptTokenStdin: false,
    chatgptAccountId: null,
    awsSigv4: null,
  };

  test('local mode has no remote options; --environment-id and --name alone are accepted and unused', async () => {
    assert.equal(await run([]), null);
    assert.equal(await run(['--environment-id', 'e', '--name', 'n']), null);
  });

  test('--remote with everything a noise executor takes', async () => {
    assert.deepEqual(await run(['--remote', R, '--environment-id', 'env-1', '--name', 'laptop', '--concurrent-requests', '4']), {
      registryUrl: R,
      environmentId: 'env-1',
      name: 'laptop',
      transport: 'noise',
      auth: noAuth,
      forwardTo: null,
    });
    assert.deepEqual((await run(['--remote', R, '--environment-id', 'e', '--chatgpt-token-stdin', '--chatgpt-account-id', 'acct']))!.auth, {
      ...noAuth,
      chatgptTokenStdin: true,
      chatgptAccountId: 'acct',
    });
    assert.deepEqual((await run(['--remote', R, '--environment-id', 'e', '--executor-credential-stdin']))!.auth, { ...noAuth, executorCredentialStdin: true });
  });

  test('exec-desk\'s own --no-ui / --dashboard go with --remote, and before `forward` (root flags, as clap scopes them)', async () => {
    for (const argv of [
      ['--remote', R, '--environment-id', 'e', '--no-ui', '--dashboard=0'],
      ['--no-ui', '--dashboard=0', 'forward', ...FORWARD],
    ]) {
      const outcome = await parseCli(argv, {});
      assert.equal(outcome.kind, 'run', JSON.stringify(outcome));
      const options = (outcome as Extract<CliOutcome, { kind: 'run' }>).options;
      assert.deepEqual([options.noUi, options.dashboard, options.remote?.environmentId], [true, { port: 0 }, 'e']);
    }
    const after = await parseCli(['forward', ...FORWARD, '--no-ui'], {});
    assert.equal(after.kind, 'exit');
  });

  test('direct transport with SigV4 options (service default execute-api)', async () => {
    const remote = await run(['--remote', R, '--environment-id', 'e', '--remote-transport', 'direct', '--aws-sigv4', '--aws-region', 'eu-west-1']);
    assert.equal(remote!.transport, 'direct');
    assert.deepEqual(remote!.auth.awsSigv4, { profile: null, region: 'eu-west-1', service: 'execute-api' });
  });

  test('forward takes its own flags; the root --listen and --concurrent-requests are accepted and unused', async () => {
    const outcome = await parseCli(['--listen', 'stdio', 'forward', ...FORWARD, '--registration-bearer-stdin', '--exit-on-stdin-close'], {});
    assert.equal(outcome.kind, 'run');
    const options = (outcome as Extract<CliOutcome, { kind: 'run' }>).options;
    assert.equal(options.exitOnStdinClose, true);
    assert.deepEqual(options.remote, {
      registryUrl: R,
      environmentId: 'e',
      name: null,
      transport: 'noise',
      auth: { ...noAuth, registrationBearerStdin: true },
      forwardTo: W,
    });
  });

  test('CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE=true counts in remote mode; =false does not', async () => {
    const with_ = await parseCli(['--remote', R, '--environment-id', 'e'], { CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE: 'true' });
    assert.equal((with_ as Extract<CliOutcome, { kind: 'run' }>).options.exitOnStdinClose, true);
    const without = await parseCli(['--remote', R, '--environment-id', 'e'], { CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE: 'false' });
    assert.equal((without as Extract<CliOutcome, { kind: 'run' }>).options.exitOnStdinClose, false);
  });

  test('help: the root lists the remote flags and `forward`; `forward -h` and `help forward` print the forward help', async () => {
    const root = (await parseCli(['--help'], {})) as Extract<CliOutcome, { kind: 'exit' }>;
    assert.equal(root.code, 0);
    assert.match(root.stdout!, /^Usage: exec-desk \[OPTIONS\] \[COMMAND\]/);
    for (const flag of ['--remote <URL>', '--environment-id <ID>', '--remote-transport <REMOTE_TRANSPORT>', '--executor-credential-stdin', '--aws-service <SERVICE>']) {
      assert.ok(root.stdout!.includes(flag), flag);
    }
    assert.match(root.stdout!, /^ {2}forward +Register an existing WebSocket exec-server/m);
    for (const argv of [['forward', '-h'], ['forward', '--help'], ['help', 'forward'], ['forward', '--connect', W, '--help']]) {
      const outcome = (await parseCli(argv, {})) as Extract<CliOutcome, { kind: 'exit' }>;
      assert.equal(outcome.code, 0, JSON.stringify(argv));
      assert.match(outcome.stdout!, /^Usage: exec-desk forward \[OPTIONS\] --remote <URL> --environment-id <ID> --connect <URL>\n/, JSON.stringify(argv));
      assert.ok(outcome.stdout!.includes('--connect <URL>'));
      assert.ok(!outcome.stdout!.includes('--listen'), 'forward has no --listen');
    }
  });

  test('exec-desk keeps --exit-on-stdin-close in local mode (the reference requires --remote for it)', async () => {
    const outcome = await parseCli(['--listen', 'stdio', '--exit-on-stdin-close'], {});
    assert.equal(outcome.kind, 'run');
  });
});
