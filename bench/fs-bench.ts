/**
 * fs/* read benchmark: exec-desk side by side with the reference `codex exec-server` (0.169.0),
 * in one run, on loopback only.
 *
 *   node --import tsx bench/fs-bench.ts [--mib N] [--runs N]
 *
 * 1. A temp file of <mib> MiB (default 256) is written from one 1 MiB random block, repeated, with
 *    the block index stamped into the first 8 bytes of each block (so misordered chunks change the
 *    hash). Its SHA-256 is computed while writing. A small warm-up file (≤ 16 MiB) is written too.
 * 2. Both servers are started, one connection each (initialize + initialized).
 * 3. Per server, alternating (ABBA-ish: order flips every run), <runs> runs (default 3) of
 *    (a) `fs/readFile` of the whole file (send → response), and
 *    (b) `fs/open` (mode "read") → sequential 1 MiB `fs/readBlock` until `eof` → `fs/close`
 *        (open send → close response).
 *    One unrecorded warm-up of each on the small file first.
 * 4. Every run's decoded byte count and SHA-256 must match the file; otherwise the run fails.
 *    The base64 payload is located in the raw frame (no JSON parse of the megabytes) and decoded +
 *    hashed after the timed section, in 4 MiB slices (no giant strings).
 * 5. Markdown table (median MB/s, MB = 1e6 bytes) with ratio exec-desk / reference and PASS/MISS
 *    against ≥ 1.0×; JSON in bench/results/fs-latest.json.
 *
 * Every wait has a timeout; servers are SIGTERMed (then SIGKILLed) on every way out, and the temp
 * directory is removed in `finally` and on SIGINT/SIGTERM.
 * Flags not listed above: --timeout-ms N (per small request), --json PATH, --desk-bin PATH.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execDeskBin, KINDS, LeanRpcClient, median, parseBenchFlags, now, projectRoot, ratioText, renderTable, sleep, startServer, stopServersOnExit, treeCpuSeconds, withTimeout, type Kind, type Row, type Server } from './bench-kit.ts';

// ---------------------------------------------------------------------------------------------
// Options

const MIB = 1_048_576;
const BLOCK = MIB; // fs/readBlock len (the protocol maximum)

function parseOptions(argv: string[]) {
  return parseBenchFlags(argv, 'bench/fs-bench.ts', 'fs/* read benchmark: exec-desk vs the reference codex exec-server', {
    mib: { kind: 'int', min: 1, default: 256 },
    runs: { kind: 'int', min: 1, default: 3 },
    timeoutMs: { kind: 'int', min: 100, default: 10_000 },
    deskBin: { kind: 'string', default: execDeskBin, meta: 'PATH' },
    jsonPath: { kind: 'string', flag: 'json', default: `${projectRoot}bench/results/fs-latest.json`, meta: 'PATH' },
  });
}
type Options = ReturnType<typeof parseOptions>;

// ---------------------------------------------------------------------------------------------
// Test files (temp dir, always removed)

interface TestFile {
  path: string;
  uri: string;
  bytes: number;
  sha256: string;
}

let tempDir: string | null = null;

function removeTemp(): void {
  if (tempDir === null) return;
  try {
    rmSync(tempDir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
  tempDir = null;
}

function writeTestFile(dir: string, name: string, mib: number, block: Buffer): TestFile {
  const path = join(dir, name);
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    const buf = Buffer.from(block);
    for (let i = 0; i < mib; i++) {
      buf.writeBigUInt64LE(BigInt(i), 0);
      hash.update(buf);
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    }
  } finally {
    closeSync(fd);
  }
  return { path, uri: pathToFileURL(path).href, bytes: mib * MIB, sha256: hash.digest('hex') };
}

// ---------------------------------------------------------------------------------------------
// Servers (same pattern as process-bench.ts)





stopServersOnExit(removeTemp);


// ---------------------------------------------------------------------------------------------
// Lean JSON-RPC client. Large response frames are not JSON-parsed whole: the base64 payload
// ("dataBase64" / "chunk") is cut out of the raw frame and the small remainder is parsed.

interface Reply {
  result: Record<string, unknown>;
  /** The base64 payload as raw bytes (a view into the frame), or null if the result had none. */
  payload: Buffer | null;
  at: number;
}

const PAYLOAD_KEYS = [Buffer.from('"dataBase64":"'), Buffer.from('"chunk":"')];
const RAW_THRESHOLD = 64 * 1024;

class LeanClient extends LeanRpcClient<Reply> {
  static async connect(url: string, timeoutMs: number): Promise<LeanClient> {
    return new LeanClient(await LeanRpcClient.open(url, timeoutMs, 1024 * MIB));
  }

  protected onFrame(data: Buffer, at: number): void {
    let message: { id?: number; method?: string; result?: Record<string, unknown>; error?: { code: number; message: string } };
    let payload: Buffer | null = null;
    try {
      if (data.length > RAW_THRESHOLD) {
        let cut: [number, number] | null = null;
        for (const key of PAYLOAD_KEYS) {
          const k = data.indexOf(key);
          if (k < 0) continue;
          const start = k + key.length;
          const end = data.indexOf(0x22, start);
          if (end > start) cut = [start, end];
          break;
        }
        if (cut) {
          payload = data.subarray(cut[0], cut[1]);
          message = JSON.parse(data.toString('latin1', 0, cut[0]) + data.toString('latin1', cut[1]));
        } else {
          message = JSON.parse(data.toString('utf8'));
        }
      } else {
        message = JSON.parse(data.toString('utf8'));
      }
    } catch (err) {
      return this.fail(new Error(`unparseable frame (${data.length} bytes): ${(err as Error).message}`));
    }
    if (message.method !== undefined) return; // no notifications expected for fs/*
    this.settle(message.id, message.error, () => {
      const result = message.result ?? {};
      if (payload === null) {
        const inline = result.dataBase64 ?? result.chunk;
        if (typeof inline === 'string') payload = Buffer.from(inline, 'latin1');
      }
      return { result, payload, at };
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Verification: decode base64 payloads in 4 MiB slices and hash (after the timed section).

function decodeAndHash(payloads: Buffer[]): { bytes: number; sha256: string; problem: string | null } {
  const hash = createHash('sha256');
  let bytes = 0;
  let problem: string | null = null;
  const SLICE = 4 * MIB; // multiple of 4 base64 chars
  for (const [i, p] of payloads.entries()) {
    if (p.length % 4 !== 0 && problem === null) problem = `payload ${i} is not padded base64 (${p.length} chars)`;
    for (let off = 0; off < p.length; off += SLICE) {
      const part = Buffer.from(p.toString('latin1', off, Math.min(p.length, off + SLICE)), 'base64');
      bytes += part.length;
      hash.update(part);
    }
  }
  return { bytes, sha256: hash.digest('hex'), problem };
}

// ---------------------------------------------------------------------------------------------
// Runs

type Metric = 'readFile' | 'readBlock';
const METRICS: Metric[] = ['readFile', 'readBlock'];

interface Run {
  ok: boolean;
  failure: string | null;
  bytes: number;
  expectedBytes: number;
  sha256Ok: boolean;
  requests: number;
  seconds: number;
  mbPerSec: number;
  serverCpuSeconds: number;
}

/** Generous bound for a whole-file transfer: 60 s + 1 s per MiB. */
const bigTimeout = (file: TestFile, opts: Options) => Math.max(opts.timeoutMs, 60_000 + (file.bytes / MIB) * 1000);

async function readFileRun(client: LeanClient, server: Server, file: TestFile, opts: Options): Promise<Run> {
  const cpu0 = treeCpuSeconds(server.child.pid!);
  let payloads: Buffer[] = [];
  let seconds = NaN;
  let failure: string | null = null;
  try {
    const { sentAt, reply } = client.request('fs/readFile', { path: file.uri }, bigTimeout(file, opts));
    const r = await reply;
    seconds = (r.at - sentAt) / 1000;
    if (r.payload === null) failure = 'no dataBase64 in result';
    else payloads = [r.payload];
  } catch (err) {
    failure = (err as Error).message;
  }
  return finishRun(server, cpu0, file, payloads, 1, seconds, failure);
}

async function readBlockRun(client: LeanClient, server: Server, file: TestFile, handleId: string, opts: Options): Promise<Run> {
  const cpu0 = treeCpuSeconds(server.child.pid!);
  const payloads: Buffer[] = [];
  let seconds = NaN;
  let failure: string | null = null;
  let requests = 0;
  let opened = false;
  const deadline = now() + bigTimeout(file, opts);
  try {
    const open = client.request('fs/open', { handleId, path: file.uri, mode: 'read' }, opts.timeoutMs);
    const t0 = open.sentAt;
    requests++;
    await open.reply;
    opened = true;
    let offset = 0;
    for (;;) {
      if (now() > deadline) throw new Error(`readBlock loop exceeded its deadline at offset ${offset}`);
      const r = await client.request('fs/readBlock', { handleId, offset, len: BLOCK }, opts.timeoutMs).reply;
      requests++;
      if (r.payload === null) throw new Error(`no chunk in readBlock result at offset ${offset}`);
      payloads.push(r.payload);
      // Decoded length from the padded base64 length (exact), to advance the offset without decoding.
      const p = r.payload;
      const pad = (p.length > 0 && p[p.length - 1] === 0x3d ? 1 : 0) + (p.length > 1 && p[p.length - 2] === 0x3d ? 1 : 0);
      offset += (p.length / 4) * 3 - pad;
      if (r.result.eof === true) break;
      if (typeof r.result.eof !== 'boolean') throw new Error(`readBlock result without boolean eof at offset ${offset}`);
    }
    const close = await client.request('fs/close', { handleId }, opts.timeoutMs).reply;
    requests++;
    opened = false;
    seconds = (close.at - t0) / 1000;
  } catch (err) {
    failure = (err as Error).message;
  } finally {
    if (opened) await client.request('fs/close', { handleId }, opts.timeoutMs).reply.catch(() => {});
  }
  return finishRun(server, cpu0, file, payloads, requests, seconds, failure);
}

function finishRun(server: Server, cpu0: number, file: TestFile, payloads: Buffer[], requests: number, seconds: number, failure: string | null): Run {
  const serverCpuSeconds = treeCpuSeconds(server.child.pid!) - cpu0;
  const check = decodeAndHash(payloads);
  const sha256Ok = check.sha256 === file.sha256;
  if (failure === null) {
    if (check.problem) failure = check.problem;
    else if (check.bytes !== file.bytes) failure = `decoded ${check.bytes} bytes, expected ${file.bytes}`;
    else if (!sha256Ok) failure = 'SHA-256 of decoded content differs from the file';
  }
  return {
    ok: failure === null,
    failure,
    bytes: check.bytes,
    expectedBytes: file.bytes,
    sha256Ok,
    requests,
    seconds,
    mbPerSec: check.bytes / 1e6 / seconds,
    serverCpuSeconds,
  };
}

interface Outcome {
  runs: Record<Metric, Record<Kind, Run[]>>;
  medianMbPerSec: Record<Metric, Record<Kind, number>>;
  ok: Record<Metric, Record<Kind, boolean>>;
}

async function measure(clients: Record<Kind, LeanClient>, servers: Record<Kind, Server>, file: TestFile, warm: TestFile, opts: Options): Promise<Outcome> {
  let handleSeq = 0;
  const run = (metric: Metric, kind: Kind, f: TestFile) =>
    metric === 'readFile' ? readFileRun(clients[kind], servers[kind], f, opts) : readBlockRun(clients[kind], servers[kind], f, `bench-h${handleSeq++}`, opts);

  // Unrecorded warm-up per server and metric (JIT, allocator, page cache).
  for (const kind of KINDS) {
    for (const metric of METRICS) {
      const w = await run(metric, kind, warm);
      process.stderr.write(`  warm-up ${metric} ${kind}: ${w.ok ? `${w.mbPerSec.toFixed(1)} MB/s` : `FAILED: ${w.failure}`}\n`);
    }
  }

  const runs: Record<Metric, Record<Kind, Run[]>> = { readFile: { reference: [], 'exec-desk': [] }, readBlock: { reference: [], 'exec-desk': [] } };
  for (let r = 0; r < opts.runs; r++) {
    const order: Kind[] = r % 2 === 0 ? ['reference', 'exec-desk'] : ['exec-desk', 'reference'];
    for (const metric of METRICS) {
      for (const kind of order) {
        const res = await run(metric, kind, file);
        runs[metric][kind].push(res);
        process.stderr.write(
          `  ${metric} ${kind} run ${r + 1}: ${res.ok ? `${res.mbPerSec.toFixed(1)} MB/s` : `FAILED: ${res.failure}`}, ` +
            `${(res.seconds * 1000).toFixed(0)} ms, ${res.requests} requests, server cpu ${res.serverCpuSeconds.toFixed(2)} s, sha ${res.sha256Ok ? 'ok' : 'BAD'}\n`,
        );
        await sleep(200); // let GC / socket buffers settle
      }
    }
  }
  const med = (m: Metric, k: Kind) => median(runs[m][k].filter((x) => x.ok).map((x) => x.mbPerSec));
  const allOk = (m: Metric, k: Kind) => runs[m][k].every((x) => x.ok);
  return {
    runs,
    medianMbPerSec: {
      readFile: { reference: med('readFile', 'reference'), 'exec-desk': med('readFile', 'exec-desk') },
      readBlock: { reference: med('readBlock', 'reference'), 'exec-desk': med('readBlock', 'exec-desk') },
    },
    ok: {
      readFile: { reference: allOk('readFile', 'reference'), 'exec-desk': allOk('readFile', 'exec-desk') },
      readBlock: { reference: allOk('readBlock', 'reference'), 'exec-desk': allOk('readBlock', 'exec-desk') },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Report



function buildRows(out: Outcome, opts: Options): { rows: Row[]; checks: Record<string, boolean> } {
  const rows: Row[] = [];
  const checks: Record<string, boolean> = {};
  const labels: Record<Metric, string> = {
    readFile: `fs/readFile ${opts.mib} MiB (median of ${opts.runs})`,
    readBlock: `fs/readBlock 1 MiB loop, ${opts.mib} MiB (median of ${opts.runs})`,
  };
  for (const m of METRICS) {
    const ref = out.medianMbPerSec[m].reference;
    const desk = out.medianMbPerSec[m]['exec-desk'];
    const bothOk = out.ok[m].reference && out.ok[m]['exec-desk'];
    const pass = bothOk && desk / ref >= 1.0;
    checks[`${m} >= 1.0x reference`] = pass;
    checks[`${m} byte counts + SHA-256 exact`] = bothOk;
    const cell = (k: Kind) => {
      const failed = out.runs[m][k].find((x) => !x.ok);
      if (!failed) return `${out.medianMbPerSec[m][k].toFixed(1)} MB/s`;
      const okCount = out.runs[m][k].filter((x) => x.ok).length;
      return `${okCount ? `${out.medianMbPerSec[m][k].toFixed(1)} MB/s, ` : ''}FAILED ${out.runs[m][k].length - okCount}/${out.runs[m][k].length} (${failed.failure})`;
    };
    rows.push({ metric: labels[m], reference: cell('reference'), execDesk: cell('exec-desk'), ratio: ratioText(desk, ref), target: '≥ 1.0× ref', status: bothOk ? (pass ? 'PASS' : 'MISS') : 'MISS (verification)' });
    const cpu = (k: Kind) => median(out.runs[m][k].map((x) => x.serverCpuSeconds));
    rows.push({ metric: '  ↳ server CPU per run (median)', reference: `${cpu('reference').toFixed(2)} s`, execDesk: `${cpu('exec-desk').toFixed(2)} s`, ratio: ratioText(cpu('exec-desk'), cpu('reference')), target: '', status: '' });
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
  let outcome: Outcome | null = null;
  let file: TestFile | null = null;
  try {
    tempDir = mkdtempSync(join(tmpdir(), 'exec-desk-fs-bench-'));
    const block = randomBytes(MIB);
    const t0 = now();
    file = writeTestFile(tempDir, 'data.bin', opts.mib, block);
    const warm = writeTestFile(tempDir, 'warm.bin', Math.min(opts.mib, 16), block);
    process.stderr.write(`test file: ${file.path} (${opts.mib} MiB, sha256 ${file.sha256.slice(0, 16)}…, written in ${(now() - t0).toFixed(0)} ms)\n`);

    for (const kind of KINDS) {
      servers[kind] = await startServer(kind, opts.deskBin);
      clients[kind] = await LeanClient.connect(servers[kind].url, opts.timeoutMs);
      await clients[kind].handshake('exec-desk-fs-bench', opts.timeoutMs);
    }
    process.stderr.write(`servers: reference ${servers.reference.url}, exec-desk ${servers['exec-desk'].url}\n`);
    outcome = await measure(clients, servers, file, warm, opts);
  } catch (err) {
    process.stderr.write(`\nbenchmark failed: ${(err as Error).stack ?? err}\n`);
    for (const kind of KINDS) {
      const tail = servers[kind]?.stderr().trim().split('\n').slice(-10).join('\n');
      if (tail) process.stderr.write(`--- ${kind} stderr (tail) ---\n${tail}\n`);
    }
    return 1;
  } finally {
    for (const c of Object.values(clients)) c.close();
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    removeTemp();
  }

  if (outcome === null || file === null) return 1;
  const { rows, checks } = buildRows(outcome, opts);
  const table = renderTable(rows);
  process.stdout.write(`\n${table}\n\n`);
  for (const [name, ok] of Object.entries(checks)) process.stdout.write(`${ok ? 'PASS' : 'MISS'}  ${name}\n`);

  const json = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    host: { node: process.version, platform: process.platform, arch: process.arch, cpus: cpus().length },
    options: opts,
    file: { bytes: file.bytes, sha256: file.sha256, blockLen: BLOCK },
    fs: outcome,
    checks,
    table,
  };
  mkdirSync(dirname(opts.jsonPath), { recursive: true });
  writeFileSync(opts.jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`\nresults written to ${opts.jsonPath}\n`);
  const done = outcome;
  const broken = METRICS.some((m) => !(done.ok[m].reference && done.ok[m]['exec-desk']));
  return broken ? 1 : 0;
}

process.exitCode = await main();
