/** Session scenarios: detach on disconnect, resume, -32010, scoping, notification routing (§4). */
import type { Scenario } from '../harness.ts';

const resumeAfterDrop: Scenario = {
  name: 'sessions/resume-after-drop',
  spec: '§4 §2.1 §6.3',
  description:
    'output produced while detached is read with afterSeq after resume; -32010 while attached with the old connection still working; initialized required after resume; notifications go to the new connection',
  async run(ctx) {
    const c1 = await ctx.connect();
    const sid = await c1.handshake('first');
    await c1.sh('ticker', 'read a; echo got:$a; sleep 0.4; echo while-detached; read b; echo got:$b; exit 4', { pipeStdin: true });
    await c1.write('ticker', 'one\n', 'w1');
    await c1.waitOutput('ticker', 'got:one\n');
    const seen = c1.lastSeq('ticker');

    const c2 = await ctx.connect();
    await c2.initialize({ clientName: 'second', resumeSessionId: sid });
    await c2.initialize({ clientName: 'second', resumeSessionId: sid });
    // c1 is untouched by the failed takeover.
    await c1.request('environment/status');
    await c1.read('ticker', { afterSeq: 0 });
    c2.close();
    await c2.waitDisconnect();

    c1.drop();
    await c1.waitDisconnect();
    await ctx.sleep(800); // "while-detached" is printed ~400 ms after got:one, with nobody attached

    const c3 = await ctx.connect();
    await c3.initialize({ clientName: 'third', resumeSessionId: sid });
    await c3.read('ticker', { afterSeq: seen });
    c3.notify('initialized', {});
    await c3.read('ticker', { afterSeq: seen });
    await c3.write('ticker', 'two\n', 'w2');
    await c3.waitClosed('ticker');
    await c3.read('ticker', { afterSeq: 0 });
    ctx.fact('c3 first notified seq is after the detached output', c3.processNotifications('ticker').every((m) => (m.params as any).seq > seen + 1));
  },
};

const unknownSession: Scenario = {
  name: 'sessions/unknown-and-empty',
  spec: '§4 §2.1',
  description: 'resume of an unknown id, an empty id, a non-UUID, a session of a live connection; null resume → new session',
  async run(ctx) {
    const c1 = await ctx.connect();
    const sid = await c1.handshake();
    const c2 = await ctx.connect();
    await c2.initialize({ clientName: 'x', resumeSessionId: '11111111-2222-4333-8444-555555555555' });
    await c2.initialize({ clientName: 'x', resumeSessionId: '' });
    await c2.initialize({ clientName: 'x', resumeSessionId: ' ' });
    await c2.initialize({ clientName: 'x', resumeSessionId: sid.toUpperCase() });
    await c2.initialize({ clientName: 'x', resumeSessionId: sid });
    await c2.initialize({ clientName: 'x', resumeSessionId: null });
    c2.notify('initialized', {});
    await c2.request('environment/status');
  },
};

const scoped: Scenario = {
  name: 'sessions/scoped-processes',
  spec: '§4 §6.3 §6.4 §6.5',
  description: 'process ids are per session: another session cannot see or control them and may reuse the id',
  async run(ctx) {
    const c1 = await ctx.connect();
    await c1.handshake();
    await c1.shToClose('shared', 'echo from-A');
    const c2 = await ctx.connect();
    await c2.handshake();
    await c2.read('shared', { afterSeq: 0 });
    await c2.write('shared', 'x', 'w1');
    await c2.terminateProcess('shared');
    await c2.request('process/signal', { processId: 'shared', signal: 'interrupt' });
    await c2.shToClose('shared', 'echo from-B; exit 2');
    await c2.read('shared', { afterSeq: 0 });
    await c1.read('shared', { afterSeq: 0 });
    await c1.sh('shared', 'echo again');
  },
};

const followNewest: Scenario = {
  name: 'sessions/notifications-follow-newest',
  spec: '§4',
  description: 'after a close frame the session detaches; processes keep running; a resumed connection gets the notifications',
  async run(ctx) {
    const c1 = await ctx.connect();
    const sid = await c1.handshake();
    await c1.sh('echoer', 'while read l; do echo got:$l; done', { pipeStdin: true });
    await c1.write('echoer', 'a\n', 'w1');
    await c1.waitOutput('echoer', 'got:a\n');
    c1.close();
    await c1.waitDisconnect();
    const c2 = await ctx.connect();
    await c2.handshake('resumer', sid);
    await c2.write('echoer', 'b\n', 'w2');
    await c2.waitOutput('echoer', 'got:b\n');
    // writeId memory survives the reconnect: w1 again is acknowledged but not written.
    await c2.write('echoer', 'c\n', 'w1');
    await c2.write('echoer', 'd\n', 'w3');
    await c2.waitOutput('echoer', 'got:d\n');
    await c2.terminateProcess('echoer');
    await c2.waitClosed('echoer');
    await c2.read('echoer', { afterSeq: 0 });
  },
};

const dropDuringLongPoll: Scenario = {
  name: 'sessions/drop-during-long-poll',
  spec: '§4 §5',
  description: 'a connection dropped while its long-poll is in flight: the request is abandoned and the session can be resumed',
  async run(ctx) {
    const c1 = await ctx.connect();
    const sid = await c1.handshake();
    await c1.sh('quiet', 'read x; echo got:$x', { pipeStdin: true });
    void c1.read('quiet', { afterSeq: 0, waitMs: 1500 });
    await ctx.sleep(100);
    c1.drop();
    await c1.waitDisconnect();
    await ctx.sleep(100);
    const c2 = await ctx.connect();
    const reply = await c2.initialize({ clientName: 'resumer', resumeSessionId: sid });
    ctx.fact('resume during the abandoned long-poll', reply.error ? reply.error.code : 'ok');
    if (reply.error) {
      // Not resumable yet: wait past the long-poll and retry.
      await ctx.sleep(1600);
      await c2.initialize({ clientName: 'resumer', resumeSessionId: sid });
    }
    c2.notify('initialized', {});
    await c2.write('quiet', 'z\n', 'w1');
    await c2.waitClosed('quiet');
    await c2.read('quiet', { afterSeq: 0 });
  },
};

export const sessionScenarios: Scenario[] = [resumeAfterDrop, unknownSession, scoped, followNewest, dropDuringLongPoll];
