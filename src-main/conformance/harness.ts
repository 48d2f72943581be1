/**
 * Conformance harness: runs a scripted scenario against one exec-server (the reference `codex exec-server`
 * or exec-desk), records everything the scenario did and saw, and normalizes it into a transcript
 * (see normalize.ts) that must be equal between implementations and between two runs of one.
 *
 * A scenario gets a context with a traced client factory (`connect`), a fresh temp workdir, raw HTTP to the
 * listener (`http`), `sleep`, and ways to put its own observations into the transcript (`fact`, `step`,
 * `record`). Transcript layout: first the program-ordered steps (connect attempts, HTTP exchanges, facts),
 * then, per connection (c1, c2, … in connect order): every frame sent in order, every response/other frame
 * received in arrival order, one folded line per process for its notifications, and the close code.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RpcClient, type RpcMessage } from '../testkit/rpc-client.ts';
import { startServer, type StartedServer } from '../testkit/server-process.ts';
import {
  normalizeRun,
  type DivergenceSpec,
  type RawConnection,
  type RawStep,
  type ReceivedEntry,
  type SentEntry,
  type ServerKind,
  type Transcript,
} from './normalize.ts';

export type { ServerKind, Transcript, DivergenceSpec } from './normalize.ts';

/** The PATH given to child processes by scenarios unless they say otherwise. */
export const CHILD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// ---------------------------------------------------------------------------------------------------------
// Servers

export interface ServerSpec {
  /** Scenarios whose specs have the same key share one server per kind. */
  key: string;
  /** Flags after `--listen ws://127.0.0.1:0`; `fixtures` is a per-key directory created beforehand. */
  flags?: (fixtures: string) => string[];
  /** Writes files the flags refer to (token files, secrets) into `fixtures`. */
  setup?: (fixtures: string) => void;
  /** Extra environment for this server (e.g. HOME / CODEX_HOME inside `fixtures`), over serverEnvironment(). */
  env?: (fixtures: string) => Record<string, string>;
}

export const DEFAULT_SERVER: ServerSpec = { key: 'default' };

export interface PooledServer {
  kind: ServerKind;
  url: string;
  port: number;
  /** Per-spec directory with token/secret files. */
  fixtures: string;
  /** The server's working directory. */
  cwd: string;
  process: StartedServer;
}

/**
 * Environment variables the servers are started with: a small fixed set so that children inheriting the
 * server environment (envPolicy) see the same names on both implementations. The CONF_* variables exercise
 * the default excludes (*KEY*, *SECRET*, *TOKEN*) and include/exclude globs.
 */
export function serverEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? CHILD_PATH,
    HOME: process.env.HOME ?? '/root',
    CONF_MARKER: 'marker',
    CONF_PLAIN: 'plain',
    CONF_API_KEY: 'key-value',
    CONF_SECRET_VALUE: 'secret-value',
    CONF_AUTH_TOKEN: 'token-value',
    CONF_PASSWORD: 'password-value',
  };
  if (process.env.USER) env.USER = process.env.USER;
  return env;
}

const liveChildren = new Set<StartedServer>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Servers are our children: make sure none survives the test process, even on a crash. SIGTERM, not
  // SIGKILL: the reference's npm launcher (bin/codex.js) forwards SIGTERM to the native binary it spawned,
  // while a SIGKILL to the launcher would orphan that binary.
  process.on('exit', () => {
    for (const s of liveChildren) {
      try {
        s.child.kill('SIGTERM');
      } catch {
        /* already gone */
      }
    }
  });
}

/** Starts servers lazily, one per (kind, spec key), and stops them all at the end. */
export class ServerPool {
  readonly root: string;
  readonly serverCwd: string;
  private servers = new Map<string, Promise<PooledServer>>();

  constructor() {
    this.root = realpathSync(mkdtempSync(join(tmpdir(), 'conf-pool-')));
    this.serverCwd = join(this.root, 'server-cwd');
    mkdirSync(this.serverCwd);
    installExitHook();
  }

  fixturesFor(spec: ServerSpec): string {
    const dir = join(this.root, `fixtures-${spec.key}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  get(kind: ServerKind, spec: ServerSpec = DEFAULT_SERVER): Promise<PooledServer> {
    const key = `${kind}:${spec.key}`;
    let p = this.servers.get(key);
    if (!p) {
      p = this.start(kind, spec);
      this.servers.set(key, p);
      p.catch(() => this.servers.delete(key));
    }
    return p;
  }

  private async start(kind: ServerKind, spec: ServerSpec): Promise<PooledServer> {
    const fixtures = this.fixturesFor(spec);
    spec.setup?.(fixtures);
    const args = ['--listen', 'ws://127.0.0.1:0', ...(spec.flags?.(fixtures) ?? [])];
    const env = { ...serverEnvironment(), ...(spec.env?.(fixtures) ?? {}) };
    const started = await startServer(kind, { args, env, cwd: this.serverCwd });
    liveChildren.add(started);
    started.child.once('exit', () => liveChildren.delete(started));
    const port = Number(new URL(started.url).port);
    return { kind, url: started.url, port, fixtures, cwd: this.serverCwd, process: started };
  }

  async stopAll(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(
      all.map(async (p) => {
        try {
          const s = await p;
          await s.process.stop();
        } catch {
          /* failed to start: nothing to stop */
        }
      }),
    );
    rmSync(this.root, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Scenarios

export interface Scenario {
  /** `area/name`, e.g. `processes/tty`. */
  name: string;
  /** Spec sections covered, e.g. `§6.1 §6.2`. */
  spec: string;
  description: string;
  /** Absent: the shared default server. */
  server?: ServerSpec;
  /** Hard limit for one run; default 8 s (scenarios are meant to take < 3 s). */
  timeoutMs?: number;
  /**
   * Long-timer scenario (≈ 80 s waits): run once per server with no determinism double-run; the test file
   * runs it against both servers in parallel, alongside the other scenarios.
   */
  once?: boolean;
  run(ctx: ScenarioContext): Promise<void>;
}

export interface ConnectOptions {
  /** Request path and query, default `/`. */
  path?: string;
  headers?: Record<string, string>;
  /** How the transcript shows this connect (use it instead of leaking tokens); default derived from headers. */
  describe?: string;
  /** Marks the connection as an expected divergence: excluded from the cross-implementation comparison. */
  divergence?: DivergenceSpec;
  /** Connect to this port (a private server) instead of the scenario's server. */
  port?: number;
  /** Leave this connection's process notifications out of the transcript (when their timing is not deterministic). */
  ignoreProcessNotifications?: boolean;
}

export interface PrivateServer {
  port: number;
  /** Sends the signal and waits for the exit; resolves with the exit status and how long it took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

export interface HttpInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Send a WebSocket upgrade request (Connection: Upgrade, Upgrade: websocket, key, version 13). */
  upgrade?: boolean;
  describe?: string;
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface StartProcessOptions {
  env?: Record<string, string>;
  tty?: boolean;
  pipeStdin?: boolean;
  arg0?: string | null;
  cwd?: string;
  /** More params, appended after the usual ones. */
  extra?: Record<string, unknown>;
}

export interface ReadOptions {
  afterSeq?: number | null;
  maxBytes?: number | null;
  waitMs?: number | null;
}

export interface ScenarioContext {
  readonly kind: ServerKind;
  readonly server: { url: string; kind: ServerKind; port: number; fixtures: string; cwd: string };
  /** A fresh temp directory for this run (erased from the transcript as <WORKDIR>). */
  readonly workdir: string;
  /** `file://` URI of the workdir. */
  readonly workdirUri: string;
  /** Opens a traced connection; throws (after recording the rejection) if the upgrade is refused. */
  connect(opts?: ConnectOptions): Promise<TracedClient>;
  /** Like connect, but returns null on a refused upgrade (the status and body are recorded). */
  tryConnect(opts?: ConnectOptions): Promise<TracedClient | null>;
  /** Raw HTTP to the listener; the exchange is recorded. */
  http(path: string, init?: HttpInit): Promise<HttpResult>;
  sleep(ms: number): Promise<void>;
  /** Polls a condition that no protocol message signals (e.g. a file written by a child). */
  poll(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** A compared transcript line. */
  step(text: string): void;
  /** A compared observation: `fact name: <json>`. */
  fact(name: string, value: unknown): void;
  /** A recorded observation, not compared across implementations (e.g. values allowed to differ). */
  record(name: string, value: unknown): void;
  /**
   * Starts a server of this kind with `args` (paths under `fixtures` are erased), expecting it to fail at
   * startup; records its exit status and whether stderr contains `expectedStderr`.
   */
  startupFailure(label: string, args: string[], expectedStderr: string, opts?: { recordOnly?: boolean }): Promise<void>;
  /** Starts a server of this kind just for this run (stopped at the end if still running). */
  privateServer(flags?: string[]): Promise<PrivateServer>;
}

// ---------------------------------------------------------------------------------------------------------
// Traced client

export class TracedClient {
  readonly sent: SentEntry[] = [];
  readonly received: ReceivedEntry[] = [];
  sessionId: string | undefined;
  private nextId = 1;
  private hiddenCount = 0;

  constructor(
    readonly label: string,
    readonly description: string,
    readonly rpc: RpcClient,
    private readonly ctx: ScenarioContext,
    readonly divergence?: DivergenceSpec,
    readonly ignoreProcessNotifications = false,
  ) {
    const socket = rpc.socket;
    // RpcClient's own listener JSON.parses every frame and would throw on a non-JSON frame; make it tolerant
    // so a misbehaving server shows up in the transcript instead of crashing the test process.
    for (const listener of socket.listeners('message')) {
      socket.removeListener('message', listener as (...args: unknown[]) => void);
      socket.on('message', (...args: unknown[]) => {
        try {
          (listener as (...a: unknown[]) => void)(...args);
        } catch {
          /* recorded below as not-a-JSON-object */
        }
      });
    }
    socket.on('message', (data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean) => {
      const buf = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data as ArrayBuffer);
      this.received.push({ text: buf.toString('utf8'), binary: isBinary });
    });
  }

  /** Sends a request and resolves with its response (result or error). */
  request(method: string, params?: unknown, id: number | string = this.nextId++): Promise<RpcMessage> {
    this.sent.push({ type: 'json', message: params === undefined ? { id, method } : { id, method, params } });
    const p = this.rpc.request(method, params, id);
    p.catch(() => {});
    return p;
  }

  /**
   * A request left out of the transcript together with its reply (ids must not collide with recorded ones:
   * they are strings `hidden-N`). For results that depend on chunking; record a derived fact instead.
   */
  hiddenRequest(method: string, params?: unknown): Promise<RpcMessage> {
    const id = `hidden-${++this.hiddenCount}`;
    this.sent.push({ type: 'json', message: params === undefined ? { id, method } : { id, method, params }, hidden: true });
    const p = this.rpc.request(method, params, id);
    p.catch(() => {});
    return p;
  }

  /** Sends a request and returns its result; throws on an error response. */
  async call<T = any>(method: string, params?: unknown): Promise<T> {
    const reply = await this.request(method, params);
    if (reply.error) throw Object.assign(new Error(`${method}: ${reply.error.message}`), { code: reply.error.code });
    return reply.result as T;
  }

  notify(method: string, params?: unknown): void {
    const message = params === undefined ? { method } : { method, params };
    this.sent.push({ type: 'json', message });
    this.rpc.send(message);
  }

  /** Sends any object as one text frame. */
  send(message: unknown): void {
    this.sent.push({ type: 'json', message });
    this.rpc.send(message);
  }

  /** Sends an object and waits for the reply with its id. */
  sendAndWait(message: { id: number | string } & Record<string, unknown>, timeoutMs = 5000): Promise<RpcMessage> {
    const reply = this.rpc.waitFor((m) => m.id === message.id && m.method === undefined, timeoutMs);
    reply.catch(() => {});
    this.send(message);
    return reply;
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.sent.push({ type: 'raw', text: Buffer.isBuffer(data) ? data.toString('utf8') : data, binary });
    this.rpc.sendRaw(data, binary);
  }

  /** Waits for the next not-yet-seen reply with this id (e.g. id -1 for malformed-message errors). */
  async waitReply(id: number | string, nth = 1, timeoutMs = 5000): Promise<RpcMessage> {
    await this.until(() => this.replies(id).length >= nth, timeoutMs);
    return this.replies(id)[nth - 1]!;
  }

  replies(id: number | string): RpcMessage[] {
    return this.rpc.frames.map((f) => f.message).filter((m) => m.id === id && m.method === undefined);
  }

  async initialize(params: unknown): Promise<RpcMessage> {
    const reply = await this.request('initialize', params);
    if (reply.result && typeof (reply.result as any).sessionId === 'string') this.sessionId = (reply.result as any).sessionId;
    return reply;
  }

  /** initialize (+ resume) then initialized; throws if initialize fails. */
  async handshake(clientName = 'conformance', resumeSessionId?: string): Promise<string> {
    const params: Record<string, unknown> = { clientName };
    if (resumeSessionId !== undefined) params.resumeSessionId = resumeSessionId;
    const reply = await this.initialize(params);
    if (reply.error) throw new Error(`initialize failed: ${reply.error.message}`);
    this.notify('initialized', {});
    return this.sessionId!;
  }

  startParams(processId: string, argv: string[], opts: StartProcessOptions = {}): Record<string, unknown> {
    const params: Record<string, unknown> = {
      processId,
      argv,
      cwd: opts.cwd ?? this.ctx.workdirUri,
      env: opts.env ?? { PATH: CHILD_PATH },
      tty: opts.tty ?? false,
      arg0: opts.arg0 ?? null,
    };
    if (opts.pipeStdin !== undefined) params.pipeStdin = opts.pipeStdin;
    return { ...params, ...(opts.extra ?? {}) };
  }

  start(processId: string, argv: string[], opts: StartProcessOptions = {}): Promise<RpcMessage> {
    return this.request('process/start', this.startParams(processId, argv, opts));
  }

  /** `sh -c script` */
  sh(processId: string, script: string, opts: StartProcessOptions = {}): Promise<RpcMessage> {
    return this.start(processId, ['/bin/sh', '-c', script], opts);
  }

  /** Runs `sh -c script` and waits until the process is closed. */
  async shToClose(processId: string, script: string, opts: StartProcessOptions = {}, timeoutMs = 5000): Promise<RpcMessage> {
    const reply = await this.sh(processId, script, opts);
    if (!reply.error) await this.waitClosed(processId, timeoutMs);
    return reply;
  }

  write(processId: string, data: string | Buffer, writeId: string): Promise<RpcMessage> {
    const chunk = (Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8')).toString('base64');
    return this.request('process/write', { processId, chunk, writeId });
  }

  read(processId: string, opts: ReadOptions = {}): Promise<RpcMessage> {
    const params: Record<string, unknown> = { processId };
    if (opts.afterSeq !== undefined) params.afterSeq = opts.afterSeq;
    if (opts.maxBytes !== undefined) params.maxBytes = opts.maxBytes;
    if (opts.waitMs !== undefined) params.waitMs = opts.waitMs;
    return this.request('process/read', params);
  }

  terminateProcess(processId: string): Promise<RpcMessage> {
    return this.request('process/terminate', { processId });
  }

  processNotifications(processId: string): RpcMessage[] {
    return this.rpc.frames
      .map((f) => f.message)
      .filter((m) => m.id === undefined && typeof m.method === 'string' && m.method.startsWith('process/') && (m.params as any)?.processId === processId);
  }

  /** Concatenated output (all streams) seen in notifications so far. */
  output(processId: string, stream?: string): string {
    return Buffer.concat(
      this.processNotifications(processId)
        .filter((m) => m.method === 'process/output' && (stream === undefined || (m.params as any).stream === stream))
        .map((m) => Buffer.from((m.params as any).chunk, 'base64')),
    ).toString('utf8');
  }

  /** Highest seq seen in this connection's notifications for the process (0 if none). */
  lastSeq(processId: string): number {
    return Math.max(0, ...this.processNotifications(processId).map((m) => Number((m.params as any).seq)));
  }

  isClosed(processId: string): boolean {
    return this.processNotifications(processId).some((m) => m.method === 'process/closed');
  }

  async until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    if (predicate()) return;
    await this.rpc.waitFor(() => predicate(), timeoutMs);
  }

  waitOutput(processId: string, text: string, timeoutMs = 5000): Promise<void> {
    return this.until(() => this.output(processId).includes(text), timeoutMs);
  }

  waitExited(processId: string, timeoutMs = 5000): Promise<void> {
    return this.until(() => this.processNotifications(processId).some((m) => m.method === 'process/exited'), timeoutMs);
  }

  waitClosed(processId: string, timeoutMs = 5000): Promise<void> {
    return this.until(() => this.isClosed(processId), timeoutMs);
  }

  /** Waits until the server ends the connection; resolves with the close code or null on timeout. */
  async waitDisconnect(timeoutMs = 3000): Promise<number | null> {
    try {
      return await this.rpc.closed(timeoutMs);
    } catch {
      return null;
    }
  }

  get isOpen(): boolean {
    return this.rpc.closedWith === undefined;
  }

  /** Sends a WebSocket close frame. */
  close(): void {
    this.sent.push({ type: 'action', action: 'close' });
    this.rpc.close();
  }

  /** Drops the TCP connection without a close frame. */
  drop(): void {
    this.sent.push({ type: 'action', action: 'terminate' });
    this.rpc.terminate();
  }

  startedProcessIds(): string[] {
    const ids: string[] = [];
    for (const s of this.sent) {
      if (s.type === 'json') {
        const m = s.message as any;
        if (m?.method === 'process/start' && typeof m.params?.processId === 'string') ids.push(m.params.processId);
      }
    }
    return [...new Set(ids)];
  }

  snapshot(): RawConnection {
    return {
      label: this.label,
      description: this.description,
      sent: [...this.sent],
      received: [...this.received],
      closeCode: this.rpc.closedWith ?? null,
      divergence: this.divergence,
      ignoreProcessNotifications: this.ignoreProcessNotifications,
    };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Running

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function describeHeaders(headers: Record<string, string> | undefined): string {
  if (!headers || Object.keys(headers).length === 0) return '';
  const parts = Object.entries(headers).map(([k, v]) => (/^authorization$/i.test(k) ? `${k}: <redacted>` : `${k}: ${v}`));
  return ` [${parts.join(', ')}]`;
}

class Run implements ScenarioContext {
  readonly steps: RawStep[] = [];
  readonly clients: TracedClient[] = [];
  readonly workdir: string;
  readonly workdirUri: string;
  private attempts = 0;

  constructor(
    readonly kind: ServerKind,
    readonly pooled: PooledServer,
  ) {
    this.workdir = realpathSync(mkdtempSync(join(tmpdir(), 'conf-wd-')));
    this.workdirUri = pathToFileURL(this.workdir).href;
  }

  get server() {
    return { url: this.pooled.url, kind: this.kind, port: this.pooled.port, fixtures: this.pooled.fixtures, cwd: this.pooled.cwd };
  }

  step(text: string): void {
    this.steps.push({ kind: 'step', text });
  }

  fact(name: string, value: unknown): void {
    this.step(`fact ${name}: ${JSON.stringify(value)}`);
  }

  record(name: string, value: unknown): void {
    this.steps.push({ kind: 'recorded', text: `recorded ${name}: ${JSON.stringify(value)}` });
  }

  sleep(ms: number): Promise<void> {
    return sleep(ms);
  }

  async poll(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  async tryConnect(opts: ConnectOptions = {}): Promise<TracedClient | null> {
    const label = `c${++this.attempts}`;
    const path = opts.path ?? '/';
    const description = opts.describe ? `${path} (${opts.describe})` : `${path}${describeHeaders(opts.headers)}`;
    try {
      const rpc = await RpcClient.connect(`ws://127.0.0.1:${opts.port ?? this.pooled.port}${path}`, { headers: opts.headers });
      const client = new TracedClient(label, description, rpc, this, opts.divergence, opts.ignoreProcessNotifications);
      this.clients.push(client);
      if (!opts.divergence) this.step(`connect ${label} ${description} → open`);
      return client;
    } catch (e) {
      const err = e as { status?: number; body?: string; message?: string };
      const outcome = err.status !== undefined ? `HTTP ${err.status} ${JSON.stringify(err.body ?? '')}` : `error ${err.message}`;
      this.step(`connect ${label} ${description} → refused: ${outcome}`);
      return null;
    }
  }

  async connect(opts: ConnectOptions = {}): Promise<TracedClient> {
    const client = await this.tryConnect(opts);
    if (!client) throw new Error(`connect was refused (${opts.describe ?? opts.path ?? '/'})`);
    return client;
  }

  http(path: string, init: HttpInit = {}): Promise<HttpResult> {
    const method = init.method ?? 'GET';
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (init.upgrade) {
      headers.Connection = 'Upgrade';
      headers.Upgrade = 'websocket';
      headers['Sec-WebSocket-Version'] = '13';
      headers['Sec-WebSocket-Key'] = randomBytes(16).toString('base64');
    }
    const shown = init.describe ? ` (${init.describe})` : describeHeaders(init.headers);
    const label = `http ${method} ${path}${init.upgrade ? ' upgrade' : ''}${shown}`;
    return new Promise<HttpResult>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: this.pooled.port, path, method, headers, agent: false });
      const timer = setTimeout(() => req.destroy(new Error('no HTTP response in 5 s')), 5000);
      const finish = (result: HttpResult) => {
        clearTimeout(timer);
        const h = result.headers;
        const extra: string[] = [];
        extra.push(`content-type=${h['content-type'] ?? '-'}`);
        extra.push(`content-length=${h['content-length'] ?? '-'}`);
        if (h['www-authenticate'] !== undefined) extra.push(`www-authenticate=${h['www-authenticate']}`);
        if (h['sec-websocket-protocol'] !== undefined) extra.push(`sec-websocket-protocol=${h['sec-websocket-protocol']}`);
        this.step(`${label} → ${result.status} ${extra.join(' ')} body=${JSON.stringify(result.body)}`);
        resolve(result);
      };
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        finish({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
      });
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (e) => {
        clearTimeout(timer);
        this.step(`${label} → error ${e.message}`);
        reject(e);
      });
      req.end(init.body);
    });
  }

  readonly privateServers: StartedServer[] = [];

  async privateServer(flags: string[] = []): Promise<PrivateServer> {
    const server = await startServer(this.kind, {
      args: ['--listen', 'ws://127.0.0.1:0', ...flags],
      env: serverEnvironment(),
      cwd: this.pooled.cwd,
    });
    liveChildren.add(server);
    this.privateServers.push(server);
    const exited = new Promise<number | null>((resolve) => {
      if (server.child.exitCode !== null) resolve(server.child.exitCode);
      else server.child.once('exit', (code) => resolve(code));
    });
    return {
      port: Number(new URL(server.url).port),
      async stop(signal: NodeJS.Signals = 'SIGTERM') {
        const t0 = Date.now();
        server.child.kill(signal);
        const timer = setTimeout(() => server.child.kill('SIGKILL'), 5000);
        const code = await exited;
        clearTimeout(timer);
        liveChildren.delete(server);
        return { code, ms: Date.now() - t0 };
      },
    };
  }

  async startupFailure(label: string, args: string[], expectedStderr: string, opts: { recordOnly?: boolean } = {}): Promise<void> {
    const server = await startServer(this.kind, {
      args,
      env: serverEnvironment(),
      cwd: this.pooled.cwd,
      noUrl: true,
    });
    liveChildren.add(server);
    const child = server.child;
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const outcome = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('still running after 5 s'), 5000);
      const check = setInterval(() => {
        if (stdout.includes('\n')) {
          clearTimeout(timer);
          clearInterval(check);
          resolve('started and printed a URL');
        }
      }, 20);
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(timer);
        clearInterval(check);
        resolve(signal ? `killed by ${signal}` : `exit ${code}`);
      };
      if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode, child.signalCode);
      else child.once('exit', onExit);
    });
    await server.stop('SIGTERM');
    liveChildren.delete(server);
    const stderr = server.stderr();
    const line = `startup ${label}: ${outcome}, stderr mentions ${JSON.stringify(expectedStderr)}: ${stderr.includes(expectedStderr)}`;
    if (opts.recordOnly) this.record('not compared', line);
    else this.step(line);
    this.record(`startup ${label} stderr`, stderr.trim().split('\n').slice(0, 3).join(' | '));
  }

  /** Best-effort cleanup after the snapshot: kill what the scenario left running, close sockets. */
  async cleanup(): Promise<void> {
    await Promise.all(
      this.clients.map(async (c) => {
        if (!c.isOpen) return;
        for (const pid of c.startedProcessIds()) {
          try {
            c.rpc.send({ id: `cleanup-${pid}`, method: 'process/terminate', params: { processId: pid } });
          } catch {
            /* socket gone */
          }
        }
        await Promise.race([sleep(100), c.rpc.closed(100).catch(() => {})]);
        c.rpc.terminate();
      }),
    );
    await Promise.all(
      this.privateServers.map(async (server) => {
        await server.stop('SIGTERM');
        liveChildren.delete(server);
      }),
    );
    rmSync(this.workdir, { recursive: true, force: true });
  }
}

export interface RunResult {
  transcript: Transcript;
  /** The scenario threw or timed out (also written into the transcript). */
  error?: string;
  durationMs: number;
}

/** Runs one scenario on one server and returns its normalized transcript. */
export async function runScenario(scenario: Scenario, kind: ServerKind, pool: ServerPool): Promise<RunResult> {
  const pooled = await pool.get(kind, scenario.server ?? DEFAULT_SERVER);
  const run = new Run(kind, pooled);
  const started = Date.now();
  let error: string | undefined;
  const limit = scenario.timeoutMs ?? 8000;
  let timer: NodeJS.Timeout | undefined;
  const work = scenario.run(run);
  work.catch(() => {});
  try {
    await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`scenario timed out after ${limit} ms`)), limit);
      }),
    ]);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    run.step(`SCENARIO ERROR: ${error}`);
  } finally {
    clearTimeout(timer);
  }
  const raw = {
    scenario: scenario.name,
    kind,
    steps: [...run.steps],
    connections: run.clients.map((c) => c.snapshot()),
    paths: [
      [run.workdir, '<WORKDIR>'],
      [pooled.fixtures, '<FIXTURES>'],
      [pooled.cwd, '<SERVER_CWD>'],
      [serverEnvironment().HOME ?? '', '<HOME>'],
    ] as Array<[string, string]>,
  };
  await run.cleanup();
  return { transcript: normalizeRun(raw), error, durationMs: Date.now() - started };
}
