/**
 * Side by side: the same remote scenarios run on exec-desk's product link (NoiseRemoteLink +
 * ExecServer) and on `codex exec-server --remote` 0.169.0, through the fake registry and
 * rendezvous, driven by the Noise harness. What each stream carried is normalized with the
 * conformance suite's normalizer and the two transcripts must be equal line for line.
 * Without the reference binary only exec-desk runs (and its transcript is still checked).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { diffLines } from '../conformance/diff.ts';
import { FakeRegistry, type HttpAnswer } from '../testkit/remote/fake-registry.ts';
import { NoiseHarness, type HarnessStream } from '../testkit/remote/harness-client.ts';
import { EXECUTOR_API_KEY, executorTargets, type ExecutorTarget } from '../testkit/remote/executor-targets.ts';
import { StreamTranscript } from '../testkit/remote/stream-transcript.ts';
import { RegistryAuthRejectedError } from '../transport/noise/hybrid-ik.ts';

type ValidateMode = 'default' | 'invalid' | 'status401';

const VALIDATE_ANSWERS: Record<Exclude<ValidateMode, 'default'>, HttpAnswer> = {
  invalid: { status: 200, body: { valid: false } },
  status401: { status: 401, body: { error: { code: 'unauthorized', message: 'executor credential rejected' } } },
};

interface Context {
  harness: NoiseHarness;
  record: StreamTranscript;
  setValidate(mode: ValidateMode): void;
  /** Opens a stream and records it under `label`. */
  open(label: string, streamId?: string): Promise<HarnessStream>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cwd = pathToFileURL(process.cwd()).href;
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

function startParams(processId: string, script: string) {
  return { processId, argv: ['sh', '-c', script], cwd, env, tty: false, arg0: null };
}

/** What the executor sent on a stream, as frame kinds. */
function executorFrames(harness: NoiseHarness, streamId: string): string {
  return harness.framesFor(streamId).map((f) => (f.body.kind === 'reset' ? `reset(${f.body.reason})` : f.body.kind)).join(',');
}

async function waitClosed(stream: HarnessStream, processId: string): Promise<void> {
  await stream.waitForNotification('process/closed', (p) => p.processId === processId, 15_000);
}

const scenarios: Array<{ name: string; run: (ctx: Context) => Promise<void>; expect: RegExp[] }> = [
  {
    name: 'initialize, then a process started, read and exited through a stream',
    async run({ open }) {
      const stream = await open('s1');
      await stream.initialize();
      await stream.call('process/start', startParams('p1', 'echo out; echo err >&2; exit 3'));
      await waitClosed(stream, 'p1');
      await stream.call('process/read', { processId: 'p1', afterSeq: 0 });
    },
    expect: [/s1 ← .*"sessionId":"<SID1>"/, /s1 process "p1" .*out\\n.*err\\n/, /"exitCode":3/],
  },
  {
    name: 'two streams on one harness socket',
    async run({ open }) {
      const a = await open('a');
      const b = await open('b');
      await a.initialize();
      await b.initialize();
      await a.call('process/start', startParams('pa', 'echo from-a'));
      await b.call('process/start', startParams('pb', 'echo from-b'));
      await waitClosed(a, 'pa');
      await waitClosed(b, 'pb');
    },
    expect: [/a process "pa" .*from-a/, /b process "pb" .*from-b/, /"sessionId":"<SID2>"/],
  },
  {
    name: 'a harness reset ends the stream silently; data for it is reset; the id is reused by a new session',
    async run({ harness, record, open }) {
      const first = await open('first', 'reused');
      await first.initialize();
      first.reset('harness_closed');
      await sleep(300);
      record.step(`executor frames after the harness reset: ${executorFrames(harness, 'reused')}`);
      harness.sendFrame({ streamId: 'reused', body: { kind: 'data', seq: 1, payload: new Uint8Array(40) } });
      await harness.waitForFrame((r) => r.frame?.streamId === 'reused' && r.frame.body.kind === 'reset');
      record.step(`executor frames after data for the reset stream: ${executorFrames(harness, 'reused')}`);
      const second = await open('second', 'reused');
      await second.initialize();
    },
    expect: [/after the harness reset: handshake,data$/m, /after data for the reset stream: handshake,data,reset\(noise_relay_protocol_error\)$/m, /second ← .*"sessionId":"<SID2>"/],
  },
  {
    name: 'a session resumed on a new stream keeps its process output; an unknown session id is refused',
    async run({ open }) {
      const first = await open('first');
      const { sessionId } = await first.initialize();
      await first.call('process/start', startParams('late', 'sleep 0.3; echo produced-while-detached'));
      first.reset('harness_closed');
      await sleep(900);
      const second = await open('second');
      await second.initialize('codex-environment', sessionId);
      await second.call('process/read', { processId: 'late', afterSeq: 0 });
      const third = await open('third');
      await third.request('initialize', { clientName: 'codex-environment', resumeSessionId: '00000000-0000-4000-8000-000000000000' }, 'resume-unknown').catch(() => undefined);
    },
    expect: [/second ← .*"sessionId":"<SID1>"/, /produced-while-detached/, /third ← .*-32600.*unknown session id/],
  },
  {
    name: 'validate answers valid:false: the handshake is reset',
    async run({ harness, record, setValidate }) {
      setValidate('invalid');
      const outcome = await harness.openStream({ streamId: 'rejected', timeoutMs: 5_000 }).then(
        () => 'open',
        (error: { reset?: string; message: string }) => `reset: ${error.reset ?? error.message}`,
      );
      record.step(`outcome: ${outcome}`);
      record.step(`executor frames: ${executorFrames(harness, 'rejected')}`);
    },
    expect: [/outcome: reset: noise_relay_protocol_error/, /executor frames: reset\(noise_relay_protocol_error\)$/m],
  },
  {
    name: 'validate answers 401: the handshake completes with the rejection marker, nothing follows',
    async run({ harness, record, setValidate }) {
      setValidate('status401');
      const outcome = await harness.openStream({ streamId: 'marker', timeoutMs: 5_000 }).then(
        () => 'open',
        (error: unknown) => (error instanceof RegistryAuthRejectedError ? 'registry authentication rejected marker' : `other: ${(error as Error).message}`),
      );
      record.step(`outcome: ${outcome}`);
      const msg2 = harness.framesFor('marker').find((f) => f.body.kind === 'handshake');
      record.step(`msg2 bytes: ${msg2 && msg2.body.kind === 'handshake' ? msg2.body.payload.length : 'none'}`);
      await sleep(500);
      record.step(`executor frames: ${executorFrames(harness, 'marker')}`);
    },
    expect: [/outcome: registry authentication rejected marker/, /msg2 bytes: 3465/, /executor frames: handshake$/m],
  },
];

async function runOn(target: ExecutorTarget, scenario: (typeof scenarios)[number]) {
  let mode: ValidateMode = 'default';
  const registry = await FakeRegistry.start({
    executorToken: EXECUTOR_API_KEY,
    intercept: (request) => (request.endpoint === 'validate' && mode !== 'default' ? VALIDATE_ANSWERS[mode] : undefined),
  });
  const environmentId = `env-${randomUUID().slice(0, 8)}`;
  const record = new StreamTranscript();
  let executor: Awaited<ReturnType<ExecutorTarget['start']>> | undefined;
  let harness: NoiseHarness | undefined;
  try {
    executor = await target.start(registry, environmentId);
    harness = await NoiseHarness.connect({ registryUrl: registry.baseUrl, environmentId, token: 'harness-token' });
    const h = harness;
    await scenario.run({
      harness: h,
      record,
      setValidate: (m) => (mode = m),
      open: async (label, streamId) => record.track(await h.openStream({ streamId }), label),
    });
    return record.transcript(scenario.name, target.name, [[process.cwd(), '<CWD>']]);
  } catch (error) {
    if (executor && error instanceof Error) error.message += `\n${executor.describe()}`;
    throw error;
  } finally {
    harness?.close();
    await executor?.stop();
    await registry.close();
  }
}

describe('remote transcripts: exec-desk link vs codex exec-server --remote', () => {
  const [execDesk, reference] = [executorTargets.find((t) => t.name === 'exec-desk')!, executorTargets.find((t) => t.name === 'reference')!];
  for (const scenario of scenarios) {
    test(scenario.name, async () => {
      const ours = await runOn(execDesk, scenario);
      const text = ours.lines.join('\n');
      for (const pattern of scenario.expect) assert.match(text, pattern, `exec-desk transcript:\n${text}`);
      if (!reference.available) return;
      const theirs = await runOn(reference, scenario);
      assert.deepEqual(ours.lines, theirs.lines, diffLines(theirs.lines, ours.lines, ['reference', 'exec-desk']));
    });
  }
});
