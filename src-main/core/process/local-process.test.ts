import { test, afterEach, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { SpawnError, findPerl, spawnLocalProcess } from './local-process.ts';
import { LIST_FDS, baseSpec, eventually, inheritableFds, isAlive, killAll, runToEnd, sleep, start, unexpectedFds } from './test-support.ts';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'local-process-'));
  writeFileSync(join(dir, 'noshebang'), 'echo hi\n', { mode: 0o755 });
});
after(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => killAll());

/** Fields 5-8 of /proc/<pid>/stat: pgrp, session, tty_nr, tpgid. */
const IDS = 'set -- $(sed "s/.*) //" /proc/$$/stat); echo "$$ $3 $4 $5 $6"';

test('pipes: stdout and stderr apart, exit code, exited before closed', async () => {
  const run = await runToEnd({ argv: ['/bin/sh', '-c', 'echo out1; echo err1 >&2; echo out2; exit 3'] });
  assert.equal(run.text('stdout'), 'out1\nout2\n');
  assert.equal(run.text('stderr'), 'err1\n');
  assert.equal(run.output.pty.length, 0);
  assert.equal(run.proc.exitCode, 3);
  assert.deepEqual(run.events.slice(-2), ['exit:3', 'closed']);
  assert.equal(run.proc.isClosed, true);
});

test('pipes: own session and group, stdin /dev/null, no stray fds, default signal dispositions', async () => {
  const allowed = inheritableFds();
  const run = await runToEnd({ argv: ['/bin/sh', '-c', `${IDS}; readlink /proc/$$/fd/0; grep SigIgn /proc/$$/status; ${LIST_FDS}`] });
  const [ids, stdin, sigign, ...fds] = run.text('stdout').split('\n');
  const [pid, pgrp, session, ttyNr] = ids!.split(' ');
  assert.equal(Number(pid), run.proc.pid);
  assert.equal(pgrp, pid);
  assert.equal(session, pid);
  assert.equal(ttyNr, '0');
  assert.equal(stdin, '/dev/null');
  assert.deepEqual(unexpectedFds(fds.join('\n'), allowed), []);
  assert.match(sigign!, /SigIgn:\s+0+$/);
});

test('pipes: argv[0] as given, arg0 overrides it, and the program is found on the child PATH', async () => {
  assert.equal((await runToEnd({ argv: ['sh', '-c', 'echo $0'] })).text(), 'sh\n');
  assert.equal((await runToEnd({ argv: ['sh', '-c', 'echo $0'], arg0: 'custom-name' })).text(), 'custom-name\n');
  assert.equal((await runToEnd({ argv: ['/bin/sh', '-c', 'echo $0; tr "\\0" " " < /proc/$$/cmdline'], arg0: '-x' })).text(), '-x\n-x -c echo $0; tr "\\0" " " < /proc/$$/cmdline ');
  // No PATH in the child env: the default search path still finds sh.
  assert.equal((await runToEnd({ argv: ['sh', '-c', 'echo ok'], env: {} })).text(), 'ok\n');
  // The child env is exactly what was given, sorted by name as on the reference.
  assert.equal((await runToEnd({ argv: ['/usr/bin/env'], env: { Z: '1', a: '1', A: '1', _: '1', 'é': '1' } })).text(), 'A=1\nZ=1\n_=1\na=1\né=1\n');
});

test('pipes: pipeStdin makes stdin writable', async () => {
  const run = start({ argv: ['/bin/cat'], pipeStdin: true });
  assert.equal(run.proc.acceptsInput, true);
  run.proc.write(Buffer.from('hello\n'));
  assert.ok(await eventually(() => run.text('stdout') === 'hello\n'));
  run.proc.interrupt();
  assert.equal(await run.exited, 130);
  await run.closed;
  run.proc.write(Buffer.from('after exit is dropped quietly\n'));
  assert.equal(start({ argv: ['/bin/true'] }).proc.acceptsInput, false);
});

test('pipes: killed by a signal reports 128+signo', async () => {
  assert.equal((await runToEnd({ argv: ['/bin/sh', '-c', 'kill -9 $$'] })).proc.exitCode, 137);
  assert.equal((await runToEnd({ argv: ['/bin/sh', '-c', 'kill -TERM $$'] })).proc.exitCode, 143);
  const run = start({ argv: ['/bin/sleep', '30'] });
  await sleep(50);
  run.proc.interrupt();
  assert.equal(await run.exited, 130);
});

test('pipes: a grandchild holding stdout delays closed, not exited', async () => {
  const t0 = Date.now();
  const run = start({ argv: ['/bin/sh', '-c', '(sleep 0.6; echo late) & echo early'] });
  await run.exited;
  const exitedAt = Date.now() - t0;
  await run.closed;
  const closedAt = Date.now() - t0;
  assert.ok(exitedAt < 400, `exited after ${exitedAt} ms`);
  assert.ok(closedAt >= 550, `closed after ${closedAt} ms`);
  assert.deepEqual(run.events, ['out:stdout', 'exit:0', 'out:stdout', 'closed']);
  assert.equal(run.text(), 'early\nlate\n');
});

test('killGroup kills the whole group, background children included', async () => {
  const run = start({ argv: ['/bin/sh', '-c', 'sleep 30 & echo $!; wait'] });
  assert.ok(await eventually(() => run.text().endsWith('\n')));
  const grandchild = Number(run.text().trim());
  assert.ok(isAlive(grandchild));
  run.proc.killGroup();
  assert.equal(await run.exited, 137);
  await run.closed;
  assert.ok(await eventually(() => !isAlive(grandchild)), `pid ${grandchild} survived`);
});

test('pipes: spawn errors are synchronous with the reference texts', () => {
  const err = (spec: Partial<typeof baseSpec>) => {
    try {
      spawnLocalProcess({ ...baseSpec, ...spec }, { output() {}, exited() {}, closed() {} }).killGroup();
    } catch (e) {
      assert.ok(e instanceof SpawnError);
      return e.message;
    }
    assert.fail('spawned');
  };
  assert.equal(err({ argv: ['/nonexistent'] }), 'No such file or directory (os error 2)');
  assert.equal(err({ argv: ['nonexistent-cmd'] }), 'No such file or directory (os error 2)');
  assert.equal(err({ argv: [join(dir, 'noshebang')] }), 'Exec format error (os error 8)');
  assert.equal(err({ argv: ['/tmp'] }), 'Permission denied (os error 13)');
  assert.equal(err({ argv: ['/bin/true'], cwd: join(dir, 'missing') }), 'No such file or directory (os error 2)');
  assert.equal(err({ argv: ['/bin/true'], cwd: join(dir, 'noshebang') }), 'Not a directory (os error 20)');
  assert.equal(err({ argv: ['/bin/true'], env: { A: '\0' } }), 'data provided contains a nul byte');
  assert.equal(err({ argv: ['sh'], tty: true, env: {} }), 'Unable to spawn sh because:\nUnable to resolve the PATH');
});

test('pty: 24x80 controlling terminal, own session, one stream', async () => {
  const run = await runToEnd({
    tty: true,
    argv: ['/bin/sh', '-c', `stty size; ${IDS}; tty; exec 3</dev/tty && echo has-ctty; echo err >&2`],
  });
  const lines = run.text('pty').split('\r\n');
  assert.equal(lines[0], '24 80');
  const [pid, pgrp, session, ttyNr, tpgid] = lines[1]!.split(' ');
  assert.equal(Number(pid), run.proc.pid);
  assert.equal(pgrp, pid);
  assert.equal(session, pid);
  assert.notEqual(ttyNr, '0');
  assert.equal(tpgid, pid); // the child's group is the terminal's foreground group
  assert.match(lines[2]!, /^\/dev\/pts\/\d+$/);
  assert.equal(lines[3], 'has-ctty');
  assert.equal(lines[4], 'err');
  assert.equal(run.output.stdout.length + run.output.stderr.length, 0);
  assert.equal(run.proc.exitCode, 0);
});

test('pty: env gets SHELL from passwd unless given, and no TERM or PWD', async () => {
  const shell = userInfo().shell ?? '/bin/sh';
  assert.equal((await runToEnd({ tty: true, argv: ['/usr/bin/env'], env: { PATH: '/usr/bin:/bin' } })).text(), `PATH=/usr/bin:/bin\r\nSHELL=${shell}\r\n`);
  // Sorted by name, as the reference's children see it.
  assert.equal((await runToEnd({ tty: true, argv: ['/usr/bin/env'], env: { Z: '1', a: '1', SHELL: 's', A: '1', _: '1' } })).text(), 'A=1\r\nSHELL=s\r\nZ=1\r\n_=1\r\na=1\r\n');
  assert.equal((await runToEnd({ tty: true, argv: ['/usr/bin/env'], env: { SHELL: '/x', TERM: 'dumb' } })).text(), 'SHELL=/x\r\nTERM=dumb\r\n');
  const allowed = inheritableFds();
  const fds = await runToEnd({ tty: true, argv: ['/bin/sh', '-c', `grep SigIgn /proc/$$/status; ${LIST_FDS}`] });
  const [sigign, ...fdList] = fds.text().split('\r\n');
  assert.deepEqual(unexpectedFds(fdList.join('\n'), allowed), []);
  assert.match(sigign!, /^SigIgn:\s+0+$/);
});

test('pty: exit codes (signal → 1)', async () => {
  assert.equal((await runToEnd({ tty: true, argv: ['/bin/sh', '-c', 'exit 7'] })).proc.exitCode, 7);
  assert.equal((await runToEnd({ tty: true, argv: ['/bin/sh', '-c', 'kill -9 $$'] })).proc.exitCode, 1);
  assert.equal((await runToEnd({ tty: true, argv: ['/bin/sh', '-c', 'kill -TERM $$'] })).proc.exitCode, 1);
});

test('pty: arg0 works (through the perl helper) and leaves the env exact', { skip: findPerl() === null }, async () => {
  const run = await runToEnd({ tty: true, argv: ['sh', '-c', 'echo $0; /usr/bin/env'], arg0: 'custom-name', env: { PATH: '/usr/bin:/bin', 'A=B': 'c', PERL5OPT: '-Mnonexistent' } });
  const lines = run.text().split('\r\n').filter((l) => l !== '');
  assert.equal(lines[0], 'custom-name');
  assert.deepEqual(lines.slice(1).sort(), ['A=B=c', 'PATH=/usr/bin:/bin', 'PERL5OPT=-Mnonexistent', `SHELL=${userInfo().shell}`, 'PWD=/'].sort());
  assert.equal(run.proc.exitCode, 0);
  const cmdline = await runToEnd({ tty: true, argv: ['/bin/sh', '-c', 'tr "\\0" " " < /proc/$$/cmdline; exit 4'], arg0: '-x' });
  assert.equal(cmdline.text(), '-x -c tr "\\0" " " < /proc/$$/cmdline; exit 4 ');
  assert.equal(cmdline.proc.exitCode, 4);
  // Without arg0, argv[0] stays as given.
  assert.equal((await runToEnd({ tty: true, argv: ['sh', '-c', 'echo $0'] })).text(), 'sh\r\n');
  // `sub/x` is searched in PATH under a PTY (as the reference does) and keeps its argv[0].
  const sub = await runToEnd({ tty: true, argv: ['bin/sh', '-c', 'echo $0'], env: { PATH: '/usr' }, cwd: '/tmp' });
  assert.equal(sub.text(), 'bin/sh\r\n');
});

test('pty: input is echoed and read; ^C written to the terminal interrupts the foreground job', async () => {
  const cat = start({ tty: true, argv: ['/bin/cat'] });
  cat.proc.write(Buffer.from('hello\n'));
  assert.ok(await eventually(() => cat.text() === 'hello\r\nhello\r\n'), JSON.stringify(cat.text()));
  cat.proc.write(Buffer.from([4])); // ^D: EOF in canonical mode
  assert.equal(await cat.exited, 0);
  await cat.closed;

  const sleeper = start({ tty: true, argv: ['/bin/sleep', '30'] });
  await sleep(50);
  sleeper.proc.write(Buffer.from([3]));
  assert.equal(await sleeper.exited, 1);
});

test('pty: a child that closes its terminal before it exits keeps its own exit status (no hang-up)', async () => {
  // The terminal's EOF comes first, the exit 100 ms later: closing the master at the EOF would
  // hang up the child (SIGHUP → 1).
  const run = start({ tty: true, argv: ['/bin/sh', '-c', 'echo bye; exec 0<&- 1>&- 2>&-; sleep 0.1; exit 3'] });
  assert.equal(await run.exited, 3);
  await run.closed;
  assert.equal(run.text(), 'bye\r\n');
  assert.deepEqual(run.events.slice(-2), ['exit:3', 'closed']);
});

test('pty: interrupt() sends SIGINT to the child, which can trap it', async () => {
  const run = start({ tty: true, argv: ['/bin/sh', '-c', 'trap "echo got-int; exit 5" INT; echo ready; while :; do sleep 0.05; done'] });
  assert.ok(await eventually(() => run.text().includes('ready')));
  run.proc.interrupt();
  assert.equal(await run.exited, 5);
  await run.closed;
  assert.match(run.text(), /got-int\r\n$/);
  assert.equal(run.events.at(-1), 'closed');
});

test('pty: no output is lost at exit, and closed comes after all of it', async () => {
  const run = await runToEnd({ tty: true, argv: ['/usr/bin/seq', '1', '60000'] });
  const lines = run.text().split('\r\n');
  assert.equal(lines.length, 60001);
  assert.equal(lines[59999], '60000');
  assert.equal(run.events.at(-1), 'closed');
  assert.equal(run.events.filter((e) => e.startsWith('exit')).length, 1);
});

test('pty: output still buffered in the terminal when the child exits is not lost', async () => {
  // The child writes ~24 KB and exits while this thread is busy, so the hang-up and the data are
  // pending together when the loop next polls (libuv would report EOF after the first 4 KiB).
  for (let attempt = 0; attempt < 3; attempt++) {
    const run = start({ tty: true, argv: ['/usr/bin/seq', '1', '5000'] });
    const until = Date.now() + 150;
    while (Date.now() < until) {
      /* keep the event loop busy */
    }
    await run.closed;
    const lines = run.text().split('\r\n');
    assert.equal(lines.length, 5001, `attempt ${attempt}: got ${lines.length - 1} lines`);
    assert.equal(lines[4999], '5000');
  }
});

test('pty: a grandchild that keeps the terminal delays closed, not exited', async () => {
  const t0 = Date.now();
  // The leader's exit hangs up the terminal's foreground group: give the subshell time to ignore SIGHUP.
  const run = start({ tty: true, argv: ['/bin/sh', '-c', '(trap "" HUP; sleep 0.8; echo late) & sleep 0.2; echo started'] });
  await run.exited;
  const exitedAt = Date.now() - t0;
  await run.closed;
  assert.ok(exitedAt < 600, `exited after ${exitedAt} ms`);
  assert.ok(Date.now() - t0 >= 750);
  assert.equal(run.text(), 'started\r\nlate\r\n');
});

test('pty: a missing cwd falls back to HOME; errors are synchronous', async () => {
  assert.equal((await runToEnd({ tty: true, argv: ['/bin/pwd'], cwd: join(dir, 'missing'), env: { HOME: dir } })).text(), `${dir}\r\n`);
  assert.throws(() => start({ tty: true, argv: [join(dir, 'noshebang')] }), { message: 'Exec format error (os error 8)' });
  assert.throws(() => start({ tty: true, argv: ['nope'] }), { message: 'Unable to spawn nope because:\nNo viable candidates found in PATH "/usr/bin:/bin"' });
});

test('pty: killGroup kills background children too', async () => {
  const run = start({ tty: true, argv: ['/bin/sh', '-c', '(trap "" HUP; sleep 30) & echo $!; wait'] });
  assert.ok(await eventually(() => run.text().includes('\r\n')));
  const grandchild = Number(run.text().trim());
  assert.ok(isAlive(grandchild));
  run.proc.killGroup();
  assert.equal(await run.exited, 1);
  await run.closed;
  assert.ok(await eventually(() => !isAlive(grandchild)), `pid ${grandchild} survived`);
});
