import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bindFailure,
  checkBindAllowed,
  formatSocketAddr,
  helpText,
  isLoopbackHost,
  LOCAL_FLAGS,
  parseCli,
  parseListenUrl,
  parseRustSocketAddr,
  parseRustUnsigned,
  type CliOutcome,
  type ServerOptions,
} from './options.ts';
import { referenceAvailable, referenceBin } from '../testkit/server-process.ts';

const SECRET = '0123456789abcdef0123456789abcdef';
const TOKEN_SHA = createHash('sha256').update('my-capability-token').digest('hex');
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-options-test-'));
  await writeFile(join(dir, 'tok.txt'), 'my-capability-token\n');
  await writeFile(join(dir, 'blank.txt'), '  \n');
  await writeFile(join(dir, 'secret32.txt'), `${SECRET}\n`);
  await writeFile(join(dir, 'secret31.txt'), SECRET.slice(1));
  await mkdir(join(dir, 'sub'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseCli(argv, env, { cwd: dir });

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerOptions> {
  const outcome = await parse(argv, env);
  assert.equal(outcome.kind, 'run', `expected to run, got ${JSON.stringify(outcome)}`);
  return (outcome as Extract<CliOutcome, { kind: 'run' }>).options;
}

/** [exit code, first stderr line] */
async function failure(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<[number, string]> {
  const outcome = await parse(argv, env);
  assert.equal(outcome.kind, 'exit', `expected an exit for ${JSON.stringify(argv)}`);
  const exit = outcome as Extract<CliOutcome, { kind: 'exit' }>;
  assert.equal(exit.stdout, undefined);
  return [exit.code, (exit.stderr ?? '').split('\n')[0]!];
}

describe('defaults and accepted values', () => {
  test('no arguments: loopback ephemeral websocket, no auth, one request at a time', async () => {
    assert.deepEqual(await run([]), {
      listen: { kind: 'ws', host: '127.0.0.1', port: 0 },
      wsAuth: { mode: 'none' },
      concurrentRequests: 1,
      exitOnStdinClose: false,
      noUi: false,
      remote: null,
      dashboard: null,
    });
  });

  test('--listen forms the reference accepts', async () => {
    const cases: Array<[string, ServerOptions['listen']]> = [
      ['stdio', { kind: 'stdio' }],
      ['stdio://', { kind: 'stdio' }],
      ['ws://127.0.0.1:8080', { kind: 'ws', host: '127.0.0.1', port: 8080 }],
      ['ws://0.0.0.0:0', { kind: 'ws', host: '0.0.0.0', port: 0 }],
      ['ws://127.0.0.1:00', { kind: 'ws', host: '127.0.0.1', port: 0 }],
      ['ws://127.0.0.1:0000000000001', { kind: 'ws', host: '127.0.0.1', port: 1 }],
      ['ws://127.0.0.1:65535', { kind: 'ws', host: '127.0.0.1', port: 65535 }],
      ['ws://[::1]:0', { kind: 'ws', host: '::1', port: 0 }],
      ['ws://[::]:9', { kind: 'ws', host: '::', port: 9 }],
      ['ws://[0:0:0:0:0:0:0:1]:0', { kind: 'ws', host: '::1', port: 0 }],
      ['ws://[::FFFF:7f00:1]:0', { kind: 'ws', host: '::ffff:127.0.0.1', port: 0 }],
      ['ws://[::1%1]:0', { kind: 'ws', host: '::1%1', port: 0 }],
      ['ws://[::1%0]:0', { kind: 'ws', host: '::1', port: 0 }],
    ];
    for (const [url, listen] of cases) {
      assert.deepEqual((await run(['--listen', url])).listen, listen, url);
      assert.deepEqual((await run([`--listen=${url}`])).listen, listen, url);
    }
  });

  test('--concurrent-requests takes Rust usize syntax', async () => {
    assert.equal((await run(['--concurrent-requests', '5'])).concurrentRequests, 5);
    assert.equal((await run(['--concurrent-requests=+3'])).concurrentRequests, 3);
    assert.equal((await run(['--concurrent-requests', '007'])).concurrentRequests, 7);
    assert.equal((await run(['--concurrent-requests', '99999999999'])).concurrentRequests, 99999999999);
    assert.equal((await run(['--concurrent-requests', '18446744073709551615'])).concurrentRequests, Number.MAX_SAFE_INTEGER);
  });

  test('--no-ui is accepted (and exec-desk only)', async () => {
    assert.equal((await run(['--no-ui'])).noUi, true);
    assert.equal((await run([])).noUi, false);
  });

  test('--dashboard takes an optional attached port (exec-desk only)', async () => {
    assert.deepEqual((await run(['--dashboard'])).dashboard, { port: 0 });
    assert.deepEqual((await run(['--dashboard=8123'])).dashboard, { port: 8123 });
    assert.deepEqual((await run(['--dashboard', '--no-ui'])).dashboard, { port: 0 });
    assert.equal((await run([])).dashboard, null);
    const [code, first] = await failure(['--dashboard=70000']);
    assert.equal(code, 2);
    assert.match(first, /invalid value '70000' for '--dashboard\[=<PORT>\]': number too large/);
    // The value is attached only: a following word is not taken as the port.
    assert.equal((await failure(['--dashboard', '8123']))[0], 2);
  });

  test('values may start with a dash when attached, and `-` alone is a value', async () => {
    const options = await run(['--ws-auth', 'signed-bearer-token', '--ws-shared-secret-file', 'secret32.txt', '--ws-issuer=-foo', '--ws-audience', '-']);
    assert.equal(options.wsAuth.mode === 'signed-bearer-token' && options.wsAuth.issuer, '-foo');
    assert.equal(options.wsAuth.mode === 'signed-bearer-token' && options.wsAuth.audience, '-');
  });

  test('a trailing `--` is fine', async () => {
    assert.deepEqual((await run(['--listen', 'stdio', '--'])).listen, { kind: 'stdio' });
  });
});

describe('--exit-on-stdin-close and its env var', () => {
  const ENV = 'CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE';

  test('flag sets it; env var only counts as `true` / `false` exactly', async () => {
    assert.equal((await run(['--exit-on-stdin-close'])).exitOnStdinClose, true);
    assert.equal((await run([], { [ENV]: 'true' })).exitOnStdinClose, true);
    assert.equal((await run([], { [ENV]: 'false' })).exitOnStdinClose, false);
    assert.equal((await run([], {})).exitOnStdinClose, false);
  });

  test('any other env value is a clap usage error (exit 2)', async () => {
    for (const value of ['1', '0', 'TRUE', 'True', 'yes', 'on', ' true', 'true ']) {
      const outcome = await parse([], { [ENV]: value });
      assert.deepEqual(outcome, {
        kind: 'exit',
        code: 2,
        stderr: `error: invalid value '${value}' for '--exit-on-stdin-close'\n  [possible values: true, false]\n\nFor more information, try '--help'.\n`,
      });
    }
    assert.deepEqual(await failure([], { [ENV]: '' }), [2, "error: a value is required for '--exit-on-stdin-close' but none was supplied"]);
  });

  test('the env var is ignored when the flag is given, and checked only after argv', async () => {
    assert.equal((await run(['--exit-on-stdin-close'], { [ENV]: '1' })).exitOnStdinClose, true);
    assert.deepEqual(await failure(['--foo'], { [ENV]: '1' }), [2, "error: unexpected argument '--foo' found"]);
    assert.deepEqual(await failure(['--concurrent-requests', 'abc'], { [ENV]: '1' }), [
      2,
      "error: invalid value 'abc' for '--concurrent-requests <COUNT>': invalid digit found in string",
    ]);
    assert.deepEqual(await failure(['--ws-issuer', 'x'], { [ENV]: '1' }), [2, "error: invalid value '1' for '--exit-on-stdin-close'"]);
  });
});

describe('help and version', () => {
  test('-h, --help and `help` print help on stdout and exit 0', async () => {
    for (const argv of [['-h'], ['--help'], ['help'], ['-h', '--foo'], ['-hx'], ['--concurrent-requests', 'abc', 'help']]) {
      const outcome = await parse(argv);
      assert.equal(outcome.kind, 'exit');
      const exit = outcome as Extract<CliOutcome, { kind: 'exit' }>;
      assert.equal(exit.code, 0, JSON.stringify(argv));
      assert.match(exit.stdout ?? '', /^Usage: exec-desk \[OPTIONS\]/);
      assert.equal(exit.stderr, undefined);
    }
  });

  test('help lists every flag of the table', () => {
    const text = helpText('1.2.3');
    for (const flag of LOCAL_FLAGS) assert.ok(text.includes(flag.long), flag.long);
    assert.ok(text.includes('CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE'));
  });

  test('-V / --version print `exec-desk <package version>`', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const argv of [['-V'], ['--version']]) {
      assert.deepEqual(await parseCli(argv, {}), { kind: 'exit', code: 0, stdout: `exec-desk ${pkg.version}\n` });
    }
    assert.deepEqual(await parseCli(['-V'], {}, { version: '9.9.9' }), { kind: 'exit', code: 0, stdout: 'exec-desk 9.9.9\n' });
  });
});

/**
 * Usage errors, each observed on `codex exec-server` 0.169.0: exit 2 and this first line.
 * (The reference's later lines — usage line, "tip:" hints — are approximated, not copied.)
 */
const USAGE_ERRORS: Array<[string[], string]> = [
  [['--foo'], "error: unexpected argument '--foo' found"],
  [['--foo=bar'], "error: unexpected argument '--foo' found"],
  [['-x'], "error: unexpected argument '-x' found"],
  [['-xyz'], "error: unexpected argument '-x' found"],
  [['-xh'], "error: unexpected argument '-x' found"],
  [['--lis', 'ws://127.0.0.1:0'], "error: unexpected argument '--lis' found"],
  [['--listen-foo'], "error: unexpected argument '--listen-foo' found"],
  [['foo'], "error: unrecognized subcommand 'foo'"],
  [['--', 'foo'], "error: unrecognized subcommand 'foo'"],
  [['--', '--listen'], "error: unrecognized subcommand '--listen'"],
  [['foo', '--listen'], "error: unrecognized subcommand 'foo'"],
  [['help', 'foo'], "error: unrecognized subcommand 'foo'"],
  [['help', '--foo'], "error: unrecognized subcommand '--foo'"],
  [['--', 'help'], "error: unexpected argument 'help' found"],
  [['--ws-auth', 'bogus'], "error: invalid value 'bogus' for '--ws-auth <MODE>'"],
  [['--ws-auth', 'Capability-Token'], "error: invalid value 'Capability-Token' for '--ws-auth <MODE>'"],
  [['--ws-auth'], "error: a value is required for '--ws-auth <MODE>' but none was supplied"],
  [['--ws-auth', ''], "error: a value is required for '--ws-auth <MODE>' but none was supplied"],
  [['--ws-auth='], "error: a value is required for '--ws-auth <MODE>' but none was supplied"],
  [['--ws-auth', '-h'], "error: a value is required for '--ws-auth <MODE>' but none was supplied"],
  [['--ws-token-file', ''], "error: a value is required for '--ws-token-file <PATH>' but none was supplied"],
  [['--ws-shared-secret-file='], "error: a value is required for '--ws-shared-secret-file <PATH>' but none was supplied"],
  [['--ws-issuer'], "error: a value is required for '--ws-issuer <ISSUER>' but none was supplied"],
  [['--listen'], "error: a value is required for '--listen <URL>' but none was supplied"],
  [['--listen', '--ws-auth', 'capability-token'], "error: a value is required for '--listen <URL>' but none was supplied"],
  [['--listen', '-h'], "error: a value is required for '--listen <URL>' but none was supplied"],
  [['--listen', '--help'], "error: a value is required for '--listen <URL>' but none was supplied"],
  [['--listen', '--'], "error: a value is required for '--listen <URL>' but none was supplied"],
  [['--listen', 'x', '--listen'], "error: a value is required for '--listen <URL>' but none was supplied"],
  [['--listen', '-x'], "error: unexpected argument '-x' found"],
  [['--listen', '--foo'], "error: unexpected argument '--foo' found"],
  [['--listen', '--', 'stdio'], "error: unrecognized subcommand 'stdio'"],
  [['--ws-issuer', '-foo'], "error: unexpected argument '-f' found"],
  [['--listen', 'ws://127.0.0.1:0', '--listen', 'ws://127.0.0.1:0'], "error: the argument '--listen <URL>' cannot be used multiple times"],
  [['--concurrent-requests', '1', '--concurrent-requests', '2'], "error: the argument '--concurrent-requests <COUNT>' cannot be used multiple times"],
  [['--exit-on-stdin-close', '--exit-on-stdin-close'], "error: the argument '--exit-on-stdin-close' cannot be used multiple times"],
  [['--no-ui', '--no-ui'], "error: the argument '--no-ui' cannot be used multiple times"],
  [['--exit-on-stdin-close=true'], "error: unexpected value 'true' for '--exit-on-stdin-close' found; no more were expected"],
  [['--exit-on-stdin-close='], "error: unexpected value '' for '--exit-on-stdin-close' found; no more were expected"],
  [['--help=1'], "error: unexpected value '1' for '--help' found; no more were expected"],
  [['--concurrent-requests', '0'], "error: invalid value '0' for '--concurrent-requests <COUNT>': number would be zero for non-zero type"],
  [['--concurrent-requests', '+0'], "error: invalid value '+0' for '--concurrent-requests <COUNT>': number would be zero for non-zero type"],
  [['--concurrent-requests', '-1'], "error: unexpected argument '-1' found"],
  [['--concurrent-requests=-1'], "error: invalid value '-1' for '--concurrent-requests <COUNT>': invalid digit found in string"],
  [['--concurrent-requests', 'abc'], "error: invalid value 'abc' for '--concurrent-requests <COUNT>': invalid digit found in string"],
  [['--concurrent-requests', '1.0'], "error: invalid value '1.0' for '--concurrent-requests <COUNT>': invalid digit found in string"],
  [['--concurrent-requests', '+'], "error: invalid value '+' for '--concurrent-requests <COUNT>': invalid digit found in string"],
  [['--concurrent-requests', ''], "error: invalid value '' for '--concurrent-requests <COUNT>': cannot parse integer from empty string"],
  [['--concurrent-requests', '18446744073709551616'], "error: invalid value '18446744073709551616' for '--concurrent-requests <COUNT>': number too large to fit in target type"],
  [['--ws-max-clock-skew-seconds', 'abc'], "error: invalid value 'abc' for '--ws-max-clock-skew-seconds <SECONDS>': invalid digit found in string"],
  [['--ws-max-clock-skew-seconds', ''], "error: invalid value '' for '--ws-max-clock-skew-seconds <SECONDS>': cannot parse integer from empty string"],
  [['--ws-max-clock-skew-seconds', '18446744073709551616'], "error: invalid value '18446744073709551616' for '--ws-max-clock-skew-seconds <SECONDS>': number too large to fit in target type"],
  // clap's order: an option's value is validated when the next known flag (or the end) arrives
  [['--concurrent-requests', 'abc', '--foo'], "error: unexpected argument '--foo' found"],
  [['--foo', '--concurrent-requests', 'abc'], "error: unexpected argument '--foo' found"],
  [['--concurrent-requests', 'abc', 'foo'], "error: unrecognized subcommand 'foo'"],
  [['--concurrent-requests', 'abc', '--', 'foo'], "error: unrecognized subcommand 'foo'"],
  [['--concurrent-requests', 'abc', '--exit-on-stdin-close=true'], "error: unexpected value 'true' for '--exit-on-stdin-close' found; no more were expected"],
  [['--concurrent-requests', 'abc', '--exit-on-stdin-close', '--exit-on-stdin-close'], "error: invalid value 'abc' for '--concurrent-requests <COUNT>': invalid digit found in string"],
  [['--concurrent-requests', 'abc', '-h'], "error: invalid value 'abc' for '--concurrent-requests <COUNT>': invalid digit found in string"],
  [['--concurrent-requests', 'abc', '--'], "error: invalid value 'abc' for '--concurrent-requests <COUNT>': invalid digit found in string"],
  [['--ws-auth', 'bogus', '--ws-auth', 'capability-token'], "error: invalid value 'bogus' for '--ws-auth <MODE>'"],
  [['--ws-auth', 'capability-token', '--ws-auth', 'bogus'], "error: the argument '--ws-auth <MODE>' cannot be used multiple times"],
  [['--ws-auth', 'capability-token', '--ws-auth', 'bogus', '--foo'], "error: unexpected argument '--foo' found"],
  [['--ws-auth', 'capability-token', '--ws-auth'], "error: a value is required for '--ws-auth <MODE>' but none was supplied"],
  [['--foo', '--help'], "error: unexpected argument '--foo' found"],
];

/** Configuration errors (exit 1, `Error: ` + this), each observed on the reference. */
function configErrors(d: string): Array<[string[], string]> {
  const anyMode = 'websocket auth flags require `--ws-auth capability-token` or `--ws-auth signed-bearer-token`';
  const jwtFlags =
    '`--ws-shared-secret-file`, `--ws-issuer`, `--ws-audience`, and `--ws-max-clock-skew-seconds` require `--ws-auth signed-bearer-token`';
  const tokenFlags = '`--ws-token-file` and `--ws-token-sha256` require `--ws-auth capability-token`, not `signed-bearer-token`';
  const badSha = '--ws-token-sha256 must be a 64-character hex SHA-256 digest';
  const unsupported = (url: string) => `unsupported --listen URL \`${url}\`; expected \`ws://IP:PORT\` or \`stdio\``;
  const invalid = (url: string) => `invalid websocket --listen URL \`${url}\`; expected \`ws://IP:PORT\``;
  const cap = ['--ws-auth', 'capability-token'];
  const jwt = ['--ws-auth', 'signed-bearer-token'];
  const cases: Array<[string[], string]> = [
    ...['http://127.0.0.1:0', 'WS://127.0.0.1:0', 'STDIO', 'stdio:', 'stdio://x', 'stdio ', '', ' ws://127.0.0.1:0', 'ws:', 'unix:///tmp/x.sock'].map(
      (url): [string[], string] => [['--listen', url], unsupported(url)],
    ),
    ...[
      'ws://localhost:1234',
      'ws://127.0.0.1:70000',
      'ws://127.0.0.1:65536',
      'ws://[::1]:99999',
      'ws://127.0.0.1',
      'ws://127.0.0.1:',
      'ws://127.0.0.1:0/',
      'ws://127.0.0.1:0/path',
      'ws://127.0.0.1:0?x=1',
      'ws://user@127.0.0.1:0',
      'ws://127.0.0.1:+5',
      'ws://127.0.0.1: 5',
      'ws://127.0.0.1:0 ',
      'ws://127.1:0',
      'ws://127.0.0.01:0',
      'ws://127.000.0.1:0',
      'ws://256.0.0.1:0',
      'ws://[::1]',
      'ws://::1:0',
      'ws://[fe80::1%eth0]:0',
      'ws://[::1%lo]:0',
      'ws://:0',
      'ws://',
      'ws://[1:2:3:4:5:6:7:8:9]:0',
      'ws://[1.2.3.4::]:0',
      'ws://[00001::]:0',
    ].map((url): [string[], string] => [['--listen', url], invalid(url)]),
    [['--ws-token-file', 'tok.txt'], anyMode],
    [['--ws-token-sha256', TOKEN_SHA], anyMode],
    [['--ws-shared-secret-file', 'secret32.txt'], anyMode],
    [['--ws-issuer', 'x'], anyMode],
    [['--ws-audience', 'x'], anyMode],
    [['--ws-max-clock-skew-seconds', '5'], anyMode],
    [['--ws-max-clock-skew-seconds', '9223372036854775808'], anyMode],
    [[...cap], '`--ws-token-file` or `--ws-token-sha256` is required when `--ws-auth capability-token` is set'],
    [[...cap, '--ws-token-file', 'tok.txt', '--ws-token-sha256', TOKEN_SHA], '`--ws-token-file` and `--ws-token-sha256` are mutually exclusive'],
    [[...cap, '--ws-token-file', '/nonexistent', '--ws-token-sha256', 'abc'], '`--ws-token-file` and `--ws-token-sha256` are mutually exclusive'],
    [[...cap, '--ws-token-file', 'tok.txt', '--ws-issuer', 'x'], jwtFlags],
    [[...cap, '--ws-issuer', ''], jwtFlags],
    [[...cap, '--ws-token-sha256', TOKEN_SHA, '--ws-max-clock-skew-seconds', '5'], jwtFlags],
    [[...cap, '--ws-token-sha256', 'abc', '--ws-audience', 'x'], jwtFlags],
    [[...cap, '--ws-token-sha256', 'abc'], badSha],
    [[...cap, '--ws-token-sha256', ''], badSha],
    [[...cap, '--ws-token-sha256', `${TOKEN_SHA.slice(0, 63)}g`], badSha],
    [[...cap, '--ws-token-file', '/nonexistent/tok'], 'failed to read websocket auth secret /nonexistent/tok: No such file or directory (os error 2)'],
    [[...cap, '--ws-token-file', 'nope.txt'], `failed to read websocket auth secret ${join(d, 'nope.txt')}: No such file or directory (os error 2)`],
    [[...cap, '--ws-token-file', './sub/../nope.txt'], `failed to read websocket auth secret ${join(d, 'nope.txt')}: No such file or directory (os error 2)`],
    [[...cap, '--ws-token-file', 'sub'], `failed to read websocket auth secret ${join(d, 'sub')}: Is a directory (os error 21)`],
    [[...cap, '--ws-token-file', 'blank.txt'], `websocket auth secret ${join(d, 'blank.txt')} must not be empty`],
    [[...jwt], '`--ws-shared-secret-file` is required when `--ws-auth signed-bearer-token` is set'],
    [[...jwt, '--ws-token-file', 'tok.txt'], tokenFlags],
    [[...jwt, '--ws-token-sha256', 'abc'], tokenFlags],
    [[...jwt, '--ws-shared-secret-file', '/nonexistent', '--ws-token-file', 'tok.txt'], tokenFlags],
    [[...jwt, '--ws-shared-secret-file', 'secret31.txt'], `signed websocket bearer secret ${join(d, 'secret31.txt')} must be at least 32 bytes`],
    [[...jwt, '--ws-shared-secret-file', 'blank.txt'], `websocket auth secret ${join(d, 'blank.txt')} must not be empty`],
    [[...jwt, '--ws-shared-secret-file', '/nonexistent'], 'failed to read websocket auth secret /nonexistent: No such file or directory (os error 2)'],
    [[...jwt, '--ws-shared-secret-file', 'secret32.txt', '--ws-max-clock-skew-seconds', '9223372036854775808'], 'websocket auth clock skew must fit in a signed 64-bit integer'],
    // order: flag combinations and the digest, then --listen, then stdio vs auth, then files
    [[...cap, '--ws-token-sha256', 'abc', '--listen', 'http://x'], badSha],
    [['--listen', 'http://x', ...cap], '`--ws-token-file` or `--ws-token-sha256` is required when `--ws-auth capability-token` is set'],
    [['--listen', 'http://x', '--ws-issuer', 'x'], anyMode],
    [['--listen', 'ws://localhost:1', ...cap, '--ws-token-file', '/nonexistent'], invalid('ws://localhost:1')],
    [[...jwt, '--ws-shared-secret-file', 'secret31.txt', '--listen', 'http://x'], unsupported('http://x')],
    [['--listen', 'stdio', ...cap, '--ws-token-file', '/nonexistent'], 'WebSocket auth requires a WebSocket listener, not stdio'],
    [['--listen', 'stdio', ...cap, '--ws-token-sha256', TOKEN_SHA], 'WebSocket auth requires a WebSocket listener, not stdio'],
    [['--listen', 'stdio', ...jwt, '--ws-shared-secret-file', 'secret31.txt'], 'WebSocket auth requires a WebSocket listener, not stdio'],
    [['--listen', 'stdio', ...cap], '`--ws-token-file` or `--ws-token-sha256` is required when `--ws-auth capability-token` is set'],
    [[...jwt, '--ws-shared-secret-file', '/nonexistent', '--ws-max-clock-skew-seconds', '9223372036854775808'], 'failed to read websocket auth secret /nonexistent: No such file or directory (os error 2)'],
    [[...jwt, '--ws-shared-secret-file', 'secret31.txt', '--ws-max-clock-skew-seconds', '9223372036854775808'], `signed websocket bearer secret ${join(d, 'secret31.txt')} must be at least 32 bytes`],
  ];
  return cases;
}

describe('usage errors (clap): exit 2', () => {
  test('each case gives the reference first line', async () => {
    for (const [argv, first] of USAGE_ERRORS) {
      assert.deepEqual(await failure(argv), [2, first], JSON.stringify(argv));
    }
  });

  test('message layout: possible values, usage line only where clap prints one', async () => {
    assert.deepEqual(await parse(['--ws-auth', 'bogus']), {
      kind: 'exit',
      code: 2,
      stderr:
        "error: invalid value 'bogus' for '--ws-auth <MODE>'\n  [possible values: capability-token, signed-bearer-token]\n\nFor more information, try '--help'.\n",
    });
    assert.deepEqual(await parse(['--foo']), {
      kind: 'exit',
      code: 2,
      stderr: "error: unexpected argument '--foo' found\n\nUsage: exec-desk [OPTIONS] [COMMAND]\n\nFor more information, try '--help'.\n",
    });
    assert.deepEqual(await parse(['--listen']), {
      kind: 'exit',
      code: 2,
      stderr: "error: a value is required for '--listen <URL>' but none was supplied\n\nFor more information, try '--help'.\n",
    });
  });
});

describe('configuration errors: exit 1, `Error: <sentence>`', () => {
  test('each case gives the reference sentence', async () => {
    for (const [argv, sentence] of configErrors(dir)) {
      assert.deepEqual(await parse(argv), { kind: 'exit', code: 1, stderr: `Error: ${sentence}\n` }, JSON.stringify(argv));
    }
  });

  test('valid auth setups load the files', async () => {
    const cap = await run(['--ws-auth', 'capability-token', '--ws-token-file', 'tok.txt']);
    assert.deepEqual(cap.wsAuth, { mode: 'capability-token', tokenSha256: Buffer.from(TOKEN_SHA, 'hex') });
    const capSha = await run(['--ws-auth', 'capability-token', '--ws-token-sha256', TOKEN_SHA.toUpperCase()]);
    assert.deepEqual(capSha.wsAuth, cap.wsAuth);
    const jwt = await run([
      '--ws-auth',
      'signed-bearer-token',
      '--ws-shared-secret-file',
      join(dir, 'secret32.txt'),
      '--ws-issuer',
      ' iss ',
      '--ws-audience',
      'aud',
      '--ws-max-clock-skew-seconds',
      '+10',
    ]);
    assert.deepEqual(jwt.wsAuth, {
      mode: 'signed-bearer-token',
      secret: new Uint8Array(Buffer.from(SECRET)),
      maxClockSkewSeconds: 10,
      issuer: 'iss',
      audience: 'aud',
    });
    const defaults = await run(['--ws-auth', 'signed-bearer-token', '--ws-shared-secret-file', 'secret32.txt', '--ws-issuer', '']);
    assert.deepEqual(defaults.wsAuth, { mode: 'signed-bearer-token', secret: new Uint8Array(Buffer.from(SECRET)), maxClockSkewSeconds: 30 });
  });
});

describe('bind time', () => {
  const none = { mode: 'none' } as const;
  const refusal = (addr: string) =>
    `Error: refusing to start non-loopback websocket listener ${addr} without auth; configure \`--ws-auth capability-token\` or \`--ws-auth signed-bearer-token\`\n`;

  test('non-loopback without auth is refused (exit 1, app-server wording and address rendering)', async () => {
    const listen = (await run(['--listen', 'ws://0.0.0.0:0'])).listen;
    assert.deepEqual(checkBindAllowed(listen, none), { kind: 'exit', code: 1, stderr: refusal('0.0.0.0:0') });
    assert.deepEqual(checkBindAllowed({ kind: 'ws', host: '::', port: 0 }, none), { kind: 'exit', code: 1, stderr: refusal('[::]:0') });
    assert.deepEqual(checkBindAllowed({ kind: 'ws', host: '192.0.2.2', port: 8080 }, none), { kind: 'exit', code: 1, stderr: refusal('192.0.2.2:8080') });
    // Rust's is_loopback: a v4-mapped 127.x is not loopback
    assert.deepEqual(checkBindAllowed({ kind: 'ws', host: '::ffff:127.0.0.1', port: 1 }, none), {
      kind: 'exit',
      code: 1,
      stderr: refusal('[::ffff:127.0.0.1]:1'),
    });
  });

  test('allowed: loopback, any auth, stdio, or strict reference parity', () => {
    assert.equal(checkBindAllowed({ kind: 'ws', host: '127.0.0.1', port: 0 }, none), null);
    assert.equal(checkBindAllowed({ kind: 'ws', host: '127.200.0.9', port: 0 }, none), null);
    assert.equal(checkBindAllowed({ kind: 'ws', host: '::1', port: 0 }, none), null);
    assert.equal(checkBindAllowed({ kind: 'stdio' }, none), null);
    const auth = { mode: 'capability-token', tokenSha256: Buffer.alloc(32) } as const;
    assert.equal(checkBindAllowed({ kind: 'ws', host: '0.0.0.0', port: 0 }, auth), null);
    assert.equal(checkBindAllowed({ kind: 'ws', host: '0.0.0.0', port: 0 }, none, { allowUnauthenticatedNonLoopback: true }), null);
  });

  test('bind failures render like the reference', () => {
    assert.deepEqual(bindFailure(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', errno: -98 })), {
      kind: 'exit',
      code: 1,
      stderr: 'Error: Address in use (os error 98)\n',
    });
    assert.deepEqual(bindFailure({ code: 'EADDRNOTAVAIL' }), { kind: 'exit', code: 1, stderr: 'Error: Address not available (os error 99)\n' });
  });
});

describe('address helpers', () => {
  test('parseRustSocketAddr follows Rust acceptance rules', () => {
    for (const ok of ['1.2.3.4:5', '[::]:1', '[1::]:1', '[::1.2.3.4]:1', '[1:2:3:4:5:6:1.2.3.4]:1', '[1:2:3:4:5:6:7:8]:1', '[0001::]:1', '[::1%4294967295]:1', '0.0.0.0:65535']) {
      assert.notEqual(parseRustSocketAddr(ok), null, ok);
    }
    for (const bad of ['1.2.3:5', '1.2.3.4.5:1', '01.2.3.4:1', '1.2.3.4:65536', '[::1%4294967296]:1', '[1:2:3:4:5:6:7:8:9]:1', '[1::2::3]:1', '[::1]', '::1:1', '[::g]:1', 'a.b.c.d:1', '1.2.3.4:-1']) {
      assert.equal(parseRustSocketAddr(bad), null, bad);
    }
  });

  test('formatSocketAddr prints like Rust', () => {
    assert.equal(formatSocketAddr('0.0.0.0', 0), '0.0.0.0:0');
    assert.equal(formatSocketAddr('::', 80), '[::]:80');
    assert.equal(formatSocketAddr('0:0:0:0:0:0:0:1', 80), '[::1]:80');
    assert.equal(formatSocketAddr('::FFFF:7f00:1', 1), '[::ffff:127.0.0.1]:1');
    assert.equal(formatSocketAddr('1:0:0:2:0:0:0:3', 1), '[1:0:0:2::3]:1');
    assert.equal(formatSocketAddr('1:0:0:2:0:0:3:4', 1), '[1::2:0:0:3:4]:1'); // first of equal runs
    assert.equal(formatSocketAddr('1:0:2:3:4:5:6:7', 1), '[1:0:2:3:4:5:6:7]:1'); // a single zero is not compressed
    assert.equal(formatSocketAddr('fe80::1%2', 9), '[fe80::1%2]:9');
  });

  test('isLoopbackHost matches Rust is_loopback', () => {
    assert.equal(isLoopbackHost('127.0.0.1'), true);
    assert.equal(isLoopbackHost('127.255.0.1'), true);
    assert.equal(isLoopbackHost('::1'), true);
    assert.equal(isLoopbackHost('0.0.0.0'), false);
    assert.equal(isLoopbackHost('::'), false);
    assert.equal(isLoopbackHost('::ffff:127.0.0.1'), false);
    assert.equal(isLoopbackHost('128.0.0.1'), false);
  });

  test('parseListenUrl throws the reference messages', () => {
    assert.throws(() => parseListenUrl('http://x'), { message: 'unsupported --listen URL `http://x`; expected `ws://IP:PORT` or `stdio`' });
    assert.throws(() => parseListenUrl('ws://localhost:1'), { message: 'invalid websocket --listen URL `ws://localhost:1`; expected `ws://IP:PORT`' });
  });

  test('parseRustUnsigned: Rust from_str errors, in scan order', () => {
    assert.deepEqual(parseRustUnsigned('18446744073709551615'), { value: 18446744073709551615n });
    assert.deepEqual(parseRustUnsigned('18446744073709551616x'), { error: 'number too large to fit in target type' });
    assert.deepEqual(parseRustUnsigned('1x8446744073709551616'), { error: 'invalid digit found in string' });
    assert.deepEqual(parseRustUnsigned('-0'), { error: 'invalid digit found in string' });
    assert.deepEqual(parseRustUnsigned(''), { error: 'cannot parse integer from empty string' });
  });
});

/**
 * The same argv against the reference binary: exit code and first stderr line must agree.
 * Every case above (they all fail at once, so no server is started). RUST_BACKTRACE is removed because with it
 * the reference appends a stack trace to `Error:` messages.
 */
/** Flags whose handling deliberately differs: exec-desk's own `--no-ui`; the reference's remote mode. */
const EXEC_DESK_ONLY_OR_REMOTE = new Set(['--no-ui', '--remote', '--environment-id']);

describe('differential check against codex exec-server', { skip: !referenceAvailable() && 'reference binary not installed' }, () => {
  test('usage and configuration errors match the reference', () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.RUST_BACKTRACE;
    delete env.CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE;
    const sample: Array<[string[], number]> = [
      ...USAGE_ERRORS.map(([argv]): [string[], number] => [argv, 2]),
      ...configErrors(dir).map(([argv]): [string[], number] => [argv, 1]),
    ].filter(([argv]) => !argv.some((a) => EXEC_DESK_ONLY_OR_REMOTE.has(a)));
    return (async () => {
      for (const [argv, code] of sample) {
        const ref = spawnSync(referenceBin, ['exec-server', ...argv], { cwd: dir, env, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
        const mine = await parse(argv);
        const mineExit = mine as Extract<CliOutcome, { kind: 'exit' }>;
        assert.equal(ref.status, code, `reference exit for ${JSON.stringify(argv)}: ${ref.stderr}`);
        assert.equal(mineExit.code, code, JSON.stringify(argv));
        assert.equal((mineExit.stderr ?? '').split('\n')[0], ref.stderr.split('\n')[0], JSON.stringify(argv));
      }
    })();
  });
});
