/** Process scenarios (§6): start, output, exit codes, tty, stdin, signals, read/long-poll, errors, env. */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario, TracedClient } from '../harness.ts';

/** Index in the connection's received frames of the first frame matching `pred` (-1 if none). */
function frameIndex(c: TracedClient, pred: (m: any) => boolean): number {
  return c.rpc.frames.findIndex((f) => pred(f.message));
}

const basic: Scenario = {
  name: 'processes/basic',
  spec: '§6.1 §6.2 §6.7',
  description: 'start → output (stdout/stderr separated) → exited → closed; exit codes and 128+signal for non-tty kills',
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    await c.shToClose('p1', 'echo out1; echo err1 >&2; sleep 0.2; echo out2; exit 3');
    await c.read('p1', { afterSeq: 0 });
    // Not compared: whether the process/start response precedes the first process/output. The reference
    // usually answers first, but about 1 in 20 starts the output notification arrives before the response.
    const cases: Array<[string, string]> = [
      ['ok', 'true'],
      ['one', 'exit 1'],
      ['max', 'exit 255'],
      ['wrap', 'exit 256'],
      ['term', 'kill -TERM $$'],
      ['kill', 'kill -KILL $$'],
      ['int', 'kill -INT $$'],
      ['hup', 'kill -HUP $$'],
      ['silent', ':'],
      ['nonl', 'printf no-newline'],
    ];
    // These run concurrently; each one's notifications are folded on their own line.
    for (const [pid, script] of cases) await c.sh(pid, script);
    // Direct exec (no shell), an empty processId and a binary-safe output.
    await c.start('direct', ['/bin/echo', 'direct', 'exec']);
    await c.start('', ['/bin/echo', 'empty id']);
    await c.sh('bytes', "printf '\\000\\001\\377\\376'");
    await c.sh('unicode', "printf 'h\\303\\251llo w\\303\\266rld\\n'");
    for (const pid of [...cases.map(([pid]) => pid), 'direct', '', 'bytes', 'unicode']) await c.waitClosed(pid);
  },
};

const tty: Scenario = {
  name: 'processes/tty',
  spec: '§6.1 §6.2 §6.4',
  description: 'tty: 24x80, \\r\\n line discipline, stderr merged into pty, SHELL/TERM seen by the child, input echo, exit codes',
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    await c.shToClose('info', 'stty size; echo "SHELL=$SHELL TERM=${TERM-unset}"; printf "a\\nb\\n"; echo to-err >&2; [ -t 0 ] && echo stdin-is-tty; [ -t 1 ] && echo stdout-is-tty; exit 5', { tty: true });
    await c.sh('echo', 'read line; echo got:$line; read line2; echo got2:$line2', { tty: true });
    await c.write('echo', 'abc\n', 'w1');
    await c.waitOutput('echo', 'got:abc');
    // Same writeId again: acknowledged, not written.
    await c.write('echo', 'dup\n', 'w1');
    await c.write('echo', 'def\r', 'w2');
    await c.waitClosed('echo');
    await c.read('echo', { afterSeq: 0 });
    await c.write('echo', 'after-exit\n', 'w3');
    // tty + pipeStdin together.
    await c.sh('both', 'read x; echo both:$x', { tty: true, pipeStdin: true });
    await c.write('both', 'z\n', 'w1');
    await c.waitClosed('both');
  },
};

const stdin: Scenario = {
  name: 'processes/stdin',
  spec: '§6.1 §6.4',
  description: 'pipeStdin write + read back, writeId idempotency, empty chunk, every write status, stdin /dev/null without pipeStdin',
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    await c.start('cat', ['/bin/cat'], { pipeStdin: true });
    await c.write('cat', 'hello\n', 'w1');
    await c.waitOutput('cat', 'hello\n');
    await c.write('cat', 'again\n', 'w1');
    await c.write('cat', '', 'w-empty');
    await c.write('cat', 'bye\n', 'w2');
    await c.waitOutput('cat', 'bye\n');
    await c.request('process/signal', { processId: 'cat', signal: 'interrupt' });
    await c.waitClosed('cat');
    await c.write('cat', 'late\n', 'w3');
    await c.write('cat', 'late\n', 'w1');
    // A 1 MiB write comes back whole.
    await c.start('bigcat', ['/bin/cat'], { pipeStdin: true });
    await c.write('bigcat', Buffer.alloc(1048576, 0x61), 'w1');
    await c.until(() => Buffer.byteLength(c.output('bigcat')) >= 1048576);
    await c.terminateProcess('bigcat');
    await c.waitClosed('bigcat');
    // No pipeStdin: stdin is /dev/null.
    await c.start('devnull', ['/bin/cat']);
    await c.waitClosed('devnull');
    await c.start('sleeper', ['/bin/sleep', '5'], { pipeStdin: false });
    await c.write('sleeper', 'x', 'w1');
    await c.terminateProcess('sleeper');
    await c.waitClosed('sleeper');
    await c.write('sleeper', 'x', 'w2');
    await c.write('never-started', 'x', 'w1');
    // Invalid writes.
    await c.request('process/write', { processId: 'cat', chunk: 'not base64!', writeId: 'w9' });
    await c.request('process/write', { processId: 'cat', chunk: 'eA==', writeId: '' });
  },
};

const signals: Scenario = {
  name: 'processes/signals',
  spec: '§6.5 §6.2',
  description: 'interrupt → 130 / trap; terminate → 137 (process group, TERM trap ignored), running:false the second time; tty killed → 1',
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    await c.start('sleep-int', ['/bin/sleep', '5']);
    await c.request('process/signal', { processId: 'sleep-int', signal: 'interrupt' });
    await c.waitClosed('sleep-int');
    await c.sh('trap-int', 'trap "echo got-int; exit 7" INT; echo ready; while :; do sleep 0.05; done');
    await c.waitOutput('trap-int', 'ready\n');
    await c.request('process/signal', { processId: 'trap-int', signal: 'interrupt' });
    await c.waitClosed('trap-int');
    await c.request('process/signal', { processId: 'trap-int', signal: 'interrupt' });

    await c.start('sleep-kill', ['/bin/sleep', '5']);
    await c.terminateProcess('sleep-kill');
    await c.waitClosed('sleep-kill');
    await c.terminateProcess('sleep-kill');
    await c.terminateProcess('never-started');
    // The whole process group dies: the background sleep holding stdout open too (closed comes at once).
    await c.sh('group', 'sleep 5 & echo bg-started; trap "" TERM; wait');
    await c.waitOutput('group', 'bg-started\n');
    await c.terminateProcess('group');
    await c.waitClosed('group', 2000);

    await c.start('tty-kill', ['/bin/sleep', '5'], { tty: true });
    await c.terminateProcess('tty-kill');
    await c.waitClosed('tty-kill');
    await c.sh('tty-int', 'trap "echo got-int; exit 9" INT; echo ready; while :; do sleep 0.05; done', { tty: true });
    await c.waitOutput('tty-int', 'ready');
    await c.request('process/signal', { processId: 'tty-int', signal: 'interrupt' });
    await c.waitClosed('tty-int');
    await c.start('tty-sleep-int', ['/bin/sleep', '5'], { tty: true });
    await ctx.sleep(50);
    await c.request('process/signal', { processId: 'tty-sleep-int', signal: 'interrupt' });
    await c.waitClosed('tty-sleep-int');
  },
};

const readPagination: Scenario = {
  name: 'processes/read-pagination',
  spec: '§6.3 §6.6 §6.7',
  description: 'process/read with afterSeq/maxBytes pages (lines written with pauses so chunking is deterministic), nextSeq, beyond the end',
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    await c.shToClose('lines', 'for i in 1 2 3 4 5 6; do echo line$i; sleep 0.05; done');
    // Pages of ≤ 12 bytes, following nextSeq - 1 as a client would.
    let afterSeq = 0;
    for (let page = 0; page < 5; page++) {
      const reply = await c.read('lines', { afterSeq, maxBytes: 12 });
      const result = reply.result as { chunks: unknown[]; nextSeq: number } | undefined;
      if (!result || result.chunks.length === 0) break;
      afterSeq = result.nextSeq - 1;
    }
    await c.read('lines', { afterSeq: 0 });
    await c.read('lines', { afterSeq: 0, maxBytes: 0 });
    await c.read('lines', { afterSeq: 0, maxBytes: 1 });
    await c.read('lines', { afterSeq: 0, maxBytes: 13 });
    await c.read('lines', { afterSeq: null, maxBytes: null, waitMs: null });
    await c.read('lines', {});
    await c.read('lines', { afterSeq: 1000 });
    await c.read('lines', { afterSeq: 1000, waitMs: 3000 });
    // Mixed streams.
    await c.shToClose('mixed', 'echo o1; sleep 0.05; echo e1 >&2; sleep 0.05; echo o2');
    await c.read('mixed', { afterSeq: 0 });
    await c.read('mixed', { afterSeq: 0, maxBytes: 3 });
  },
};

const longPoll: Scenario = {
  name: 'processes/long-poll',
  spec: '§6.3',
  description: 'waitMs returns on new output, on the deadline with no chunks, at once on a closed process',
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    await c.sh('late', 'sleep 0.3; echo late; sleep 0.6');
    await c.read('late', { afterSeq: 0, waitMs: 3000 });
    const seen = c.lastSeq('late');
    const t0 = Date.now();
    await c.read('late', { afterSeq: seen, waitMs: 200 });
    const waited = Date.now() - t0;
    ctx.fact('deadline respected (≥150 ms, < 550 ms)', waited >= 150 && waited < 550);
    await c.waitClosed('late');
    const t1 = Date.now();
    await c.read('late', { afterSeq: c.lastSeq('late'), waitMs: 3000 });
    ctx.fact('read on a closed process returns at once (< 500 ms)', Date.now() - t1 < 500);
    // Long-poll woken by exit (no output at all).
    await c.sh('exit-only', 'sleep 0.3; exit 6');
    const t2 = Date.now();
    await c.hiddenRequest('process/read', { processId: 'exit-only', afterSeq: 0, waitMs: 3000 });
    ctx.fact('long-poll woken by the exit (< 1500 ms)', Date.now() - t2 < 1500);
    await c.waitClosed('exit-only');
    await c.read('exit-only', { afterSeq: 0, waitMs: 3000 });
  },
};

const startErrors: Scenario = {
  name: 'processes/start-errors',
  spec: '§6.1 §3',
  description: 'argv empty, duplicate id, ENOENT / ENOEXEC / EACCES, missing cwd, non-URI and bad-URI cwds; no notifications after a failed spawn',
  async run(ctx) {
    writeFileSync(join(ctx.workdir, 'noexec'), 'echo hi\n');
    chmodSync(join(ctx.workdir, 'noexec'), 0o755);
    writeFileSync(join(ctx.workdir, 'notexecutable'), '#!/bin/sh\necho hi\n');
    chmodSync(join(ctx.workdir, 'notexecutable'), 0o644);
    writeFileSync(join(ctx.workdir, 'a-file'), 'x');
    const c = await ctx.connect();
    await c.handshake();
    await c.start('empty', []);
    await c.start('enoent', ['/nonexistent/program']);
    await c.start('enoent-path', ['no-such-program-xyz']);
    await c.start('enoexec', [join(ctx.workdir, 'noexec')]);
    await c.start('eacces', [join(ctx.workdir, 'notexecutable')]);
    await c.start('dir', [ctx.workdir]);
    await c.start('rel-path', ['sh', '-c', 'echo hi'], { env: { PATH: '/nonexistent' } });
    await c.start('missing-cwd', ['/bin/true'], { cwd: `${ctx.workdirUri}/missing` });
    await c.start('file-cwd', ['/bin/true'], { cwd: `${ctx.workdirUri}/a-file` });
    await c.start('plain-cwd', ['/bin/true'], { cwd: ctx.workdir });
    await c.start('http-cwd', ['/bin/true'], { cwd: 'http://example.com/x' });
    await c.start('query-cwd', ['/bin/true'], { cwd: `${ctx.workdirUri}?x=1` });
    await c.start('fragment-cwd', ['/bin/true'], { cwd: `${ctx.workdirUri}#x` });
    await c.start('windows-cwd', ['/bin/true'], { cwd: 'file:///C:/Users' });
    await c.start('relative-cwd', ['/bin/true'], { cwd: 'relative/dir' });
    await c.request('process/start', { processId: 'no-env', argv: ['/bin/true'], cwd: ctx.workdirUri, tty: false });
    await c.request('process/start', { processId: 'no-tty', argv: ['/bin/true'], cwd: ctx.workdirUri, env: {} });
    await c.request('process/start', { processId: 'no-cwd', argv: ['/bin/true'], env: {}, tty: false });
    await c.request('process/start', { argv: ['/bin/true'], cwd: ctx.workdirUri, env: {}, tty: false });
    // The failed ids are free; duplicates of a running and of an exited (retained) process are not.
    await c.start('enoent', ['/bin/sh', '-c', 'read x'], { pipeStdin: true });
    await c.start('enoent', ['/bin/true']);
    await c.terminateProcess('enoent');
    await c.waitClosed('enoent');
    await c.start('enoent', ['/bin/true']);
    await c.shToClose('ok', 'echo done');
  },
};

const env: Scenario = {
  name: 'processes/env',
  spec: '§6.1',
  description: 'env {} is the whole environment; envPolicy inherit all/core/none, default excludes, include/exclude globs, set, env overlay; arg0; PATH lookup; cwd forms',
  async run(ctx) {
    mkdirSync(join(ctx.workdir, 'a b'));
    const c = await ctx.connect();
    await c.handshake();
    // The reference's npm launcher adds CODEX_MANAGED_* to its own environment: not a protocol behaviour.
    const names = '/usr/bin/env | /usr/bin/cut -d= -f1 | /bin/grep -v "^CODEX_MANAGED_" | /usr/bin/sort';
    const confLines = '/usr/bin/env | /bin/grep "^CONF_\\|^OTHER_" | /usr/bin/sort';
    const policy = (o: Record<string, unknown>) => ({ inherit: 'all', ignoreDefaultExcludes: false, exclude: [], set: {}, includeOnly: [], ...o });
    await c.start('empty', ['/usr/bin/env'], { env: {} });
    await c.waitClosed('empty');
    await c.start('given', ['/usr/bin/env'], { env: { FOO: 'bar', EMPTY: '', 'WITH SPACE': 'x y', UNI: 'ü' } });
    await c.waitClosed('given');
    const cases: Array<[string, string, Record<string, string>, Record<string, unknown>]> = [
      ['all-names', names, {}, policy({})],
      ['core-names', names, { X: '1' }, policy({ inherit: 'core' })],
      ['none-names', names, { X: '1' }, policy({ inherit: 'none' })],
      ['default-excludes', confLines, {}, policy({})],
      ['ignore-default-excludes', confLines, {}, policy({ ignoreDefaultExcludes: true })],
      ['include-only', confLines, {}, policy({ includeOnly: ['CONF_M*', 'CONF_P*'] })],
      ['exclude', confLines, {}, policy({ exclude: ['CONF_PLAIN', '*MARK*'], ignoreDefaultExcludes: true })],
      ['set', confLines, {}, policy({ set: { OTHER_SET: 'from-set', CONF_MARKER: 'overridden' }, includeOnly: ['CONF_*'] })],
      ['env-over-set', confLines, { CONF_MARKER: 'from-env', OTHER_ENV: 'e' }, policy({ set: { CONF_MARKER: 'from-set' }, exclude: ['CONF_MARKER', 'OTHER_*'] })],
      ['none-with-set', confLines, {}, policy({ inherit: 'none', set: { OTHER_SET: 'x' } })],
    ];
    for (const [pid, script, childEnv, envPolicy] of cases) await c.sh(pid, script, { env: childEnv, extra: { envPolicy } });
    for (const [pid] of cases) await c.waitClosed(pid);
    await c.sh('policy-missing-field', 'true', { extra: { envPolicy: { inherit: 'all' } } });
    await c.sh('policy-bad-inherit', 'true', { extra: { envPolicy: policy({ inherit: 'some' }) } });
    await c.sh('policy-null', 'echo null-policy', { env: {}, extra: { envPolicy: null } });
    await c.waitClosed('policy-null');
    // arg0 and PATH lookup.
    await c.start('arg0', ['/bin/sh', '-c', 'echo $0'], { arg0: 'custom-name' });
    await c.start('no-arg0', ['/bin/sh', '-c', 'echo $0']);
    await c.start('default-search-path', ['env'], { env: {} });
    await c.start('path-lookup', ['printenv', 'PATH'], { env: { PATH: '/usr/bin:/bin' } });
    // cwd forms.
    const cwds = [
      ['cwd-plain', ctx.workdirUri],
      ['cwd-slash', `${ctx.workdirUri}/`],
      ['cwd-localhost', ctx.workdirUri.replace('file://', 'file://localhost')],
      ['cwd-encoded', `${ctx.workdirUri}/a%20b`],
      ['cwd-dotdot', `${ctx.workdirUri}/a%20b/..`],
    ] as const;
    for (const [pid, cwd] of cwds) await c.start(pid, ['/bin/pwd'], { cwd });
    for (const pid of ['arg0', 'no-arg0', 'default-search-path', 'path-lookup', ...cwds.map(([pid]) => pid)]) await c.waitClosed(pid);
  },
};

const grandchild: Scenario = {
  name: 'processes/grandchild',
  spec: '§6.2',
  description: 'a grandchild keeping the pipe open: exited when the child exits, closed only when the pipe closes, output in between',
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    await c.sh('gc', '(sleep 0.5; echo from-grandchild) & echo parent-done; exit 2');
    await c.waitExited('gc');
    await c.read('gc', { afterSeq: 0 });
    await c.waitClosed('gc');
    await c.read('gc', { afterSeq: 0 });
    const exitedAt = frameIndex(c, (m) => m.method === 'process/exited');
    const lateAt = frameIndex(c, (m) => m.method === 'process/output' && Buffer.from(m.params.chunk, 'base64').toString().includes('from-grandchild'));
    ctx.fact('exited before the grandchild output', exitedAt >= 0 && exitedAt < lateAt);
  },
};

const bigOutput: Scenario = {
  name: 'processes/big-output',
  spec: '§6.2 §6.6',
  description: 'large output folds to the same bytes; after 3 MB the retained window is ≤ 1 MiB of whole chunks, ending at the last output',
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    await c.shToClose('300k', "head -c 300000 /dev/zero | tr '\\000' a");
    await c.read('300k', { afterSeq: 0 });
    await c.shToClose('3m', "head -c 3000000 /dev/zero | tr '\\000' b", {}, 8000);
    const reply = await c.hiddenRequest('process/read', { processId: '3m', afterSeq: 0 });
    const r = reply.result as { chunks: Array<{ seq: number; chunk: string }>; nextSeq: number; exited: boolean; closed: boolean };
    const bytes = r.chunks.reduce((n, ch) => n + Buffer.from(ch.chunk, 'base64').length, 0);
    const outputSeqs = c.processNotifications('3m').filter((m) => m.method === 'process/output').map((m) => (m.params as any).seq as number);
    const lastOutput = Math.max(...outputSeqs);
    ctx.fact('notified bytes', Buffer.byteLength(c.output('3m')));
    ctx.fact('retained window ≤ 1 MiB', bytes <= 1048576);
    ctx.fact('retained window ≥ 1 MiB - 64 KiB', bytes >= 1048576 - 65536);
    ctx.fact('oldest chunks evicted', (r.chunks[0]?.seq ?? 0) > 1);
    ctx.fact('window ends at the last output chunk', r.chunks.at(-1)?.seq === lastOutput);
    ctx.fact('retained window is a suffix of the notified bytes', c.output('3m').endsWith(Buffer.concat(r.chunks.map((ch) => Buffer.from(ch.chunk, 'base64'))).toString()));
    ctx.fact('exited/closed in the result', [r.exited, r.closed]);
  },
};

export const processScenarios: Scenario[] = [basic, tty, stdin, signals, readPagination, longPoll, startErrors, env, grandchild, bigOutput];
