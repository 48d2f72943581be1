/**
 * Turns what a scenario run captured (raw frames per connection, steps) into a normalized transcript:
 * a list of text lines that must be equal between the reference and exec-desk.
 *
 * What is erased (and only this):
 *  - session UUIDs → <SID1>, <SID2>… in order of first appearance, so "the same id again" still counts;
 *  - peer ports in messages (`127.0.0.1:54321` → `127.0.0.1:<PORT>`);
 *  - the scenario's temp workdir, the server fixtures dir, the server cwd and $HOME → placeholders;
 *  - in environmentInfo objects: providerId, executorVersion, userHomeDir, prependPathDirs; the capability
 *    flags are reduced to their key set (values go to the `recorded` part, not compared across kinds);
 *  - epoch-millisecond fields (`…AtMs`) and `pid` fields;
 *  - process output chunking: per connection and process every process/output notification is folded into
 *    concatenated bytes per stream, and the seq numbers become checked facts (contiguous from the first,
 *    one counter across output/exited/closed, closed last); process/read results are folded the same way
 *    and their nextSeq is expressed relative to a chunk-independent anchor;
 *  - a sent process/read `afterSeq` > 0 (it depends on chunking) → "<seq>".
 */
import { createHash } from 'node:crypto';

export type ServerKind = 'reference' | 'exec-desk';

export type SentEntry =
  /** `hidden`: sent by the scenario but left out of the transcript together with its reply (the scenario
   * records a derived, implementation-independent fact instead). */
  | { type: 'json'; message: unknown; hidden?: boolean }
  | { type: 'raw'; text: string; binary: boolean }
  | { type: 'action'; action: 'close' | 'terminate' };

export interface ReceivedEntry {
  text: string;
  binary: boolean;
}

/** A parsed message as received (unnormalized); what divergence checks look at. */
export interface WireMessage {
  id?: unknown;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}

export interface DivergenceSpec {
  /** Short name, e.g. "sandbox-restricted". */
  name: string;
  /** Why the implementations legitimately differ. */
  reason: string;
  /** What exec-desk must do instead; returns a problem description, or null when acceptable. */
  checkExecDesk?: (messages: WireMessage[]) => string | null;
}

export interface RawConnection {
  label: string;
  /** How the scenario described the connect (path and credential description, never raw tokens). */
  description: string;
  sent: SentEntry[];
  received: ReceivedEntry[];
  /** Close code seen by the client, or null when still open at the snapshot. */
  closeCode: number | null;
  divergence?: DivergenceSpec;
  /** Process notifications on this connection are timing-dependent in this scenario: not rendered. */
  ignoreProcessNotifications?: boolean;
}

export interface RawStep {
  /** `step` lines are compared across kinds; `recorded` lines only between runs of one kind. */
  kind: 'step' | 'recorded';
  text: string;
}

export interface RawRun {
  scenario: string;
  kind: ServerKind;
  steps: RawStep[];
  connections: RawConnection[];
  /** Literal paths to erase, with their placeholder, e.g. ['/tmp/conf-x1', '<WORKDIR>']. */
  paths: Array<[string, string]>;
}

export interface DivergenceRecord {
  name: string;
  reason: string;
  lines: string[];
  /** Only computed for exec-desk: null when exec-desk did what the divergence spec expects. */
  problem: string | null;
}

export interface Transcript {
  scenario: string;
  kind: ServerKind;
  /** Compared between the reference and exec-desk. */
  lines: string[];
  /** Recorded facts that legitimately differ between implementations; compared only run-to-run. */
  recorded: string[];
  divergences: DivergenceRecord[];
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const PEER = /\b(127\.0\.0\.1|\[::1\]|localhost):\d+/g;
const PROCESS_NOTIFICATIONS = new Set(['process/output', 'process/exited', 'process/closed']);
const MAX_INLINE_BYTES = 2048;
const MAX_INLINE_STRING = 4096;

type ProcEvent = { kind: 'output'; stream: string; bytes: Buffer } | { kind: 'exited' } | { kind: 'closed' };

/** What is known about one process of one session, from every connection's notifications. */
interface ProcessFacts {
  events: Map<number, ProcEvent>;
  exitedSeq?: number;
  closedSeq?: number;
}

export class Normalizer {
  private sids = new Map<string, string>();
  private firstEnvironmentInfo: string | undefined;
  private readonly paths: Array<[string, string]>;
  readonly recorded = new Set<string>();

  constructor(paths: Array<[string, string]>) {
    // Longest first so a workdir under $HOME or /tmp is replaced as a whole.
    this.paths = paths.filter(([p]) => p.length > 1).sort((a, b) => b[0].length - a[0].length);
  }

  string(s: string): string {
    let out = s.replace(UUID, (m) => {
      const key = m.toLowerCase();
      let ph = this.sids.get(key);
      if (!ph) {
        ph = `<SID${this.sids.size + 1}>`;
        this.sids.set(key, ph);
      }
      return ph;
    });
    for (const [path, ph] of this.paths) out = out.split(path).join(ph);
    return out.replace(PEER, '$1:<PORT>');
  }

  value(v: unknown): unknown {
    if (typeof v === 'string') {
      if (v.length > MAX_INLINE_STRING) {
        return `<string of ${v.length} chars sha256:${createHash('sha256').update(v).digest('hex').slice(0, 16)}>`;
      }
      return this.string(v);
    }
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (isEnvironmentInfo(o)) {
      // Shown in full once per transcript; later identical copies are abbreviated (still compared).
      const info = this.environmentInfo(o);
      const text = JSON.stringify(info);
      if (this.firstEnvironmentInfo === undefined) this.firstEnvironmentInfo = text;
      else if (this.firstEnvironmentInfo === text) return '<environmentInfo as above>';
      return info;
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      if (/AtMs$/.test(k) && typeof x === 'number' && x !== 0) out[k] = '<MS>';
      else if (k === 'pid' && typeof x === 'number') out[k] = '<PID>';
      else out[k] = this.value(x);
    }
    return out;
  }

  private environmentInfo(o: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      switch (k) {
        case 'executorVersion':
          this.recorded.add(`executorVersion ${JSON.stringify(x)}`);
          out[k] = '<VERSION>';
          break;
        case 'providerId':
          out[k] = '<PROVIDER_ID>';
          break;
        case 'userHomeDir':
          out[k] = typeof x === 'string' ? '<HOME_URI>' : x;
          break;
        case 'prependPathDirs':
          out[k] = Array.isArray(x) ? '<PREPEND_PATH_DIRS>' : x;
          break;
        case 'capabilities':
          if (x && typeof x === 'object' && !Array.isArray(x)) {
            const flags = x as Record<string, unknown>;
            this.recorded.add(`capabilities ${JSON.stringify(flags)}`);
            out[k] = { keys: Object.keys(flags).sort() };
          } else out[k] = x;
          break;
        default:
          out[k] = this.value(x);
      }
    }
    return out;
  }

  json(v: unknown): string {
    return JSON.stringify(this.value(v));
  }

  /** Bytes as a readable, normalized string, or a length+hash for big/binary output. */
  bytes(buf: Buffer): string {
    const text = buf.toString('utf8');
    const roundTrips = Buffer.from(text, 'utf8').equals(buf);
    if (!roundTrips && buf.length <= 64) return `<base64 ${buf.toString('base64')}>`;
    if (buf.length > MAX_INLINE_BYTES || !roundTrips) {
      return `<${buf.length} bytes sha256:${createHash('sha256').update(buf).digest('hex').slice(0, 16)}>`;
    }
    return this.string(text);
  }
}

function isEnvironmentInfo(o: Record<string, unknown>): boolean {
  return 'executorVersion' in o && 'capabilities' in o;
}

function parse(text: string): WireMessage | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as WireMessage) : undefined;
  } catch {
    return undefined;
  }
}

function isProcessNotification(m: WireMessage): boolean {
  return m.id === undefined && typeof m.method === 'string' && PROCESS_NOTIFICATIONS.has(m.method);
}

/** The session a connection is attached to: the sessionId of its successful initialize. */
export function sessionOf(conn: RawConnection): string | undefined {
  const initIds = new Set<unknown>();
  for (const s of conn.sent) {
    if (s.type === 'json') {
      const m = s.message as WireMessage;
      if (m && m.method === 'initialize' && m.id !== undefined) initIds.add(m.id);
    }
  }
  for (const r of conn.received) {
    const m = parse(r.text);
    if (m && m.method === undefined && initIds.has(m.id) && m.result && typeof m.result.sessionId === 'string') {
      return m.result.sessionId;
    }
  }
  return undefined;
}

function b64(s: unknown): Buffer {
  return typeof s === 'string' ? Buffer.from(s, 'base64') : Buffer.alloc(0);
}

function collectFacts(connections: RawConnection[]): Map<string, ProcessFacts> {
  const facts = new Map<string, ProcessFacts>();
  const get = (key: string) => {
    let f = facts.get(key);
    if (!f) facts.set(key, (f = { events: new Map() }));
    return f;
  };
  for (const conn of connections) {
    const sid = sessionOf(conn) ?? `?${conn.label}`;
    for (const r of conn.received) {
      const m = parse(r.text);
      if (!m || !isProcessNotification(m)) continue;
      const p = m.params ?? {};
      const f = get(`${sid}\u0000${p.processId}`);
      if (typeof p.seq !== 'number') continue;
      if (m.method === 'process/output') f.events.set(p.seq, { kind: 'output', stream: String(p.stream), bytes: b64(p.chunk) });
      else if (m.method === 'process/exited') {
        f.events.set(p.seq, { kind: 'exited' });
        f.exitedSeq = p.seq;
      } else {
        f.events.set(p.seq, { kind: 'closed' });
        f.closedSeq = p.seq;
      }
    }
  }
  return facts;
}

/**
 * Concatenated bytes per stream, in a fixed stream order (stdout, stderr, pty, then others by name): which
 * pipe delivers its first chunk first is a race, so arrival order of streams is not compared.
 */
function foldStreams(streams: Map<string, Buffer[]>, n: Normalizer): Record<string, unknown> {
  const known = ['stdout', 'stderr', 'pty'];
  const order = [...known, ...[...streams.keys()].filter((k) => !known.includes(k)).sort()];
  const out: Record<string, unknown> = {};
  for (const s of order) {
    const parts = streams.get(s);
    if (parts) out[s] = n.bytes(Buffer.concat(parts));
  }
  return out;
}

/**
 * Folds process/output|exited|closed notifications of one process on one connection.
 *
 * Seq facts checked (chunk-independent): the seqs form one contiguous run with no duplicates (one counter
 * across output/exited/closed, nothing skipped while attached); at most one exited and one closed; closed
 * carries the highest seq and arrives last; exited's seq is below closed's; within one stream, outputs arrive
 * in seq order. NOT required: that exited arrives after every lower-seq output — the reference occasionally
 * (≈1 in 15 runs of 3 MB output) sends `exited` just before the output chunk whose seq is one lower.
 * Output bytes are concatenated per stream in seq order.
 */
function foldNotifications(messages: WireMessage[], n: Normalizer): Record<string, unknown> {
  const problems: string[] = [];
  const seqs: number[] = [];
  const outputs: Array<{ seq: number; stream: string; bytes: Buffer }> = [];
  const lastSeqOfStream = new Map<string, number>();
  let exited: Record<string, unknown> | undefined;
  let exitedSeq: number | undefined;
  let closedSeq: number | undefined;
  let exitedCount = 0;
  let closedCount = 0;
  for (const m of messages) {
    const p = m.params ?? {};
    const seq = p.seq;
    if (!Number.isInteger(seq)) {
      problems.push(`non-integer seq ${JSON.stringify(seq)}`);
      continue;
    }
    if (closedSeq !== undefined) problems.push(`${m.method} after closed`);
    seqs.push(seq);
    if (m.method === 'process/output') {
      const stream = String(p.stream);
      const prev = lastSeqOfStream.get(stream);
      if (prev !== undefined && seq < prev) problems.push(`${stream} seq ${seq} arrived after ${prev}`);
      lastSeqOfStream.set(stream, seq);
      outputs.push({ seq, stream, bytes: b64(p.chunk) });
    } else if (m.method === 'process/exited') {
      exitedCount++;
      exitedSeq = seq;
      const { processId: _pid, seq: _seq, ...rest } = p;
      exited = rest;
    } else {
      closedCount++;
      closedSeq = seq;
      const { processId: _pid, seq: _seq, ...rest } = p;
      if (Object.keys(rest).length > 0) problems.push(`closed carries ${JSON.stringify(rest)}`);
    }
  }
  const sorted = [...seqs].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) problems.push(`duplicate seq ${sorted[i]}`);
    else if (sorted[i] !== sorted[i - 1]! + 1) problems.push(`gap between seq ${sorted[i - 1]} and ${sorted[i]}`);
  }
  if (exitedCount > 1) problems.push(`${exitedCount} exited notifications`);
  if (closedCount > 1) problems.push(`${closedCount} closed notifications`);
  if (closedSeq !== undefined) {
    if (exitedSeq === undefined) problems.push('closed without exited');
    else if (exitedSeq > closedSeq) problems.push('exited seq above closed seq');
    if (closedSeq !== sorted.at(-1)) problems.push(`closed seq ${closedSeq} is not the highest`);
  }
  const streams = new Map<string, Buffer[]>();
  for (const o of outputs.sort((a, b) => a.seq - b.seq)) {
    if (!streams.has(o.stream)) streams.set(o.stream, []);
    streams.get(o.stream)!.push(o.bytes);
  }
  const out: Record<string, unknown> = foldStreams(streams, n);
  if (exited) out.exited = n.value(exited);
  out.closed = closedSeq !== undefined;
  const first = sorted[0];
  out.firstSeq = first === 1 ? 1 : first === undefined ? null : '>1';
  out.seq = problems.length === 0 ? 'ok' : `VIOLATION: ${problems.join('; ')}`;
  return out;
}

/** Folds a process/read result: chunks → bytes per stream, nextSeq → anchor, seq facts checked. */
export function foldReadResult(
  result: Record<string, unknown>,
  request: Record<string, any>,
  facts: ProcessFacts | undefined,
  n: Normalizer,
): Record<string, unknown> {
  const chunks = result.chunks;
  if (!Array.isArray(chunks)) return n.value(result) as Record<string, unknown>;
  const afterSeq = typeof request.afterSeq === 'number' ? request.afterSeq : 0;
  const maxBytes = typeof request.maxBytes === 'number' ? request.maxBytes : undefined;
  const problems: string[] = [];
  const streams = new Map<string, Buffer[]>();
  let last: number | undefined;
  let total = 0;
  for (const c of chunks as Array<Record<string, unknown>>) {
    const seq = c.seq;
    const bytes = b64(c.chunk);
    total += bytes.length;
    if (typeof seq !== 'number' || !Number.isInteger(seq)) problems.push(`chunk seq ${JSON.stringify(seq)}`);
    else {
      if (seq <= afterSeq) problems.push(`chunk seq ${seq} <= afterSeq ${afterSeq}`);
      if (last !== undefined && seq <= last) problems.push(`chunk seq ${seq} after ${last}`);
      last = seq;
      const known = facts?.events.get(seq);
      if (known && (known.kind !== 'output' || known.stream !== c.stream || !known.bytes.equals(bytes))) {
        problems.push(`chunk seq ${seq} differs from the notification with that seq`);
      }
    }
    const s = String(c.stream);
    if (!streams.has(s)) streams.set(s, []);
    streams.get(s)!.push(bytes);
  }
  if (maxBytes !== undefined && chunks.length > 1 && total > maxBytes) {
    problems.push(`${chunks.length} chunks, ${total} bytes > maxBytes ${maxBytes}`);
  }
  const nextSeq = result.nextSeq;
  let anchor: string;
  if (typeof nextSeq !== 'number') anchor = `non-number ${JSON.stringify(nextSeq)}`;
  else {
    if (last !== undefined && nextSeq <= last) problems.push(`nextSeq ${nextSeq} <= last chunk seq ${last}`);
    if (last !== undefined && nextSeq === last + 1) anchor = 'lastChunk+1';
    else if (facts?.closedSeq !== undefined && nextSeq === facts.closedSeq + 1) anchor = 'closed+1';
    else if (facts?.exitedSeq !== undefined && nextSeq === facts.exitedSeq + 1) anchor = 'exited+1';
    else if (last === undefined && nextSeq === afterSeq + 1) anchor = 'afterSeq+1';
    else anchor = last === undefined ? 'unanchored' : 'beyondLastChunk';
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result)) {
    if (k === 'chunks') {
      out[k] = foldStreams(streams, n);
    } else if (k === 'nextSeq') out[k] = anchor;
    else out[k] = n.value(v);
  }
  if (problems.length > 0) out.seqInvariant = `VIOLATION: ${problems.join('; ')}`;
  return out;
}

/**
 * Received frames are rendered from their parsed form (so values can be normalized); when the text is not
 * what JSON.stringify would produce (big integers losing precision, `1.0`, whitespace, escapes), the raw
 * text is appended so such differences still show.
 */
function nonCanonical(text: string, n: Normalizer): string {
  try {
    if (JSON.stringify(JSON.parse(text)) === text) return '';
  } catch {
    return '';
  }
  return ` [non-canonical text ${JSON.stringify(n.string(text))}]`;
}

function renderSent(entry: SentEntry, n: Normalizer): string {
  if (entry.type === 'action') return entry.action === 'close' ? '⇥ close frame' : '⇥ tcp drop';
  if (entry.type === 'raw') return `→ ${entry.binary ? 'binary' : 'text'} ${JSON.stringify(n.string(entry.text))}`;
  const m = entry.message as WireMessage;
  if (m && typeof m === 'object' && m.method === 'process/read' && m.params && typeof m.params === 'object') {
    const params = m.params as Record<string, unknown>;
    if (typeof params.afterSeq === 'number' && params.afterSeq > 0) {
      return `→ ${n.json({ ...m, params: { ...params, afterSeq: '<seq>' } })}`;
    }
  }
  return `→ ${n.json(entry.message)}`;
}

function sentRequests(conn: RawConnection): Array<{ id: unknown; method: string; params: any; used: boolean }> {
  const out: Array<{ id: unknown; method: string; params: any; used: boolean }> = [];
  for (const s of conn.sent) {
    if (s.type === 'json') {
      const m = s.message as WireMessage;
      if (m && typeof m === 'object' && m.id !== undefined && typeof m.method === 'string') {
        out.push({ id: m.id, method: m.method, params: m.params, used: false });
      }
    } else if (s.type === 'raw') {
      const m = parse(s.text);
      if (m && m.id !== undefined && typeof m.method === 'string') out.push({ id: m.id, method: m.method, params: m.params, used: false });
    }
  }
  return out;
}

function renderConnection(conn: RawConnection, facts: Map<string, ProcessFacts>, n: Normalizer): string[] {
  const L = conn.label;
  const lines: string[] = [`${L} connected ${n.string(conn.description)}`];
  const hiddenIds = new Set<unknown>();
  for (const s of conn.sent) {
    if (s.type === 'json' && s.hidden) {
      const id = (s.message as WireMessage)?.id;
      if (id !== undefined) hiddenIds.add(id);
      continue;
    }
    lines.push(`${L} ${renderSent(s, n)}`);
  }
  const sid = sessionOf(conn) ?? `?${conn.label}`;
  const requests = sentRequests(conn);
  const perProcess = new Map<string, WireMessage[]>();
  for (const r of conn.received) {
    const m = parse(r.text);
    const tag = r.binary ? ' (binary frame)' : '';
    if (!m) {
      lines.push(`${L} ← NOT A JSON OBJECT${tag}: ${JSON.stringify(n.string(r.text))}`);
      continue;
    }
    if (isProcessNotification(m) && conn.ignoreProcessNotifications) continue;
    if (isProcessNotification(m)) {
      const pid = String(m.params?.processId);
      if (!perProcess.has(pid)) perProcess.set(pid, []);
      perProcess.get(pid)!.push(m);
      continue;
    }
    if (m.method === undefined && m.id !== undefined && hiddenIds.has(m.id)) continue;
    if (m.method === undefined && m.id !== undefined) {
      const req = requests.find((q) => !q.used && q.id === m.id && typeof q.id === typeof m.id);
      if (req) req.used = true;
      if (req?.method === 'process/read' && m.result && typeof m.result === 'object' && !Array.isArray(m.result)) {
        const pid = String(req.params?.processId);
        const folded = foldReadResult(m.result, req.params ?? {}, facts.get(`${sid}\u0000${pid}`), n);
        const copy: Record<string, unknown> = {};
        for (const k of Object.keys(m)) copy[k] = k === 'result' ? folded : n.value((m as Record<string, unknown>)[k]);
        lines.push(`${L} ← ${JSON.stringify(copy)}${tag}`);
        continue;
      }
    }
    lines.push(`${L} ← ${n.json(m)}${tag}${nonCanonical(r.text, n)}`);
  }
  // One line per process, in the order the connection started them (then any others by first appearance),
  // so concurrently running processes do not reorder the transcript.
  const startedOrder: string[] = [];
  for (const q of requests) if (q.method === 'process/start' && typeof q.params?.processId === 'string') startedOrder.push(q.params.processId);
  const rank = (pid: string) => {
    const i = startedOrder.indexOf(pid);
    return i < 0 ? startedOrder.length : i;
  };
  const processLines = [...perProcess.entries()].map(([pid, messages], i) => ({ pid, messages, i }));
  processLines.sort((a, b) => rank(a.pid) - rank(b.pid) || a.i - b.i);
  for (const { pid, messages } of processLines) {
    lines.push(`${L} process ${JSON.stringify(n.string(pid))} ${JSON.stringify(foldNotifications(messages, n))}`);
  }
  if (conn.ignoreProcessNotifications) lines.push(`${L} process notifications not compared in this scenario`);
  lines.push(conn.closeCode === null ? `${L} open at end` : `${L} closed with code ${conn.closeCode}`);
  return lines;
}

export function normalizeRun(raw: RawRun): Transcript {
  const n = new Normalizer(raw.paths);
  const facts = collectFacts(raw.connections);
  const lines: string[] = [];
  const recorded: string[] = [];
  for (const s of raw.steps) (s.kind === 'step' ? lines : recorded).push(n.string(s.text));
  const divergences: DivergenceRecord[] = [];
  // Divergent connections last, so placeholders and "as above" abbreviations in the compared part never
  // refer to something only shown in a divergence section.
  const ordered = [...raw.connections.filter((c) => !c.divergence), ...raw.connections.filter((c) => c.divergence)];
  for (const conn of ordered) {
    const rendered = renderConnection(conn, facts, n);
    if (conn.divergence) {
      const messages = conn.received.map((r) => parse(r.text)).filter((m): m is WireMessage => m !== undefined);
      divergences.push({
        name: conn.divergence.name,
        reason: conn.divergence.reason,
        lines: rendered,
        problem: raw.kind === 'exec-desk' && conn.divergence.checkExecDesk ? conn.divergence.checkExecDesk(messages) : null,
      });
    } else lines.push(...rendered);
  }
  recorded.push(...[...n.recorded].map((r) => `recorded ${r}`));
  return { scenario: raw.scenario, kind: raw.kind, lines, recorded, divergences };
}

/** The part of a transcript that must be equal run-to-run on one implementation. */
export function determinismView(t: Transcript): string[] {
  return [
    ...t.lines,
    ...t.recorded,
    ...t.divergences.flatMap((d) => [`divergence ${d.name}: ${d.reason}`, ...d.lines]),
  ];
}

export function renderTranscript(t: Transcript): string {
  const out = [`# ${t.scenario} on ${t.kind}`, ...t.lines];
  if (t.recorded.length > 0) out.push('# recorded only (not compared across implementations)', ...t.recorded);
  for (const d of t.divergences) {
    out.push(`# EXPECTED DIVERGENCE ${d.name}: ${d.reason}`, ...d.lines);
    if (d.problem) out.push(`# divergence problem: ${d.problem}`);
  }
  return out.join('\n');
}
