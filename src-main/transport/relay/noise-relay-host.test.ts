/**
 * Remote-mode scenarios run side by side against exec-desk's NoiseRelayHost (serving ExecServer)
 * and the reference `codex exec-server --remote` 0.169.0, through the project's fake registry and
 * rendezvous, driven by the project's Noise harness. The same assertions hold for both: that is
 * the proof of wire compatibility for the executor role (and, against the reference, of the
 * harness client's initiator role). Loopback only; each scenario starts a fresh executor.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { FakeRegistry, type HttpAnswer } from '../../testkit/remote/fake-registry.ts';
import { NoiseHarness, runProcess, type HarnessStream } from '../../testkit/remote/harness-client.ts';
import { EXECUTOR_API_KEY, executorTargets, type ExecutorTarget, type StartOptions } from '../../testkit/remote/executor-targets.ts';
import { generateIdentity, HybridIkInitiator, publicKeyOf, RegistryAuthRejectedError } from '../noise/hybrid-ik.ts';
import { silentLogger } from '../../core/log.ts';
import type { MessagePipe } from '../../core/rpc/message-pipe.ts';
import { decodeRelayFrame, encodeExecutorReset, encodeRelayFrame, MAX_RELAY_WEBSOCKET_MESSAGE_BYTES } from './frame-codec.ts';
import { NoiseRelayHost } from './noise-relay-host.ts';

type ValidateMode = 'default' | 'hang' | 'slow' | 'invalid' | 'status401' | 'status403';

interface Context {
  registry: FakeRegistry;
  harness: NoiseHarness;
  environmentId: string;
  target: ExecutorTarget;
  setValidate(mode: ValidateMode): void;
}

const VALIDATE_ANSWERS: Record<Exclude<ValidateMode, 'default'>, HttpAnswer> = {
  hang: { status: 200, hang: true },
  slow: { status: 200, body: { valid: true }, delayMs: 1_500 },
  invalid: { status: 200, body: { valid: false } },
  status401: { status: 401, body: { error: { code: 'unauthorized', message: 'executor credential rejected' } } },
  status403: { status: 403, body: { error: { code: 'forbidden', message: 'no' } } },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function scenario(target: ExecutorTarget, run: (ctx: Context) => Promise<void>, options: StartOptions = {}): Promise<void> {
  let mode: ValidateMode = 'default';
  const registry = await FakeRegistry.start({
    executorToken: EXECUTOR_API_KEY,
    intercept: (request) => (request.endpoint === 'validate' && mode !== 'default' ? VALIDATE_ANSWERS[mode] : undefined),
  });
  const environmentId = `env-${randomUUID().slice(0, 8)}`;
  let executor: Awaited<ReturnType<ExecutorTarget['start']>> | undefined;
  let harness: NoiseHarness | undefined;
  try {
    executor = await target.start(registry, environmentId, options);
    harness = await NoiseHarness.connect({ registryUrl: registry.baseUrl, environmentId, token: 'harness-token' });
    await run({ registry, harness, environmentId, target, setValidate: (m) => (mode = m) });
  } catch (error) {
    if (executor && error instanceof Error) error.message += `\n${executor.describe()}`;
    throw error;
  } finally {
    harness?.close();
    await executor?.stop();
    await registry.close();
  }
}

/** 'open' or the reset reason the executor answered a new stream with. */
async function outcome(harness: NoiseHarness, streamId: string): Promise<string> {
  try {
    await harness.openStream({ streamId, timeoutMs: 5_000 });
    return 'open';
  } catch (error) {
    return (error as { reset?: string }).reset ?? (error as Error).message;
  }
}

const resets = (harness: NoiseHarness, streamId: string) => harness.framesFor(streamId).filter((f) => f.body.kind === 'reset').length;

/** Any answer at all (before initialize, environment/status is an error response). */
async function answers(stream: HarnessStream): Promise<boolean> {
  try {
    await stream.request('environment/status', {}, `probe-${randomUUID()}`);
    return true;
  } catch {
    return false;
  }
}

for (const target of executorTargets) {
  const skip = target.available ? false : `reference binary missing (node_modules/.bin/codex): npm ci installs @openai/codex 0.169.0`;

  describe(`Noise relay executor: ${target.name}`, { skip }, () => {
    test('initialize and processes over a Noise stream; executor frames re-encode byte for byte', async () => {
      await scenario(target, async ({ registry, harness, environmentId }) => {
        const stream = await harness.openStream();
        const msg2 = harness.framesFor(stream.streamId).find((f) => f.body.kind === 'handshake')!;
        assert.equal((msg2.body as { payload: Uint8Array }).payload.length, 3424);

        const init = await stream.initialize();
        assert.match(init.sessionId, /^[0-9a-f-]{36}$/);
        assert.equal(init.environmentInfo.executorVersion, '0.169.0');
        assert.deepEqual(await runProcess(stream, 'echo', ['echo', 'hello over noise']), { stdout: 'hello over noise\n', exitCode: 0 });

        // 200 KB of stdin in one process/write: the harness splits it into 61440-byte records.
        const input = Buffer.alloc(200_000, 'abcdefghij');
        await stream.call('process/start', { processId: 'cat', argv: ['head', '-c', String(input.length)], cwd: `file://${process.cwd()}`, env: { PATH: process.env.PATH }, tty: false, pipeStdin: true, arg0: null });
        assert.deepEqual(await stream.call('process/write', { processId: 'cat', chunk: input.toString('base64'), writeId: 'w1' }), { status: 'accepted' });
        await stream.waitForNotification('process/closed', (p) => p.processId === 'cat', 15_000);
        // process/read returns the retained output in one ~270 KB message: full records from the executor.
        const read = await stream.call('process/read', { processId: 'cat', afterSeq: 0 });
        const echoed = Buffer.concat(read.chunks.map((c: { chunk: string }) => Buffer.from(c.chunk, 'base64')));
        assert.equal(echoed.length, input.length);
        assert.ok(echoed.equals(input));

        const fromExecutor = registry.frames.filter((f) => f.environmentId === environmentId && f.direction === 'executor->harness');
        const dataSizes: number[] = [];
        for (const recorded of fromExecutor) {
          assert.equal(recorded.binary, true);
          const decoded = decodeRelayFrame(recorded.bytes);
          assert.ok(decoded.ok, 'executor frames are valid');
          assert.equal(Buffer.from(encodeRelayFrame(decoded.frame)).toString('hex'), Buffer.from(recorded.bytes).toString('hex'), 'same bytes when re-encoded');
          if (decoded.frame.body.kind === 'data') dataSizes.push(decoded.frame.body.payload.length);
        }
        assert.ok(dataSizes.every((n) => n <= 61_456 && n >= 17), `record sizes ${dataSizes}`);
        assert.ok(dataSizes.filter((n) => n === 61_456).length >= 4, 'large messages fill records to 61440 plaintext bytes');
        // the executor's data seqs count up from 0 on the stream
        const seqs = fromExecutor.flatMap((f) => {
          const d = decodeRelayFrame(f.bytes);
          return d.ok && d.frame.body.kind === 'data' ? [d.frame.body.seq] : [];
        });
        assert.deepEqual(seqs, seqs.map((_, i) => i));
      });
    });

    test('invalid frames are dropped without a reset; text messages are ignored', async () => {
      await scenario(target, async ({ harness }) => {
        const stream = await harness.openStream();
        const sid = stream.streamId;
        // Each of these would provoke a reset if it were processed.
        const varint = (n: number) => {
          const out: number[] = [];
          while (n >= 0x80) {
            out.push((n & 0x7f) | 0x80);
            n >>>= 7;
          }
          out.push(n);
          return out;
        };
        const sidBytes = [...Buffer.from(sid)];
        const frame = (...fields: number[][]) => Uint8Array.from(fields.flat());
        const sidField = [0x12, ...varint(sidBytes.length), ...sidBytes];
        const garbage = [...Array(40).keys()];
        const data = (inner: number[]) => [0x2a, ...varint(inner.length), ...inner];
        harness.sendRaw(frame([0x08, 0x02], sidField, [0x52, 0x02, 0x0a, 0x00])); // version 2
        harness.sendRaw(frame([0x08, 0x01], sidField, data([0x10, 0x01, 0x18, 0x01, 0x22, garbage.length, ...garbage]))); // segment_index 1
        harness.sendRaw(frame([0x08, 0x01], sidField, data([0x18, 0x02, 0x22, garbage.length, ...garbage]))); // segment_count 2
        harness.sendRaw(frame([0x08, 0x01], sidField, data([0x18, 0x01]))); // empty payload
        harness.sendRaw(frame([0x08, 0x01], sidField, [0x22, 0x01, 0x00], data([0x18, 0x01, 0x22, garbage.length, ...garbage]))); // ack_bits with wire type 2
        harness.sendRaw(frame([0x08, 0x01], sidField, [0x42, 0x00])); // reset without reason
        harness.sendRaw(frame([0x08, 0x01], sidField, [0x52, 0x00])); // handshake without payload
        harness.sendRaw(frame([0x08, 0x01], sidField)); // no body
        harness.sendRaw(Uint8Array.of(0x08, 0x01, 0x12, 0x40)); // truncated
        harness.sendRaw(JSON.stringify({ id: 1, method: 'initialize' }), false); // text message
        for (const blank of [' ', '\t\u0085']) harness.sendFrame({ streamId: blank, body: { kind: 'data', seq: 0, payload: Uint8Array.of(1) } });
        // unknown fields (13, 99) are skipped: a valid heartbeat with extras changes nothing either
        harness.sendRaw(frame([0x08, 0x01], sidField, [0x4a, 0x00], [0x68, 0x07], [0x9a, 0x06, 0x01, 0x00]));
        assert.equal(await answers(stream), true);
        assert.equal(resets(harness, sid), 0);
        assert.equal(resets(harness, ' '), 0);
        assert.equal(stream.ended, null);
      });
    });

    test('data for an unknown stream is answered with the executor reset, byte for byte', async () => {
      await scenario(target, async ({ harness }) => {
        for (const sid of ['no-such-stream', '\ufeff', ' padded ']) {
          harness.sendFrame({ streamId: sid, body: { kind: 'data', seq: 0, payload: new Uint8Array(32) } });
          const reset = await harness.waitForFrame((r) => r.frame?.streamId === sid);
          assert.equal(Buffer.from(reset.raw).toString('hex'), Buffer.from(encodeExecutorReset(sid)).toString('hex'));
        }
      });
    });

    test('a payload that is not a JSON-RPC message resets the stream', async () => {
      await scenario(target, async ({ harness }) => {
        for (const payload of ['{"foo":1}', '[1]', '{"id":null,"method":"x"}', '{"id":1,"method":"initialize","params":{}} trailing', 'not json', '{"method":"bogus/notification"}']) {
          const stream = await harness.openStream();
          stream.sendBytes(new TextEncoder().encode(payload));
          assert.equal(await stream.endedPromise(), 'noise_relay_protocol_error', payload);
          assert.equal(stream.messages.length, 0, payload);
        }
      });
    });

    test('a record that fails (forged, out of window) resets the stream', async () => {
      await scenario(target, async ({ harness }) => {
        const forged = await harness.openStream();
        harness.sendFrame({ streamId: forged.streamId, body: { kind: 'data', seq: 0, payload: new Uint8Array(40) } });
        assert.equal(await forged.endedPromise(), 'noise_relay_protocol_error');
        // seq 64 first (a gap of exactly 64: buffered), then 0..63: all of it is processed
        const ahead = await harness.openStream();
        const empties = Array.from({ length: 64 }, () => ahead.transport.sealRecord(new Uint8Array(0)));
        const [request] = ahead.transport.sealMessage(new TextEncoder().encode('{"id":"late","method":"environment/status","params":{}}'));
        assert.equal(request!.seq, 64);
        for (const r of [request!, ...empties]) harness.sendFrame({ streamId: ahead.streamId, body: { kind: 'data', seq: r.seq, payload: r.ciphertext } });
        await ahead.waitFor((m) => m.id === 'late');
        // seq 65 ahead of the next expected one: reset
        const far = await harness.openStream();
        const record = far.transport.sealRecord(new Uint8Array(0));
        harness.sendFrame({ streamId: far.streamId, body: { kind: 'data', seq: 65, payload: record.ciphertext } });
        assert.equal(await far.endedPromise(), 'noise_relay_protocol_error');
        // out-of-order ciphertext is buffered up to 1 MiB: 17 full records fit, the 18th resets
        const full = await harness.openStream();
        const records = Array.from({ length: 19 }, () => full.transport.sealRecord(new Uint8Array(61_440)));
        for (const r of records.slice(1, 18)) harness.sendFrame({ streamId: full.streamId, body: { kind: 'data', seq: r.seq, payload: r.ciphertext } });
        await sleep(300);
        assert.equal(full.ended, null);
        harness.sendFrame({ streamId: full.streamId, body: { kind: 'data', seq: 18, payload: records[18]!.ciphertext } });
        assert.equal(await full.endedPromise(), 'noise_relay_protocol_error');
      });
    });

    test('a harness reset is not answered; the id can be reused, any non-empty reason counts', async () => {
      await scenario(target, async ({ harness }) => {
        const first = await harness.openStream({ streamId: 'reused' });
        await first.initialize();
        first.reset(' ');
        await sleep(200);
        assert.equal(resets(harness, 'reused'), 0);
        const second = await harness.openStream({ streamId: 'reused' });
        assert.match((await second.initialize()).sessionId, /^[0-9a-f-]{36}$/);
      });
    });

    test('a second handshake on an active stream is reset and the active stream keeps working', async () => {
      await scenario(target, async ({ harness }) => {
        const stream = await harness.openStream();
        harness.startStream(stream.streamId);
        await harness.waitForFrame((r) => r.frame?.streamId === stream.streamId && r.frame.body.kind === 'reset');
        stream.ended = null; // our client ends a stream on reset; the executor kept it
        assert.equal(await answers(stream), true);
      });
    });

    test('data during validation and a duplicate pending handshake each cancel it with one reset', async () => {
      await scenario(target, async ({ harness, setValidate }) => {
        setValidate('slow');
        harness.startStream('early-data');
        await sleep(300);
        harness.sendFrame({ streamId: 'early-data', body: { kind: 'data', seq: 0, payload: new Uint8Array(20) } });
        harness.startStream('dup-pending');
        await sleep(300);
        harness.startStream('dup-pending');
        await sleep(2_000);
        assert.deepEqual(harness.framesFor('early-data').map((f) => f.body.kind), ['reset']);
        assert.deepEqual(harness.framesFor('dup-pending').map((f) => f.body.kind), ['reset']);
      });
    });

    test('validation outcomes: invalid and 403 reset; 401 completes with the rejection marker and no reset', async () => {
      await scenario(target, async ({ harness, setValidate }) => {
        setValidate('invalid');
        assert.equal(await outcome(harness, 'invalid'), 'noise_relay_protocol_error');
        setValidate('status403');
        assert.equal(await outcome(harness, 'forbidden'), 'noise_relay_protocol_error');
        setValidate('status401');
        await assert.rejects(harness.openStream({ streamId: 'rejected' }), RegistryAuthRejectedError);
        const msg2 = harness.framesFor('rejected').find((f) => f.body.kind === 'handshake')!;
        assert.equal((msg2.body as { payload: Uint8Array }).payload.length, 3465);
        await sleep(500);
        assert.deepEqual(harness.framesFor('rejected').map((f) => f.body.kind), ['handshake']);
        // the stream was never activated
        harness.sendFrame({ streamId: 'rejected', body: { kind: 'data', seq: 0, payload: new Uint8Array(20) } });
        await harness.waitForFrame((r) => r.frame?.streamId === 'rejected' && r.frame.body.kind === 'reset');
      });
    });

    test('8 failed handshakes start a cooldown; successes do not reset the count', async () => {
      await scenario(target, async ({ harness }) => {
        const garbage = (sid: string) => harness.sendFrame({ streamId: sid, body: { kind: 'handshake', payload: new Uint8Array(3600) } });
        for (let i = 0; i < 7; i++) garbage(`bad-${i}`);
        await harness.waitForFrame((r) => r.frame?.streamId === 'bad-6' && r.frame.body.kind === 'reset');
        assert.equal(await outcome(harness, 'good-1'), 'open');
        garbage('bad-7');
        await harness.waitForFrame((r) => r.frame?.streamId === 'bad-7' && r.frame.body.kind === 'reset');
        assert.equal(await outcome(harness, 'good-2'), 'noise_relay_protocol_error');
      });
    });

    test('32 handshakes may await validation; the 33rd is reset, the others time out', async () => {
      await scenario(target, async ({ harness, setValidate }) => {
        setValidate('hang');
        const started = Date.now();
        for (let i = 0; i < 33; i++) harness.startStream(`pending-${i}`);
        await harness.waitForFrame((r) => r.frame?.streamId === 'pending-32' && r.frame.body.kind === 'reset');
        assert.equal(resets(harness, 'pending-0'), 0);
        await harness.waitForFrame((r) => r.frame?.streamId === 'pending-0' && r.frame.body.kind === 'reset', target.shortValidationTimeoutMs + 5_000);
        assert.ok(Date.now() - started >= target.shortValidationTimeoutMs - 100);
      }, { shortValidationTimeout: true });
    });

    test('128 streams may be active; the 129th is reset until one ends', async () => {
      await scenario(target, async ({ harness }) => {
        for (let batch = 0; batch < 4; batch++) {
          await Promise.all(Array.from({ length: 32 }, (_, i) => harness.openStream({ streamId: `s-${batch * 32 + i}` })));
        }
        assert.equal(await outcome(harness, 's-128'), 'noise_relay_protocol_error');
        harness.sendFrame({ streamId: 's-0', body: { kind: 'reset', reason: 'done' } });
        await sleep(200);
        assert.equal(await outcome(harness, 's-129'), 'open');
      });
    });

    test('a 256 KiB message is accepted; one byte more drops the whole socket', async () => {
      await scenario(target, async ({ registry, harness, environmentId }) => {
        const stream = await harness.openStream();
        const padded = (size: number) => {
          const base = Buffer.from(encodeRelayFrame({ streamId: stream.streamId, body: { kind: 'heartbeat' } }));
          // unknown field 99 (bytes) pads the frame to the exact size
          for (let len = size - base.length - 6; len < size; len++) {
            const prefix: number[] = [];
            for (let n = len; ; n >>>= 7) {
              if (n < 0x80) {
                prefix.push(n);
                break;
              }
              prefix.push((n & 0x7f) | 0x80);
            }
            const out = Buffer.concat([base, Buffer.from([0x9a, 0x06, ...prefix]), Buffer.alloc(len)]);
            if (out.length === size) return out;
          }
          throw new Error('cannot pad');
        };
        harness.sendRaw(padded(MAX_RELAY_WEBSOCKET_MESSAGE_BYTES));
        assert.equal(await answers(stream), true);
        const closed = registry.executorClosed(environmentId);
        harness.sendRaw(padded(MAX_RELAY_WEBSOCKET_MESSAGE_BYTES + 1));
        await closed;
      });
    });
  });
}

// In-memory checks of what the wire scenarios above cannot see (no sockets, no reference).

describe('NoiseRelayHost in memory', () => {
  const executor = generateIdentity();
  const harnessIdentity = generateIdentity();
  const binding = { environmentId: 'env', registrationId: 'reg' };

  function setup(now = { t: 0 }) {
    const sent: Uint8Array[] = [];
    const pipes: MessagePipe[] = [];
    const host = new NoiseRelayHost({
      ...binding,
      identity: executor,
      send: (frame) => sent.push(frame),
      validate: async () => 'valid',
      serve: (pipe) => pipes.push(pipe),
      log: silentLogger,
      now: () => now.t,
    });
    const open = async (streamId: string) => {
      const initiator = new HybridIkInitiator({ ...binding, streamId, identity: harnessIdentity, executorKey: publicKeyOf(executor) });
      host.handleMessage(encodeRelayFrame({ streamId, body: { kind: 'handshake', payload: initiator.writeRequest('auth') } }), true);
      await sleep(10);
      const answer = decodeRelayFrame(sent.at(-1)!);
      assert.ok(answer.ok && answer.frame.streamId === streamId);
      if (answer.frame.body.kind !== 'handshake') return null;
      return initiator.readResponse(answer.frame.body.payload);
    };
    return { host, sent, pipes, open, now };
  }

  test('messages flow both ways through the pipe handed to serve', async () => {
    const { host, sent, pipes, open } = setup();
    const transport = (await open('s1'))!;
    const pipe = pipes[0]!;
    const got: string[] = [];
    pipe.onMessage((data) => got.push(data.toString()));
    for (const r of transport.sealMessage(new TextEncoder().encode('{"id":1,"method":"initialize","params":{}}'))) {
      host.handleMessage(encodeRelayFrame({ streamId: 's1', body: { kind: 'data', seq: r.seq, payload: r.ciphertext } }), true);
    }
    assert.deepEqual(got, ['{"id":1,"method":"initialize","params":{}}']);
    pipe.send('{"id":1,"result":{}}');
    const frame = decodeRelayFrame(sent.at(-1)!);
    assert.ok(frame.ok && frame.frame.body.kind === 'data');
    assert.equal(Buffer.from(transport.receiveRecord(frame.frame.body.seq, frame.frame.body.payload)[0]!).toString(), '{"id":1,"result":{}}');
    assert.equal(host.activeStreamCount, 1);
  });

  test('the server closing a stream resets it; the socket closing ends streams silently', async () => {
    const { host, sent, pipes, open } = setup();
    await open('a');
    await open('b');
    let closedA = 0;
    pipes[0]!.onClose(() => closedA++);
    pipes[0]!.close();
    assert.equal(closedA, 1);
    assert.equal(Buffer.from(sent.at(-1)!).toString('hex'), Buffer.from(encodeExecutorReset('a')).toString('hex'));
    let closedB = 0;
    pipes[1]!.onClose(() => closedB++);
    const before = sent.length;
    host.close();
    assert.equal(closedB, 1);
    assert.equal(sent.length, before, 'no resets when the socket goes away');
    pipes[1]!.send('{"id":2,"result":{}}');
    assert.equal(sent.length, before);
  });

  test('the cooldown ends after 10 s and the failure count starts again', async () => {
    const { host, sent, open, now } = setup();
    for (let i = 0; i < 8; i++) host.handleMessage(encodeRelayFrame({ streamId: `bad-${i}`, body: { kind: 'handshake', payload: new Uint8Array(3600) } }), true);
    assert.equal(await open('refused'), null);
    now.t += 9_999;
    assert.equal(await open('still-refused'), null);
    now.t += 1;
    assert.ok(await open('accepted'));
    assert.equal(host.failureCount, 0);
    assert.equal(sent.filter((f) => { const d = decodeRelayFrame(f); return d.ok && d.frame.body.kind === 'reset'; }).length, 10);
  });
});
