/**
 * The ≈ 80 s timers of 0.169.0 (§4 detached-session TTL, §6.6 retention after `closed`). One scenario that
 * takes ≈ 84 s, so it is marked `once`: conformance.test.ts runs it once per server, both servers in
 * parallel and alongside the rest of the suite, with no determinism double-run.
 *
 * Measured on the reference (and matched by exec-desk): a detached session's processes are killed 80.0 s
 * after the drop; a closed process is removed 80.0 s after `closed`; a resume followed by another drop starts
 * the TTL again (the first drop's timer does not end the session). Every checkpoint keeps a margin of ≥ 1.5 s
 * from those instants: 70 s and 81.5 s after the drop, 77 s and 81.5 s after `closed`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario, ScenarioContext } from '../harness.ts';
import type { RpcMessage } from '../../testkit/rpc-client.ts';

/** Running (a zombie waiting for its parent to reap it counts as dead). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function goneWithin(ctx: ScenarioContext, pid: number, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await ctx.sleep(20)) if (!alive(pid)) return true;
  return !alive(pid);
}

function sleepUntil(ctx: ScenarioContext, epochMs: number): Promise<void> {
  return ctx.sleep(Math.max(0, epochMs - Date.now()));
}

function text(chunks: Array<{ chunk: string }>): string {
  return Buffer.concat(chunks.map((c) => Buffer.from(c.chunk, 'base64'))).toString('utf8');
}

/** A process/read reply reduced to what does not depend on chunking. */
function readSummary(reply: RpcMessage): unknown {
  if (reply.error) return { error: reply.error };
  const r = reply.result as any;
  return { output: text(r.chunks ?? []), exited: r.exited, exitCode: r.exitCode, closed: r.closed };
}

/**
 * A process id's notifications on one connection, split into incarnations at each `closed` (the normal fold
 * would merge two incarnations of a reused id into one seq run).
 */
function incarnations(messages: RpcMessage[]): unknown[] {
  const runs: RpcMessage[][] = [[]];
  for (const m of messages) {
    runs.at(-1)!.push(m);
    if (m.method === 'process/closed') runs.push([]);
  }
  return runs
    .filter((run) => run.length > 0)
    .map((run) => {
      const seqs = run.map((m) => Number((m.params as any).seq));
      const sorted = [...seqs].sort((a, b) => a - b);
      const contiguous = sorted.every((s, i) => i === 0 || s === sorted[i - 1]! + 1);
      const exited = run.find((m) => m.method === 'process/exited');
      const closed = run.find((m) => m.method === 'process/closed');
      return {
        firstSeq: sorted[0],
        seqs: contiguous ? 'contiguous' : `not contiguous: ${seqs.join(',')}`,
        output: text(run.filter((m) => m.method === 'process/output').map((m) => m.params as { chunk: string })),
        exitCode: exited ? (exited.params as any).exitCode : null,
        closedLast: closed !== undefined && run.at(-1) === closed && Number((closed.params as any).seq) === sorted.at(-1),
      };
    });
}

const ttlAndRetention: Scenario = {
  name: 'timers/session-ttl-and-retention',
  spec: '§4 §6.6 §6.7 §1.3',
  description:
    'detached sessions: resumable at 70 s with buffered output, a second drop restarts the TTL, an unresumed session is gone at 81.5 s (unknown session id, processes killed); a closed process is readable at 77 s, removed by 81.5 s (read/write/terminate/signal on the removed id), then the id is reused with seq from 1; 30 s pings',
  server: { key: 'timers' },
  once: true,
  timeoutMs: 100_000,
  async run(ctx) {
    const pidFile = (name: string) => join(ctx.workdir, `${name}.pid`);
    const pidOf = (name: string) => Number(readFileSync(pidFile(name), 'utf8').trim());
    const pids: number[] = [];
    try {
      // Session A: resumed at 70 s, then dropped again.
      const c1 = await ctx.connect();
      const sidA = await c1.handshake('session-a');
      await c1.sh('sleeper', `echo $$ > ${pidFile('a')}; exec sleep 300`);
      await c1.sh('short', 'echo before; sleep 0.5; echo while-detached; exec >&- 2>&-; exit 3');
      await c1.waitOutput('short', 'before\n');
      const seenShort = c1.lastSeq('short');
      // Session B: never resumed in time.
      const c2 = await ctx.connect();
      const sidB = await c2.handshake('session-b');
      await c2.sh('sleeper', `echo $$ > ${pidFile('b')}; exec sleep 300`);
      const complete = (name: string) => existsSync(pidFile(name)) && readFileSync(pidFile(name), 'utf8').endsWith('\n');
      await ctx.poll(() => complete('a') && complete('b'));
      const [pidA, pidB] = [pidOf('a'), pidOf('b')];
      pids.push(pidA, pidB);
      // Retention, on a connection that stays attached throughout. Its notifications are summarized per
      // incarnation of the reused id instead of the usual fold; its chunk-carrying reads are hidden.
      const c3 = await ctx.connect({ ignoreProcessNotifications: true });
      // §1.3 keepalive, observed on this long-lived connection: a ping every 30 s from the upgrade.
      const upgradedAt = Date.now();
      const pings: number[] = [];
      c3.rpc.socket.on('ping', () => pings.push(Date.now() - upgradedAt));
      await c3.handshake('retention');
      // The pipes close before the exit so that `exited` and `closed` cannot race.
      await c3.shToClose('kept', 'echo retained; exec >&- 2>&-; exit 3');
      const closedAt = Date.now();

      c1.drop();
      c2.drop();
      await c1.waitDisconnect();
      await c2.waitDisconnect();
      const droppedAt = Date.now();

      // Drop + 70 s: session A resumes; the output produced while detached is read back.
      await sleepUntil(ctx, droppedAt + 70_000);
      const c4 = await ctx.connect();
      await c4.initialize({ clientName: 'session-a-at-70s', resumeSessionId: sidA });
      c4.notify('initialized', {});
      await c4.read('short', { afterSeq: seenShort });
      await c4.read('sleeper', { afterSeq: 0 });
      ctx.fact('70 s after the drop, sleepers of sessions A and B alive', [alive(pidA), alive(pidB)]);
      c4.drop();
      await c4.waitDisconnect();

      // Closed + 77 s: still retained on the live connection, and its id cannot be reused yet.
      await sleepUntil(ctx, closedAt + 77_000);
      ctx.fact('77 s after closed, read kept', readSummary(await c3.hiddenRequest('process/read', { processId: 'kept', afterSeq: 0 })));
      await c3.sh('kept', 'echo too-early');

      // Closed + 81.5 s (and drop + 81.5 s): the process entry is gone.
      await sleepUntil(ctx, Math.max(closedAt, droppedAt) + 81_500);
      await c3.read('kept', { afterSeq: 0 });
      await c3.write('kept', 'x', 'w1');
      await c3.terminateProcess('kept');
      await c3.request('process/signal', { processId: 'kept', signal: 'interrupt' });
      await c3.sh('kept', 'echo reused; exec >&- 2>&-; exit 4');
      // (waitClosed would see the first incarnation's `closed`.)
      await c3.until(() => c3.processNotifications('kept').filter((m) => m.method === 'process/closed').length >= 2, 5000);
      ctx.fact('kept after reuse', readSummary(await c3.hiddenRequest('process/read', { processId: 'kept', afterSeq: 0 })));
      ctx.fact('kept notifications per incarnation', incarnations(c3.processNotifications('kept')));
      const near = (ms: number, target: number) => Math.abs(ms - target) <= 1500;
      ctx.fact('pings on the retention connection (≈ 82 s): count, first ≈ 30 s, second ≈ 60 s after the upgrade', [
        pings.length,
        near(pings[0] ?? -1, 30_000),
        near(pings[1] ?? -1, 60_000),
      ]);

      // Session B (dropped 81.5 s ago) has expired and its process was killed.
      const c5 = await ctx.connect();
      await c5.initialize({ clientName: 'session-b-at-81s', resumeSessionId: sidB });
      ctx.fact('session B sleeper gone', await goneWithin(ctx, pidB, 3000));
      // Session A was dropped again at ≈ 70 s: its TTL started again then, so it is still there.
      await c5.initialize({ clientName: 'session-a-at-81s', resumeSessionId: sidA });
      c5.notify('initialized', {});
      await c5.read('sleeper', { afterSeq: 0 });
      await c5.terminateProcess('sleeper');
      await c5.waitClosed('sleeper');
      ctx.fact('session A sleeper gone after terminate', await goneWithin(ctx, pidA, 3000));
    } finally {
      // Nothing may outlive the scenario, whatever happened above.
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  },
};

export const timerScenarios: Scenario[] = [ttlAndRetention];
