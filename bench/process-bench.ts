/**
 * process/* benchmark: exec-desk side by side with the reference `codex exec-server` (0.169.0),
 * in one run, on loopback only.
 *
 *   node --import tsx bench/process-bench.ts [--runs N] [--mib N] [--only latency|throughput]
 *
 * 1. One-shot latency: `process/start` of /usr/bin/true (env {}, cwd file:///tmp) until its
 *    `process/closed` arrives; pipes and `tty: true`. One connection and one session per server,
 *    sequential, unique processIds, warm-up first, servers alternated in blocks (ABBA order) so
 *    drift cancels. A bare `child_process.spawn('/usr/bin/true')` → 'close' baseline runs in the
 *    same blocks.
 * 2. Throughput: `head -c <mib MiB> /dev/zero`, bytes delivered through `process/output` from the
 *    start response to `process/closed`; median of several runs. The byte count (and the seq
 *    chain) must be exact, otherwise the run is reported as a failure.
 * 3. A markdown table with ratios (exec-desk / reference) and PASS/MISS against the targets, and
 *    the same data as JSON in bench/results/latest.json.
 *
 * The client is a raw `ws` socket (no permessage-deflate). Output notifications are recognised
 * by a byte prefix and their base64 length is turned into the decoded byte count arithmetically
 * (exact for padded base64, which both servers send), so the client does no JSON parsing or
 * base64 decoding per chunk; `--decode` really decodes every chunk and checks the bytes are 0.
 *
 * Every wait has a timeout, and servers are SIGTERMed on every way out (error, SIGINT/SIGTERM).
 * Flags not listed above: --warmup N, --block N, --tp-runs N, --timeout-ms N, --decode,
 * --desk-node-args="<flags>" (node flags for the exec-desk server only, put before its script,
 * e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), --desk-bin PATH (another exec-desk entry script,
 * e.g. a patched copy of the tree, to A/B a change), --json PATH, --no-baseline.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { execDeskBin, LeanRpcClient, median, now, parseBenchFlags, projectRoot, ratioText, renderTable, sleep, startServer, stopServersOnExit, summarize, treeCpuSeconds, withTimeout, type Kind, type Row, type Server, type Summary } from './bench-kit.ts';

// ---------------------------------------------------------------------------------------------
// Options

function parseOptions(argv: string[]) {
  return parseBenchFlags(argv, 'bench/process-bench.ts', 'process/* benchmark: exec-desk vs the reference codex exec-server', {
    runs: { kind: 'int', min: 1, default: 200 },
    warmup: { kind: 'int', min: 0, default: 20 },
    block: { kind: 'int', min: 1, default: 20 },
    mib: { kind: 'int', min: 1, default: 256 },
    tpRuns: { kind: 'int', min: 1, default: 3 },
    only: { kind: 'choice', choices: ['latency', 'throughput'] as const, default: null },
    timeoutMs: { kind: 'int', min: 100, default: 10_000 },
    decode: { kind: 'switch', default: false },
    baseline: { kind: 'switch', flag: 'no-baseline', default: true },
    deskNodeArgs: { kind: 'string', default: '', meta: '"<node flags>" (write --desk-node-args="…" when they start with a dash)' },
    /** exec-desk entry script (default bin/exec-desk.mjs of this checkout); for A/B-testing a patched copy. */
    deskBin: { kind: 'string', default: execDeskBin, meta: 'PATH' },
    jsonPath: { kind: 'string', flag: 'json', default: `${projectRoot}bench/results/latest.json`, meta: 'PATH' },
  });
}
type Options = ReturnType<typeof parseOptions>;

// ---------------------------------------------------------------------------------------------
// Servers: spawned through bench-kit and SIGTERMed on every exit path.

stopServersOnExit();


// ---------------------------------------------------------------------------------------------
// Lean JSON-RPC client

/** Fast path for one process's output: called with the raw frame; returns false to fall back to JSON. */
type OutputSink = (frame: Buffer, at: number) => boolean;

interface ProcessWatch {
  onOutput?(params: { seq: number; stream: string; chunk: string }, at: number): void;
  onExited?(params: { seq: number; exitCode: number }, at: number): void;
  onClosed(params: { seq: number }, at: number): void;
}

const OUTPUT_PREFIX = Buffer.from('{"method":"process/output"');

/** Replies resolve with [result, arrival time]. */
class LeanClient extends LeanRpcClient<[unknown, number]> {
  readonly watches = new Map<string, ProcessWatch>();
  outputSink: OutputSink | null = null;

  static async connect(url: string, timeoutMs: number): Promise<LeanClient> {
    return new LeanClient(await LeanRpcClient.open(url, timeoutMs, 256 * 1024 * 1024));
  }

  protected onFrame(data: Buffer, at: number): void {
    if (this.outputSink !== null && data.length > OUTPUT_PREFIX.length && data.compare(OUTPUT_PREFIX, 0, OUTPUT_PREFIX.length, 0, OUTPUT_PREFIX.length) === 0) {
      if (this.outputSink(data, at)) return;
    }
    let message: { id?: number; method?: string; params?: any; result?: unknown; error?: { code: number; message: string } };
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch (err) {
      return this.fail(new Error(`unparseable frame: ${(err as Error).message}`));
    }
    if (message.method === undefined) return this.settle(message.id, message.error, () => [message.result, at]);
    const params = message.params ?? {};
    const watch = this.watches.get(params.processId);
    if (!watch) return; // e.g. a late notification of an earlier process
    if (message.method === 'process/output') watch.onOutput?.(params, at);
    else if (message.method === 'process/exited') watch.onExited?.(params, at);
    else if (message.method === 'process/closed') watch.onClosed(params, at);
  }
}

// ---------------------------------------------------------------------------------------------
// One-shot latency

interface OneShot {
  /** send → start response */
  response: number;
  /** send → process/exited */
  exited: number;
  /** send → process/closed (the metric) */
  closed: number;
}

function startParams(processId: string, argv: string[], tty: boolean) {
  return { processId, argv, cwd: 'file:///tmp', env: {}, tty, arg0: null };
}

async function oneShot(client: LeanClient, processId: string, tty: boolean, timeoutMs: number): Promise<OneShot> {
  let exitedAt = NaN;
  let exitCode: number | null = null;
  const closed = withTimeout<number>(`process/closed of ${processId}`, timeoutMs, (resolve, reject) => {
    if (client.error) return reject(client.error);
    client.watches.set(processId, {
      onExited: (p, at) => {
        exitedAt = at;
        exitCode = p.exitCode;
      },
      onClosed: (_p, at) => resolve(at),
    });
  });
  try {
    const { sentAt, reply } = client.request('process/start', startParams(processId, ['/usr/bin/true'], tty), timeoutMs);
    const [, responseAt] = await reply;
    const closedAt = await closed;
    if (exitCode !== 0) throw new Error(`${processId} exited with ${exitCode}`);
    return { response: responseAt - sentAt, exited: exitedAt - sentAt, closed: closedAt - sentAt };
  } finally {
    client.watches.delete(processId);
    closed.catch(() => {});
  }
}

/** Bare Node: spawn('/usr/bin/true') → 'close', in this process. */
function nodeSpawnOnce(timeoutMs: number): Promise<number> {
  return withTimeout<number>('bare node spawn', timeoutMs, (resolve, reject) => {
    const t0 = now();
    const child = spawn('/usr/bin/true', [], { cwd: '/tmp', env: {}, stdio: ['ignore', 'pipe', 'pipe'] });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(now() - t0) : reject(new Error(`true exited ${code}`))));
  });
}

interface LatencyResult {
  closed: Summary;
  response: Summary;
  exited: Summary;
}

interface LatencyOutcome {
  pipes: Record<Kind, LatencyResult>;
  pty: Record<Kind, LatencyResult>;
  nodeBaseline: Summary | null;
}

async function measureLatency(clients: Record<Kind, LeanClient>, opts: Options): Promise<LatencyOutcome> {
  const kinds: Kind[] = ['reference', 'exec-desk'];
  let counter = 0;
  const nextId = (kind: Kind, tty: boolean) => `bench-${kind}-${tty ? 'pty' : 'pipe'}-${++counter}`;
  const baseline: number[] = [];
  const out = {} as LatencyOutcome;

  for (const tty of [false, true]) {
    const label = tty ? 'pty' : 'pipes';
    const samples: Record<Kind, OneShot[]> = { reference: [], 'exec-desk': [] };
    // Warm-up (not recorded).
    for (const kind of kinds) for (let i = 0; i < opts.warmup; i++) await oneShot(clients[kind], nextId(kind, tty), tty, opts.timeoutMs);
    if (!tty && opts.baseline) for (let i = 0; i < opts.warmup; i++) await nodeSpawnOnce(opts.timeoutMs);

    const blocks = Math.ceil(opts.runs / opts.block);
    for (let b = 0; b < blocks; b++) {
      const size = Math.min(opts.block, opts.runs - b * opts.block);
      // ABBA: reference, exec-desk, exec-desk, reference, ... so linear drift cancels.
      const order: Kind[] = b % 2 === 0 ? ['reference', 'exec-desk'] : ['exec-desk', 'reference'];
      for (const kind of order) {
        for (let i = 0; i < size; i++) samples[kind].push(await oneShot(clients[kind], nextId(kind, tty), tty, opts.timeoutMs));
      }
      if (!tty && opts.baseline) for (let i = 0; i < size; i++) baseline.push(await nodeSpawnOnce(opts.timeoutMs));
      process.stderr.write(`\r  latency ${label}: block ${b + 1}/${blocks}   `);
    }
    process.stderr.write('\n');
    const result = {} as Record<Kind, LatencyResult>;
    for (const kind of kinds) {
      result[kind] = {
        closed: summarize(samples[kind].map((s) => s.closed)),
        response: summarize(samples[kind].map((s) => s.response)),
        exited: summarize(samples[kind].map((s) => s.exited)),
      };
    }
    if (tty) out.pty = result;
    else out.pipes = result;
  }
  out.nodeBaseline = opts.baseline ? summarize(baseline) : null;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Throughput

interface ThroughputRun {
  ok: boolean;
  failure: string | null;
  bytes: number;
  expectedBytes: number;
  chunks: number;
  exitCode: number | null;
  /** start response → process/closed */
  seconds: number;
  mbPerSec: number;
  /** send → process/closed */
  secondsFromSend: number;
  /** server process tree CPU (utime+stime of live processes) during the run */
  serverCpuSeconds: number;
  /** this bench process's CPU during the run */
  clientCpuSeconds: number;
  maxChunkBytes: number;
  /** longest pause between two output frames, and the number/total of pauses over 4 ms */
  maxGapMs: number;
  gapsOver4ms: number;
  gapsOver4msTotalMs: number;
  /** output notifications whose seq is above `exited`'s (legal, §6.2) */
  outputsAfterExited: number;
  /** output notifications that arrived after one with a higher seq */
  outputsOutOfOrder: number;
}

const CHUNK_KEY = Buffer.from('"chunk":"');

function decodedLength(frame: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len % 4 !== 0) return -1;
  let pad = 0;
  if (len > 0 && frame[end - 1] === 0x3d) pad++;
  if (len > 1 && frame[end - 2] === 0x3d) pad++;
  return (len / 4) * 3 - pad;
}

async function throughputRun(client: LeanClient, server: Server, processId: string, bytes: number, opts: Options): Promise<ThroughputRun> {
  const prefix = Buffer.from(`{"method":"process/output","params":{"processId":${JSON.stringify(processId)},"seq":`);
  let total = 0;
  let chunks = 0;
  let maxChunk = 0;
  /** Output seqs in arrival order; checked at the end (the reference may send `exited` before the last output). */
  const seqs: number[] = [];
  let problem: string | null = null;
  let exitCode: number | null = null;
  let exitSeq = -1;
  const note = (msg: string) => (problem ??= msg);
  // Arrival gaps between output frames: stalls (e.g. a paused reader waiting on a poll timer) show up here.
  let lastAt = NaN;
  let maxGap = 0;
  let gapsOver4ms = 0;
  let gapTotal = 0;
  const countChunk = (seq: number, size: number, content?: Buffer) => {
    const at = now();
    const gap = at - lastAt;
    if (gap > maxGap) maxGap = gap;
    if (gap > 4) {
      gapsOver4ms++;
      gapTotal += gap;
    }
    lastAt = at;
    seqs.push(seq);
    chunks++;
    total += size;
    if (size > maxChunk) maxChunk = size;
    if (content && content.some((b) => b !== 0)) note(`non-zero byte in chunk seq ${seq}`);
  };

  client.outputSink = (frame) => {
    if (frame.length <= prefix.length || frame.compare(prefix, 0, prefix.length, 0, prefix.length) !== 0) return false;
    let i = prefix.length;
    let seq = 0;
    for (let c = frame[i]!; c >= 0x30 && c <= 0x39; c = frame[++i]!) seq = seq * 10 + (c - 0x30);
    const keyAt = frame.indexOf(CHUNK_KEY, i);
    if (keyAt < 0) return false;
    const start = keyAt + CHUNK_KEY.length;
    const end = frame.indexOf(0x22, start);
    if (end < 0) return false;
    if (opts.decode) {
      const content = Buffer.from(frame.toString('latin1', start, end), 'base64');
      countChunk(seq, content.length, content);
    } else {
      const size = decodedLength(frame, start, end);
      if (size < 0) note(`chunk seq ${seq} is not padded base64`);
      countChunk(seq, Math.max(0, size));
    }
    return true;
  };

  const timeoutMs = Math.max(opts.timeoutMs, 120_000 + (bytes / 1_048_576) * 1000);
  let closedSeq = -1;
  const closed = withTimeout<number>(`process/closed of ${processId}`, timeoutMs, (resolve, reject) => {
    if (client.error) return reject(client.error);
    client.watches.set(processId, {
      // Fallback path (frames the prefix did not match): parse and count properly.
      onOutput: (p) => {
        const content = Buffer.from(p.chunk, 'base64');
        countChunk(p.seq, content.length, opts.decode ? content : undefined);
      },
      onExited: (p) => {
        exitCode = p.exitCode;
        exitSeq = p.seq;
      },
      onClosed: (p, at) => {
        closedSeq = p.seq;
        resolve(at);
      },
    });
  });

  const cpu0 = treeCpuSeconds(server.child.pid!);
  const client0 = process.cpuUsage();
  try {
    const argv = ['/usr/bin/head', '-c', String(bytes), '/dev/zero'];
    const { sentAt, reply } = client.request('process/start', startParams(processId, argv, false), opts.timeoutMs);
    const [, responseAt] = await reply;
    const closedAt = await closed;
    const seconds = (closedAt - responseAt) / 1000;
    const clientCpu = process.cpuUsage(client0);
    const serverCpu = treeCpuSeconds(server.child.pid!) - cpu0;
    if (total !== bytes) note(`delivered ${total} bytes, expected ${bytes}`);
    if (exitCode !== 0) note(`head exited with ${exitCode}`);
    // Every number 1..closed.seq used exactly once: the outputs, `exited`, then `closed` last.
    const all = [...seqs, exitSeq].sort((a, b) => a - b);
    if (closedSeq !== chunks + 2 || all.some((v, i) => v !== i + 1)) note(`seq chain broken (closed seq ${closedSeq}, ${chunks} chunks, exited seq ${exitSeq})`);
    let outOfOrder = 0;
    for (let i = 1; i < seqs.length; i++) if (seqs[i]! < seqs[i - 1]!) outOfOrder++;
    return {
      ok: problem === null,
      failure: problem,
      bytes: total,
      expectedBytes: bytes,
      chunks,
      exitCode,
      seconds,
      mbPerSec: total / 1e6 / seconds,
      secondsFromSend: (closedAt - sentAt) / 1000,
      serverCpuSeconds: serverCpu,
      clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
      maxChunkBytes: maxChunk,
      maxGapMs: maxGap,
      gapsOver4ms,
      gapsOver4msTotalMs: gapTotal,
      outputsAfterExited: seqs.filter((v) => v > exitSeq).length,
      outputsOutOfOrder: outOfOrder,
    };
  } finally {
    client.outputSink = null;
    client.watches.delete(processId);
    closed.catch(() => {});
  }
}

interface ThroughputOutcome {
  mib: number;
  runs: Record<Kind, ThroughputRun[]>;
  medianMbPerSec: Record<Kind, number>;
  ok: Record<Kind, boolean>;
}

async function measureThroughput(clients: Record<Kind, LeanClient>, servers: Record<Kind, Server>, opts: Options): Promise<ThroughputOutcome> {
  const bytes = opts.mib * 1_048_576;
  const runs: Record<Kind, ThroughputRun[]> = { reference: [], 'exec-desk': [] };
  // One unrecorded warm-up run per server (JIT, socket buffers, page cache for head).
  const warmBytes = Math.min(bytes, 16 * 1_048_576);
  for (const kind of ['reference', 'exec-desk'] as const) {
    const warm = await throughputRun(clients[kind], servers[kind], `bench-tp-${kind}-warmup`, warmBytes, opts);
    if (!warm.ok) throw new Error(`${kind} throughput warm-up failed: ${warm.failure}`);
  }
  for (let r = 0; r < opts.tpRuns; r++) {
    const order: Kind[] = r % 2 === 0 ? ['reference', 'exec-desk'] : ['exec-desk', 'reference'];
    for (const kind of order) {
      const run = await throughputRun(clients[kind], servers[kind], `bench-tp-${kind}-${r}`, bytes, opts);
      runs[kind].push(run);
      process.stderr.write(
        `  throughput ${kind} run ${r + 1}: ${run.mbPerSec.toFixed(1)} MB/s, ${run.chunks} chunks, ` +
          `server cpu ${run.serverCpuSeconds.toFixed(2)} s, client cpu ${run.clientCpuSeconds.toFixed(2)} s, ` +
          `stalls >4 ms: ${run.gapsOver4ms} (${run.gapsOver4msTotalMs.toFixed(0)} ms, max ${run.maxGapMs.toFixed(1)} ms)${run.ok ? '' : ` FAILED: ${run.failure}`}\n`,
      );
      await sleep(200); // let the other server's socket drain / GC settle
    }
  }
  const med = (kind: Kind) => median(runs[kind].filter((r) => r.ok).map((r) => r.mbPerSec));
  return {
    mib: opts.mib,
    runs,
    medianMbPerSec: { reference: med('reference'), 'exec-desk': med('exec-desk') },
    ok: { reference: runs.reference.every((r) => r.ok), 'exec-desk': runs['exec-desk'].every((r) => r.ok) },
  };
}

// ---------------------------------------------------------------------------------------------
// Report


const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : `${v.toFixed(2)} ms`);

function buildRows(lat: LatencyOutcome | null, tp: ThroughputOutcome | null): { rows: Row[]; checks: Record<string, boolean> } {
  const rows: Row[] = [];
  const checks: Record<string, boolean> = {};
  const pf = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  if (lat) {
    for (const [mode, res] of [['pipes', lat.pipes], ['pty', lat.pty]] as const) {
      for (const stat of ['p50', 'p95', 'mean'] as const) {
        const ref = res.reference.closed[stat];
        const desk = res['exec-desk'].closed[stat];
        let target = '';
        let status = '';
        if (stat === 'p50' && mode === 'pipes') {
          const abs = desk <= 5;
          const rel = desk / ref <= 0.1;
          checks['one-shot pipes p50 <= 5 ms'] = abs;
          checks['one-shot pipes p50 <= 0.1x reference'] = rel;
          target = '≤ 5 ms (≤ 0.1× ref)';
          status = `${pf(abs && rel)} (abs ${pf(abs)}, ratio ${pf(rel)})`;
        } else if (stat === 'p50' && mode === 'pty') {
          const abs = desk <= 10;
          checks['one-shot pty p50 <= 10 ms'] = abs;
          target = '≤ 10 ms';
          status = pf(abs);
        }
        rows.push({ metric: `one-shot ${mode} ${stat} (start→closed)`, reference: ms(ref), execDesk: ms(desk), ratio: ratioText(desk, ref), target, status });
      }
      for (const part of ['response', 'exited'] as const) {
        const ref = res.reference[part].p50;
        const desk = res['exec-desk'][part].p50;
        rows.push({ metric: `  ↳ ${mode} p50 start→${part === 'response' ? 'start response' : 'exited'}`, reference: ms(ref), execDesk: ms(desk), ratio: ratioText(desk, ref), target: '', status: '' });
      }
    }
    if (lat.nodeBaseline) {
      const b = lat.nodeBaseline;
      rows.push({ metric: 'bare node spawn(true)→close p50 / p95', reference: '—', execDesk: `${ms(b.p50)} / ${ms(b.p95)}`, ratio: '', target: '(floor for a Node server)', status: '' });
    }
  }
  if (tp) {
    const ref = tp.medianMbPerSec.reference;
    const desk = tp.medianMbPerSec['exec-desk'];
    const ok = tp.ok.reference && tp.ok['exec-desk'] && desk / ref >= 1.0;
    checks['throughput >= 1.0x reference'] = ok;
    checks['throughput byte counts exact'] = tp.ok.reference && tp.ok['exec-desk'];
    const cell = (kind: Kind) => (tp.ok[kind] ? `${tp.medianMbPerSec[kind].toFixed(1)} MB/s` : `FAILED (${tp.runs[kind].find((r) => !r.ok)?.failure})`);
    rows.push({
      metric: `throughput ${tp.mib} MiB stdout (median of ${tp.runs.reference.length})`,
      reference: cell('reference'),
      execDesk: cell('exec-desk'),
      ratio: ratioText(desk, ref),
      target: '≥ 1.0× ref',
      status: tp.ok.reference && tp.ok['exec-desk'] ? pf(ok) : 'MISS (byte count)',
    });
    const cpu = (kind: Kind) => median(tp.runs[kind].map((r) => r.serverCpuSeconds));
    rows.push({ metric: '  ↳ server CPU per run (median)', reference: `${cpu('reference').toFixed(2)} s`, execDesk: `${cpu('exec-desk').toFixed(2)} s`, ratio: ratioText(cpu('exec-desk'), cpu('reference')), target: '', status: '' });
    const chunks = (kind: Kind) => median(tp.runs[kind].map((r) => r.chunks));
    rows.push({ metric: '  ↳ output notifications per run', reference: String(chunks('reference')), execDesk: String(chunks('exec-desk')), ratio: ratioText(chunks('exec-desk'), chunks('reference')), target: '', status: '' });
    const ccpu = (kind: Kind) => median(tp.runs[kind].map((r) => r.clientCpuSeconds));
    const stalls = (kind: Kind) => median(tp.runs[kind].map((r) => r.gapsOver4msTotalMs));
    rows.push({ metric: '  ↳ output stalls > 4 ms per run (total)', reference: `${stalls('reference').toFixed(0)} ms`, execDesk: `${stalls('exec-desk').toFixed(0)} ms`, ratio: '', target: '', status: '' });
    rows.push({ metric: '  ↳ bench client CPU per run', reference: `${ccpu('reference').toFixed(2)} s`, execDesk: `${ccpu('exec-desk').toFixed(2)} s`, ratio: '', target: '', status: '' });
  }
  return { rows, checks };
}


// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const started = new Date();
  const servers = {} as Record<Kind, Server>;
  const clients = {} as Record<Kind, LeanClient>;
  let latency: LatencyOutcome | null = null;
  let throughput: ThroughputOutcome | null = null;
  try {
    for (const kind of ['reference', 'exec-desk'] as const) {
      servers[kind] = await startServer(kind, opts.deskBin, opts.deskNodeArgs.split(/\s+/).filter(Boolean));
      clients[kind] = await LeanClient.connect(servers[kind].url, opts.timeoutMs);
      await clients[kind].handshake('exec-desk-bench', opts.timeoutMs);
    }
    process.stderr.write(`servers: reference ${servers.reference.url}, exec-desk ${servers['exec-desk'].url}\n`);
    if (opts.only !== 'throughput') latency = await measureLatency(clients, opts);
    if (opts.only !== 'latency') throughput = await measureThroughput(clients, servers, opts);
  } catch (err) {
    process.stderr.write(`\nbenchmark failed: ${(err as Error).stack ?? err}\n`);
    for (const kind of ['reference', 'exec-desk'] as const) {
      const tail = servers[kind]?.stderr().trim().split('\n').slice(-10).join('\n');
      if (tail) process.stderr.write(`--- ${kind} stderr (tail) ---\n${tail}\n`);
    }
    return 1;
  } finally {
    for (const c of Object.values(clients)) c.close();
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }

  const { rows, checks } = buildRows(latency, throughput);
  const table = renderTable(rows);
  process.stdout.write(`\n${table}\n\n`);
  for (const [name, ok] of Object.entries(checks)) process.stdout.write(`${ok ? 'PASS' : 'MISS'}  ${name}\n`);

  const json = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    host: { node: process.version, platform: process.platform, arch: process.arch, cpus: (await import('node:os')).cpus().length },
    options: opts,
    latencyMs: latency,
    throughput,
    checks,
    table,
  };
  mkdirSync(dirname(opts.jsonPath), { recursive: true });
  writeFileSync(opts.jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`\nresults written to ${opts.jsonPath}\n`);
  const throughputBroken = throughput !== null && !(throughput.ok.reference && throughput.ok['exec-desk']);
  return throughputBroken ? 1 : 0;
}

process.exitCode = await main();
