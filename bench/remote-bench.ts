/**
 * Remote-mode benchmark: the exec-desk CLI executor (`exec-desk --remote …`) side by side with the
 * reference executor (`codex exec-server --remote …` 0.169.0), in one run, same registry, same
 * rendezvous, same harness, on loopback only.
 *
 *   node --import tsx bench/remote-bench.ts [--runs N] [--mib N] [--only latency|throughput]
 *
 * Set-up: one FakeRegistry + rendezvous in this process; each executor registers its own
 * environment with CODEX_API_KEY; a lean Noise harness (initiator; below) opens one relay stream
 * to each and runs `initialize`. Per frame the path is harness → rendezvous → executor and back:
 * hybridIK-encrypted JSON-RPC inside RelayMessageFrames.
 *
 * 1. One-shot latency: `process/start` of /usr/bin/true (env {}, cwd file:///tmp, pipes) until its
 *    `process/closed` arrives; sequential, warm-up first, executors alternated in blocks (ABBA).
 * 2. Throughput: `head -c <mib MiB> /dev/zero` through `process/output`, from the start response
 *    to `process/closed`; median of several runs; the byte count must be exact.
 * 3. A table with ratios (exec-desk / reference) and targets (throughput ≥ 1.0×, latency ≤ 1.0×),
 *    and the data as JSON in bench/results/remote-latest.json.
 *
 * The harness is deliberately lean (no per-message storage; output frames are counted by byte
 * prefix, not parsed), so it costs both executors the same and little. Every wait has a timeout;
 * executors and the registry are stopped on every way out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import WebSocket from 'ws';
import { FakeRegistry } from '../src-main/testkit/remote/fake-registry.ts';
import { connectToRegistry } from '../src-main/testkit/remote/harness-client.ts';
import { referenceCommand } from '../src-main/testkit/remote/reference.ts';
import { LOOPBACK_ONLY_ENV } from '../src-main/testkit/temp-home-process.ts';
import { decodeRelayFrame, encodeRelayFrame, type RelayFrame } from '../src-main/transport/relay/frame-codec.ts';
import { generateIdentity, HybridIkInitiator } from '../src-main/transport/noise/hybrid-ik.ts';
import type { NoiseTransport } from '../src-main/transport/noise/transport.ts';
import { execDeskBin, median, now, parseBenchFlags, projectRoot, ratioText, renderTable, sleep, summarize, treeCpuSeconds, withTimeout, type Kind, type Row, type Summary } from './bench-kit.ts';

const API_KEY = 'sk-bench-executor';
/** The fake rendezvous records every frame it relays; the bench empties that record between runs. */
let forgetRecordedFrames = () => {};
const KINDS: Kind[] = ['reference', 'exec-desk'];

// ---------------------------------------------------------------------------------------------
// Options

function parseOptions(argv: string[]) {
  const flags = parseBenchFlags(argv, 'bench/remote-bench.ts', 'remote benchmark: exec-desk --remote vs codex exec-server --remote through a Noise relay', {
    runs: { kind: 'int', min: 1, default: 100 },
    warmup: { kind: 'int', min: 0, default: 10 },
    block: { kind: 'int', min: 1, default: 10 },
    mib: { kind: 'int', min: 1, default: 64 },
    tpRuns: { kind: 'int', min: 1, default: 3 },
    only: { kind: 'choice', choices: ['latency', 'throughput'] as const, default: null },
    timeoutMs: { kind: 'int', min: 100, default: 15_000 },
    jsonPath: { kind: 'string', flag: 'json', default: `${projectRoot}bench/results/remote-latest.json`, meta: 'PATH' },
    /** Node flags for the exec-desk executor only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). */
    deskNodeArgs: { kind: 'string', default: '', meta: '"<node flags>" (write --desk-node-args="…" when they start with a dash)' },
    /** exec-desk entry script (default: this checkout's bin/exec-desk.mjs); to A/B a patched copy of the tree. */
    deskBin: { kind: 'string', default: execDeskBin, meta: 'PATH' },
    /** Extra environment for the exec-desk executor only. */
    deskEnv: { kind: 'list', meta: 'NAME=VALUE' },
  });
  const deskEnv: Record<string, string> = {};
  for (const pair of flags.deskEnv) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      process.stderr.write('--desk-env needs NAME=VALUE\n');
      process.exit(2);
    }
    deskEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { ...flags, deskNodeArgs: flags.deskNodeArgs.split(/\s+/).filter(Boolean), deskEnv };
}
type Options = ReturnType<typeof parseOptions>;

// ---------------------------------------------------------------------------------------------
// Executors (child processes), stopped on every way out

interface Executor {
  kind: Kind;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
const cleanups: Array<() => void> = [];
function killAll(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  for (const cleanup of cleanups.splice(0)) cleanup();
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stderr.write(`\n${signal}: stopping executors\n`);
    killAll();
    process.exit(130);
  });
}

function startExecutor(kind: Kind, registry: FakeRegistry, environmentId: string, opts: Options): Executor {
  const home = mkdtempSync(join(tmpdir(), `exec-desk-remote-bench-${kind}-`));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const args = ['--remote', registry.baseUrl, '--environment-id', environmentId];
  const [command, argv] = kind === 'reference' ? [referenceCommand(), ['exec-server', ...args]] : [process.execPath, [...opts.deskNodeArgs, opts.deskBin, ...args]];
  // Loopback only: any other outbound request goes to a dead proxy.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    CODEX_HOME: home,
    CODEX_API_KEY: API_KEY,
    ...LOOPBACK_ONLY_ENV,
    ...(kind === 'exec-desk' ? opts.deskEnv : {}),
  };
  const child = spawn(command, argv, { cwd: projectRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 65_536) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => live.delete(child));
  return {
    kind,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Lean Noise harness: one relay stream, JSON-RPC inside, nothing stored per message

const OUTPUT_PREFIX = Buffer.from('{"method":"process/output"');
const CHUNK_KEY = Buffer.from('"chunk":"');

interface ProcessWatch {
  /** Decoded byte count of one output chunk (from its base64 length) and its seq. */
  onOutput?(seq: number, bytes: number): void;
  onExited?(exitCode: number, seq: number): void;
  onClosed(seq: number, at: number): void;
}

class LeanStream {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(result: unknown, at: number): void; reject(error: Error): void }>();
  readonly watches = new Map<string, ProcessWatch>();
  failure: Error | null = null;

  constructor(
    private readonly socket: WebSocket,
    readonly streamId: string,
    private readonly transport: NoiseTransport,
  ) {}

  frame(frame: RelayFrame): void {
    const body = frame.body;
    if (body.kind === 'reset') return this.fail(new Error(`executor reset the stream: ${body.reason}`));
    if (body.kind !== 'data') return;
    const at = now();
    for (const bytes of this.transport.receiveRecord(body.seq, body.payload)) {
      const message = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (message.length > OUTPUT_PREFIX.length && message.compare(OUTPUT_PREFIX, 0, OUTPUT_PREFIX.length, 0, OUTPUT_PREFIX.length) === 0) {
        this.output(message);
        continue;
      }
      const parsed = JSON.parse(message.toString('utf8')) as { id?: number; method?: string; params?: any; result?: unknown; error?: { message: string } };
      if (parsed.method === undefined) {
        const waiter = this.pending.get(parsed.id!);
        this.pending.delete(parsed.id!);
        if (parsed.error) waiter?.reject(new Error(parsed.error.message));
        else waiter?.resolve(parsed.result, at);
        continue;
      }
      const watch = this.watches.get(parsed.params?.processId);
      if (parsed.method === 'process/exited') watch?.onExited?.(parsed.params.exitCode, parsed.params.seq);
      else if (parsed.method === 'process/closed') watch?.onClosed(parsed.params.seq, at);
    }
  }

  /** `{"method":"process/output","params":{"processId":"…","seq":N,…,"chunk":"<base64>"…}` without parsing. */
  private output(message: Buffer): void {
    const idAt = message.indexOf('"processId":"');
    const idStart = idAt + 13;
    const processId = message.toString('utf8', idStart, message.indexOf(0x22, idStart));
    const watch = this.watches.get(processId);
    if (!watch?.onOutput) return;
    const seqAt = message.indexOf('"seq":');
    let seq = 0;
    for (let i = seqAt + 6, c = message[i]!; c >= 0x30 && c <= 0x39; c = message[++i]!) seq = seq * 10 + (c - 0x30);
    const start = message.indexOf(CHUNK_KEY) + CHUNK_KEY.length;
    const end = message.indexOf(0x22, start);
    let pad = 0;
    if (message[end - 1] === 0x3d) pad++;
    if (message[end - 2] === 0x3d) pad++;
    watch.onOutput(seq, ((end - start) / 4) * 3 - pad);
  }

  fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  private send(message: unknown): void {
    for (const record of this.transport.sealMessage(Buffer.from(JSON.stringify(message)))) {
      this.socket.send(encodeRelayFrame({ streamId: this.streamId, body: { kind: 'data', seq: record.seq, payload: record.ciphertext } }));
    }
  }

  /** Sends a request; resolves with [result, arrival time]; `sentAt` is taken right before sending. */
  request(method: string, params: unknown, timeoutMs: number): { sentAt: number; reply: Promise<[unknown, number]> } {
    const id = this.nextId++;
    const reply = withTimeout<[unknown, number]>(`${method} response`, timeoutMs, (resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.pending.set(id, { resolve: (r, at) => resolve([r, at]), reject });
    });
    reply.catch(() => this.pending.delete(id));
    const sentAt = now();
    this.send({ id, method, params });
    return { sentAt, reply };
  }

  async initialize(timeoutMs: number): Promise<void> {
    await this.request('initialize', { clientName: 'exec-desk-remote-bench', resumeSessionId: null }, timeoutMs).reply;
    this.send({ method: 'initialized', params: {} });
  }
}

class LeanHarness {
  private readonly streams = new Map<string, LeanStream>();
  private readonly handshakes = new Map<string, (frame: RelayFrame) => void>();

  private constructor(
    private readonly socket: WebSocket,
    private readonly bundle: Awaited<ReturnType<typeof connectToRegistry>>,
    private readonly identity: ReturnType<typeof generateIdentity>,
  ) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      const decoded = decodeRelayFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if (!decoded.ok) return;
      const { frame } = decoded;
      const stream = this.streams.get(frame.streamId);
      if (stream) return stream.frame(frame);
      this.handshakes.get(frame.streamId)?.(frame);
    });
    socket.on('close', () => {
      for (const stream of this.streams.values()) stream.fail(new Error('harness socket closed'));
    });
    socket.on('error', () => socket.terminate());
  }

  static async connect(registryUrl: string, environmentId: string, timeoutMs: number): Promise<LeanHarness> {
    const identity = generateIdentity();
    const bundle = await connectToRegistry({ registryUrl, environmentId, identity });
    const socket = await withTimeout<WebSocket>('harness rendezvous socket', timeoutMs, (resolve, reject) => {
      const ws = new WebSocket(bundle.url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
    return new LeanHarness(socket, bundle, identity);
  }

  async openStream(timeoutMs: number): Promise<LeanStream> {
    const streamId = randomUUID();
    const initiator = new HybridIkInitiator({
      identity: this.identity,
      executorKey: this.bundle.executorKey,
      environmentId: this.bundle.environmentId,
      registrationId: this.bundle.registrationId,
      streamId,
    });
    const answer = withTimeout<RelayFrame>(`handshake of ${streamId}`, timeoutMs, (resolve) => this.handshakes.set(streamId, resolve));
    this.socket.send(encodeRelayFrame({ streamId, body: { kind: 'resume', nextSeq: 0 } }));
    this.socket.send(encodeRelayFrame({ streamId, body: { kind: 'handshake', payload: initiator.writeRequest(this.bundle.authorization) } }));
    const frame = await answer.finally(() => this.handshakes.delete(streamId));
    if (frame.body.kind !== 'handshake') throw new Error(`executor answered the handshake with ${frame.body.kind}`);
    const stream = new LeanStream(this.socket, streamId, initiator.readResponse(frame.body.payload));
    this.streams.set(streamId, stream);
    return stream;
  }

  close(): void {
    this.socket.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// Measurements


function startParams(processId: string, argv: string[]) {
  return { processId, argv, cwd: 'file:///tmp', env: {}, tty: false, arg0: null };
}

/** process/start of /usr/bin/true → process/closed, in ms. */
async function oneShot(stream: LeanStream, processId: string, timeoutMs: number): Promise<number> {
  let exitCode: number | null = null;
  const closed = withTimeout<number>(`process/closed of ${processId}`, timeoutMs, (resolve, reject) => {
    if (stream.failure) return reject(stream.failure);
    stream.watches.set(processId, { onExited: (code) => (exitCode = code), onClosed: (_seq, at) => resolve(at) });
  });
  try {
    const { sentAt, reply } = stream.request('process/start', startParams(processId, ['/usr/bin/true']), timeoutMs);
    await reply;
    const closedAt = await closed;
    if (exitCode !== 0) throw new Error(`${processId} exited with ${exitCode}`);
    return closedAt - sentAt;
  } finally {
    stream.watches.delete(processId);
    closed.catch(() => {});
  }
}

async function measureLatency(streams: Record<Kind, LeanStream>, opts: Options): Promise<Record<Kind, Summary>> {
  let counter = 0;
  const samples: Record<Kind, number[]> = { reference: [], 'exec-desk': [] };
  for (const kind of KINDS) for (let i = 0; i < opts.warmup; i++) await oneShot(streams[kind], `warm-${kind}-${++counter}`, opts.timeoutMs);
  const blocks = Math.ceil(opts.runs / opts.block);
  for (let b = 0; b < blocks; b++) {
    const size = Math.min(opts.block, opts.runs - b * opts.block);
    const order: Kind[] = b % 2 === 0 ? ['reference', 'exec-desk'] : ['exec-desk', 'reference'];
    for (const kind of order) {
      for (let i = 0; i < size; i++) samples[kind].push(await oneShot(streams[kind], `lat-${kind}-${++counter}`, opts.timeoutMs));
    }
    forgetRecordedFrames();
    process.stderr.write(`\r  latency: block ${b + 1}/${blocks}   `);
  }
  process.stderr.write('\n');
  return { reference: summarize(samples.reference), 'exec-desk': summarize(samples['exec-desk']) };
}

interface ThroughputRun {
  ok: boolean;
  failure: string | null;
  bytes: number;
  chunks: number;
  seconds: number;
  mbPerSec: number;
  executorCpuSeconds: number;
  benchCpuSeconds: number;
}

async function throughputRun(stream: LeanStream, executor: Executor, processId: string, bytes: number, opts: Options): Promise<ThroughputRun> {
  let total = 0;
  let chunks = 0;
  let exitCode: number | null = null;
  const timeoutMs = Math.max(opts.timeoutMs, 120_000 + (bytes / 1_048_576) * 1000);
  const closed = withTimeout<number>(`process/closed of ${processId}`, timeoutMs, (resolve, reject) => {
    if (stream.failure) return reject(stream.failure);
    stream.watches.set(processId, {
      onOutput: (_seq, size) => {
        total += size;
        chunks++;
      },
      onExited: (code) => (exitCode = code),
      onClosed: (_seq, at) => resolve(at),
    });
  });
  const cpu0 = treeCpuSeconds(executor.child.pid!);
  const bench0 = process.cpuUsage();
  try {
    const { reply } = stream.request('process/start', startParams(processId, ['/usr/bin/head', '-c', String(bytes), '/dev/zero']), opts.timeoutMs);
    const [, responseAt] = await reply;
    const closedAt = await closed;
    const seconds = (closedAt - responseAt) / 1000;
    const bench = process.cpuUsage(bench0);
    let failure: string | null = null;
    if (total !== bytes) failure = `delivered ${total} bytes, expected ${bytes}`;
    else if (exitCode !== 0) failure = `head exited with ${exitCode}`;
    return {
      ok: failure === null,
      failure,
      bytes: total,
      chunks,
      seconds,
      mbPerSec: total / 1e6 / seconds,
      executorCpuSeconds: treeCpuSeconds(executor.child.pid!) - cpu0,
      benchCpuSeconds: (bench.user + bench.system) / 1e6,
    };
  } finally {
    stream.watches.delete(processId);
    closed.catch(() => {});
  }
}

async function measureThroughput(streams: Record<Kind, LeanStream>, executors: Record<Kind, Executor>, opts: Options) {
  const bytes = opts.mib * 1_048_576;
  const runs: Record<Kind, ThroughputRun[]> = { reference: [], 'exec-desk': [] };
  for (const kind of KINDS) {
    const warm = await throughputRun(streams[kind], executors[kind], `tp-warm-${kind}`, Math.min(bytes, 8 * 1_048_576), opts);
    if (!warm.ok) throw new Error(`${kind} throughput warm-up failed: ${warm.failure}`);
  }
  for (let r = 0; r < opts.tpRuns; r++) {
    const order: Kind[] = r % 2 === 0 ? ['reference', 'exec-desk'] : ['exec-desk', 'reference'];
    for (const kind of order) {
      forgetRecordedFrames();
      const run = await throughputRun(streams[kind], executors[kind], `tp-${kind}-${r}`, bytes, opts);
      runs[kind].push(run);
      process.stderr.write(
        `  throughput ${kind} run ${r + 1}: ${run.mbPerSec.toFixed(1)} MB/s, ${run.chunks} chunks, executor cpu ${run.executorCpuSeconds.toFixed(2)} s, ` +
          `bench cpu ${run.benchCpuSeconds.toFixed(2)} s${run.ok ? '' : ` FAILED: ${run.failure}`}\n`,
      );
      await sleep(200);
    }
  }
  const ok = (kind: Kind) => runs[kind].every((r) => r.ok);
  const med = (kind: Kind) => median(runs[kind].filter((r) => r.ok).map((r) => r.mbPerSec));
  return { mib: opts.mib, runs, ok: { reference: ok('reference'), 'exec-desk': ok('exec-desk') }, medianMbPerSec: { reference: med('reference'), 'exec-desk': med('exec-desk') } };
}

// ---------------------------------------------------------------------------------------------
// Report and main

const ms = (v: number) => (Number.isNaN(v) ? '—' : `${v.toFixed(2)} ms`);
const pf = (ok: boolean) => (ok ? 'PASS' : 'MISS');

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const started = new Date();
  const registry = await FakeRegistry.start({ executorToken: API_KEY });
  forgetRecordedFrames = () => void registry.frames.splice(0);
  const executors = {} as Record<Kind, Executor>;
  const harnesses: LeanHarness[] = [];
  let latency: Record<Kind, Summary> | null = null;
  let throughput: Awaited<ReturnType<typeof measureThroughput>> | null = null;
  try {
    const streams = {} as Record<Kind, LeanStream>;
    for (const kind of KINDS) {
      const environmentId = `bench-${kind}`;
      executors[kind] = startExecutor(kind, registry, environmentId, opts);
      await registry.waitForExecutor(environmentId, 30_000).catch((error: Error) => {
        throw new Error(`${error.message}; ${kind} stderr:\n${executors[kind].stderr().slice(-2000)}`);
      });
      const harness = await LeanHarness.connect(registry.baseUrl, environmentId, opts.timeoutMs);
      harnesses.push(harness);
      streams[kind] = await harness.openStream(opts.timeoutMs);
      await streams[kind].initialize(opts.timeoutMs);
    }
    process.stderr.write('executors online; one Noise relay stream each\n');
    if (opts.only !== 'throughput') latency = await measureLatency(streams, opts);
    if (opts.only !== 'latency') throughput = await measureThroughput(streams, executors, opts);
  } catch (error) {
    process.stderr.write(`\nbenchmark failed: ${(error as Error).stack ?? error}\n`);
    for (const kind of KINDS) {
      const tail = executors[kind]?.stderr().trim().split('\n').slice(-10).join('\n');
      if (tail) process.stderr.write(`--- ${kind} stderr (tail) ---\n${tail}\n`);
    }
    return 1;
  } finally {
    for (const harness of harnesses) harness.close();
    await Promise.all(Object.values(executors).map((e) => e.stop()));
    await registry.close();
    killAll();
  }

  const rows: Row[] = [];
  const checks: Record<string, boolean> = {};
  if (latency) {
    for (const stat of ['p50', 'p95', 'mean'] as const) {
      const ref = latency.reference[stat];
      const desk = latency['exec-desk'][stat];
      const gated = stat === 'p50';
      if (gated) checks['one-shot p50 <= 1.0x reference'] = desk / ref <= 1.0;
      rows.push({
        metric: `one-shot ${stat} (start→closed, relay)`,
        reference: ms(ref),
        execDesk: ms(desk),
        ratio: ratioText(desk, ref),
        target: gated ? '≤ 1.0× ref' : '',
        status: gated ? pf(desk / ref <= 1.0) : '',
      });
    }
  }
  if (throughput) {
    const ref = throughput.medianMbPerSec.reference;
    const desk = throughput.medianMbPerSec['exec-desk'];
    const exact = throughput.ok.reference && throughput.ok['exec-desk'];
    checks['throughput >= 1.0x reference'] = exact && desk / ref >= 1.0;
    checks['throughput byte counts exact'] = exact;
    const cell = (kind: Kind) => (throughput!.ok[kind] ? `${throughput!.medianMbPerSec[kind].toFixed(1)} MB/s` : 'FAILED');
    rows.push({
      metric: `throughput ${throughput.mib} MiB stdout (median of ${opts.tpRuns})`,
      reference: cell('reference'),
      execDesk: cell('exec-desk'),
      ratio: ratioText(desk, ref),
      target: '≥ 1.0× ref',
      status: exact ? pf(desk / ref >= 1.0) : 'MISS (byte count)',
    });
    const cpu = (kind: Kind) => median(throughput!.runs[kind].map((r) => r.executorCpuSeconds));
    rows.push({ metric: '  ↳ executor CPU per run (median)', reference: `${cpu('reference').toFixed(2)} s`, execDesk: `${cpu('exec-desk').toFixed(2)} s`, ratio: ratioText(cpu('exec-desk'), cpu('reference')), target: '', status: '' });
    const chunks = (kind: Kind) => median(throughput!.runs[kind].map((r) => r.chunks));
    rows.push({ metric: '  ↳ output notifications per run', reference: String(chunks('reference')), execDesk: String(chunks('exec-desk')), ratio: ratioText(chunks('exec-desk'), chunks('reference')), target: '', status: '' });
  }
  process.stdout.write(`\n${renderTable(rows)}\n\n`);
  for (const [name, ok] of Object.entries(checks)) process.stdout.write(`${pf(ok)}  ${name}\n`);
  mkdirSync(dirname(opts.jsonPath), { recursive: true });
  writeFileSync(opts.jsonPath, JSON.stringify({ started: started.toISOString(), options: opts, latency, throughput, checks }, null, 2));
  process.stdout.write(`\nresults: ${opts.jsonPath}\n`);
  return 0;
}

process.exitCode = await main();
