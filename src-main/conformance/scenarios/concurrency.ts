/**
 * Concurrency scenarios (§5): the same pipelined requests on a default (inline) server and on one started
 * with `--concurrent-requests 2`. Only the ORDER of responses is compared (it is in the transcript, as the
 * arrival order of replies on the connection); the waits are spaced ≥ 300 ms apart (≥ 350 ms between the two long-polls) to make it deterministic.
 */
import type { Scenario, ScenarioContext } from '../harness.ts';

async function pipeline(ctx: ScenarioContext): Promise<void> {
  const c = await ctx.connect();
  await c.handshake();
  await c.sh('idle', 'read x', { pipeStdin: true });
  await c.sh('victim', 'read x', { pipeStdin: true });
  // Round 1: two long-polls (ordinary lane), a quick ordinary request, a control-lane terminate.
  // The quick ones are sent 150 ms later: which of several simultaneously arriving ordinary requests wins a
  // slot is a scheduling race in the reference (tokio tasks), so the long-polls get their slots first.
  const polls = [c.read('idle', { afterSeq: 0, waitMs: 450 }), c.read('idle', { afterSeq: 0, waitMs: 800 })];
  await ctx.sleep(150);
  await Promise.all([...polls, c.read('nope', { afterSeq: 0 }), c.terminateProcess('victim')]);
  await c.waitClosed('victim');
  // Round 2: a long-poll, then environment/status and environment/info... one control request at a time
  // so that the order between two quick control requests never races.
  await Promise.all([c.read('idle', { afterSeq: 0, waitMs: 300 }), c.request('environment/status')]);
  await Promise.all([c.read('idle', { afterSeq: 0, waitMs: 300 }), c.request('process/signal', { processId: 'nope', signal: 'interrupt' })]);
  await c.terminateProcess('idle');
  await c.waitClosed('idle');
}

const inline: Scenario = {
  name: 'concurrency/inline-ordering',
  spec: '§5 §1.7',
  description: 'default server: requests are answered strictly in arrival order, long-polls block later requests',
  async run(ctx) {
    await pipeline(ctx);
  },
};

const twoLanes: Scenario = {
  name: 'concurrency/two-lanes',
  spec: '§5',
  description: '--concurrent-requests 2: control-lane requests answer first; a quick ordinary request waits for a free slot',
  server: { key: 'concurrent-2', flags: () => ['--concurrent-requests', '2'] },
  async run(ctx) {
    await pipeline(ctx);
  },
};

const threeLanes: Scenario = {
  name: 'concurrency/three-lanes',
  spec: '§5',
  description:
    '--concurrent-requests 3: three long-polls hold the three ordinary slots, a fourth ordinary request waits for the first free one, control-lane requests answer at once',
  server: { key: 'concurrent-3', flags: () => ['--concurrent-requests', '3'] },
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    await c.sh('idle', 'read x', { pipeStdin: true });
    await c.sh('victim', 'read x', { pipeStdin: true });
    // t=0: three long-polls take the three ordinary slots (they end at 800, 1400 and 1700 ms).
    const polls = [
      c.read('idle', { afterSeq: 0, waitMs: 800 }),
      c.read('idle', { afterSeq: 0, waitMs: 1400 }),
      c.read('idle', { afterSeq: 0, waitMs: 1700 }),
    ];
    await ctx.sleep(150);
    // t=150: a fourth ordinary request waits for the slot freed at 800 ms and ends at ≈ 1100 ms (with a free
    // slot it would end at ≈ 450 ms, before the first poll). Only one is queued: which of two queued requests
    // gets a freed slot is a race in the reference.
    const queued = c.read('idle', { afterSeq: 0, waitMs: 300 });
    // Control lane, one at a time so that two quick answers never race; all answered before 450 ms.
    await c.request('environment/status');
    await c.request('environment/info');
    await c.request('process/signal', { processId: 'nope', signal: 'interrupt' });
    await c.terminateProcess('victim');
    await Promise.all([...polls, queued]);
    await c.waitClosed('victim');
    await c.terminateProcess('idle');
    await c.waitClosed('idle');
  },
};

export const concurrencyScenarios: Scenario[] = [inline, twoLanes, threeLanes];
