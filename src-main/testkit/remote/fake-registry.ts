/**
 * A fake environment registry and rendezvous on 127.0.0.1, for tests and by hand
 * (remote-protocol.md §2, §4 and the §16 checklist).
 *
 * HTTP (base `http://127.0.0.1:PORT/api`):
 *   POST /api/cloud/environment/{id}/register   executor: stores its key, answers the rendezvous url
 *   POST /api/cloud/environment/{id}/connect    harness: answers the executor key, a harness url and
 *                                               a fresh harness_key_authorization
 *   POST /api/cloud/environment/{id}/validate   executor: checks (registration, harness key, authorization)
 * WebSocket: /rendezvous/{id}?role=environment|harness&sig=… — one executor socket per environment,
 * any number of harness sockets; binary frames are routed by stream_id (a harness claims a stream
 * with its first frame for it); when a harness socket goes away the executor gets
 * Reset{harness_disconnected} for each of its streams.
 *
 * As a test tool it is deliberately permissive on the harness side: every harness message
 * (undecodable, oversized or text included) is forwarded to the executor verbatim, so tests can
 * exercise the executor's own validation and limits. Every request, upgrade and frame is recorded.
 *
 * By hand: `node --import tsx src-main/testkit/remote/fake-registry.ts [--port N] [--token T]`
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { encodeRelayFrame, HARNESS_DISCONNECTED_REASON, peekStreamId } from '../../transport/relay/frame-codec.ts';
import { SECURITY_PROFILE } from '../../transport/noise/hybrid-ik.ts';

export interface RecordedRequest {
  endpoint: 'register' | 'connect' | 'validate' | 'unknown';
  environmentId: string;
  method: string;
  url: string;
  /** Header names in the order they were sent, lower-cased, with values. */
  headers: Array<[string, string]>;
  rawBody: string;
  body: any;
}

export interface RecordedUpgrade {
  role: string;
  environmentId: string;
  url: string;
  headers: Array<[string, string]>;
  status: number;
}

export interface RecordedFrame {
  direction: 'harness->executor' | 'executor->harness';
  environmentId: string;
  streamId: string | null;
  bytes: Uint8Array;
  binary: boolean;
  /** Whether the rendezvous had somewhere to deliver it. */
  delivered: boolean;
}

export interface HttpAnswer {
  status: number;
  body?: unknown;
  /** Delay before answering (ms). */
  delayMs?: number;
  /** Never answer (the caller times out). */
  hang?: boolean;
  /** Extra response headers (e.g. `location` on a redirect). */
  headers?: Record<string, string>;
}

export interface FakeRegistryOptions {
  port?: number;
  /** Bearer the executor must send on /register and /validate (any when unset). */
  executorToken?: string;
  /** Bearer the harness must send on /connect (any when unset). */
  harnessToken?: string;
  /** Overrides the answer to a registry call; return undefined for the default behaviour. */
  intercept?: (request: RecordedRequest) => HttpAnswer | undefined | Promise<HttpAnswer | undefined>;
  /** HTTP status to refuse rendezvous upgrades with (tests of re-registration). */
  rejectUpgrades?: (upgrade: RecordedUpgrade) => number | undefined;
  /** Largest rendezvous message accepted from any socket (default 64 MiB: pass oversized frames on). */
  maxPayload?: number;
  /** Answer the executor's keepalive pings (default true; false tests its pong deadline). */
  autoPong?: boolean;
  log?: (line: string) => void;
}

interface Environment {
  id: string;
  registrationId: string;
  executorKey: unknown;
  executorSig: string;
  executor: WebSocket | null;
  executorWaiters: Array<() => void>;
  /** harness sig → authorization issued with it */
  harnessSigs: Set<string>;
  /** authorization → harness key JSON (as sent to /connect) */
  authorizations: Map<string, unknown>;
  streams: Map<string, WebSocket>;
}

const ENDPOINT = /^\/cloud\/environment\/(.+)\/(register|connect|validate)$/;

export class FakeRegistry {
  readonly requests: RecordedRequest[] = [];
  readonly upgrades: RecordedUpgrade[] = [];
  readonly frames: RecordedFrame[] = [];
  /** The close code of every executor socket that ended (1006: dropped without a Close frame). */
  readonly executorCloseCodes: number[] = [];
  readonly environments = new Map<string, Environment>();
  private frameListeners: Array<(frame: RecordedFrame) => void> = [];
  private readonly sockets = new Set<WebSocket>();
  private readonly wss: WebSocketServer;
  port = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: FakeRegistryOptions,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload ?? 64 * 1024 * 1024,
      perMessageDeflate: false,
      autoPong: options.autoPong ?? true,
    });
    server.on('request', (req, res) => void this.onRequest(req, res));
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  static async start(options: FakeRegistryOptions = {}): Promise<FakeRegistry> {
    const server = createServer();
    const registry = new FakeRegistry(server, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    registry.port = (server.address() as { port: number }).port;
    return registry;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** Resolves once an executor socket for `environmentId` is connected. */
  waitForExecutor(environmentId: string, timeoutMs = 20_000): Promise<void> {
    const env = this.environments.get(environmentId);
    if (env?.executor) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no executor connected for ${environmentId} within ${timeoutMs} ms`)), timeoutMs);
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const target = this.environments.get(environmentId);
      if (target) target.executorWaiters.push(waiter);
      else this.pendingExecutorWaiters.push([environmentId, waiter]);
    });
  }
  private pendingExecutorWaiters: Array<[string, () => void]> = [];

  /** Resolves when the executor socket of `environmentId` that is connected now goes away. */
  executorClosed(environmentId: string, timeoutMs = 10_000): Promise<void> {
    const socket = this.environments.get(environmentId)?.executor;
    if (!socket || socket.readyState === socket.CLOSED) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`executor socket of ${environmentId} still open after ${timeoutMs} ms`)), timeoutMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The executor socket of an environment (to inject raw frames or drop it). */
  executorSocket(environmentId: string): WebSocket | null {
    return this.environments.get(environmentId)?.executor ?? null;
  }

  onFrame(listener: (frame: RecordedFrame) => void): () => void {
    this.frameListeners.push(listener);
    return () => {
      this.frameListeners = this.frameListeners.filter((l) => l !== listener);
    };
  }

  /** Resolves with the first recorded (past or future) frame that matches. */
  waitForFrame(match: (frame: RecordedFrame) => boolean, timeoutMs = 10_000): Promise<RecordedFrame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no matching relay frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onFrame((frame) => {
        if (!match(frame)) return;
        clearTimeout(timer);
        off();
        resolve(frame);
      });
    });
  }

  private record(frame: RecordedFrame): void {
    this.frames.push(frame);
    for (const listener of [...this.frameListeners]) listener(frame);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname;
    const match = ENDPOINT.exec(path);
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
    const request: RecordedRequest = {
      endpoint: (match?.[2] as RecordedRequest['endpoint']) ?? 'unknown',
      environmentId: match ? decodeURIComponent(match[1]!) : '',
      method: req.method ?? '',
      url: req.url ?? '',
      headers,
      rawBody,
      body,
    };
    this.requests.push(request);
    this.log(`${request.method} ${request.url}`);

    const answer = (await this.options.intercept?.(request)) ?? this.defaultAnswer(request);
    if (answer.hang) return;
    if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...answer.headers });
    res.end(text);
  }

  private bearer(request: RecordedRequest): string | undefined {
    const value = request.headers.find(([name]) => name === 'authorization')?.[1];
    return value?.startsWith('Bearer ') ? value.slice(7) : undefined;
  }

  private error(status: number, code: string, message: string): HttpAnswer {
    return { status, body: { error: { code, message } } };
  }

  private defaultAnswer(request: RecordedRequest): HttpAnswer {
    if (request.method !== 'POST' || request.endpoint === 'unknown') return this.error(404, 'not_found', 'no such endpoint');
    const body = request.body as Record<string, any> | undefined;
    const id = request.environmentId;
    switch (request.endpoint) {
      case 'register': {
        if (this.options.executorToken !== undefined && this.bearer(request) !== this.options.executorToken) {
          return this.error(401, 'unauthorized', 'bad executor credential');
        }
        if (body?.security_profile !== SECURITY_PROFILE || typeof body.executor_public_key !== 'object') {
          return this.error(400, 'bad_request', 'unsupported registration');
        }
        const existing = this.environments.get(id);
        const env: Environment = existing ?? {
          id,
          registrationId: '',
          executorKey: null,
          executorSig: '',
          executor: null,
          executorWaiters: [],
          harnessSigs: new Set(),
          authorizations: new Map(),
          streams: new Map(),
        };
        env.registrationId = `reg-${randomUUID()}`;
        env.executorKey = body.executor_public_key;
        env.executorSig = randomBytes(16).toString('hex');
        this.environments.set(id, env);
        this.pendingExecutorWaiters = this.pendingExecutorWaiters.filter(([envId, waiter]) => (envId === id ? (env.executorWaiters.push(waiter), false) : true));
        return {
          status: 200,
          body: {
            environment_id: id,
            url: this.rendezvousUrl(id, 'environment', env.executorSig),
            security_profile: SECURITY_PROFILE,
            executor_registration_id: env.registrationId,
          },
        };
      }
      case 'connect': {
        if (this.options.harnessToken !== undefined && this.bearer(request) !== this.options.harnessToken) {
          return this.error(401, 'unauthorized', 'bad harness credential');
        }
        const env = this.environments.get(id);
        if (!env) return this.error(404, 'environment_not_found', 'environment is not registered');
        if (typeof body?.harness_public_key !== 'object') return this.error(400, 'bad_request', 'missing harness_public_key');
        const authorization = `hka-${randomBytes(12).toString('hex')}`;
        env.authorizations.set(authorization, body.harness_public_key);
        const sig = randomBytes(16).toString('hex');
        env.harnessSigs.add(sig);
        return {
          status: 200,
          body: {
            environment_id: id,
            url: this.rendezvousUrl(id, 'harness', sig),
            security_profile: SECURITY_PROFILE,
            executor_registration_id: env.registrationId,
            executor_public_key: env.executorKey,
            harness_key_authorization: authorization,
          },
        };
      }
      case 'validate': {
        if (this.options.executorToken !== undefined && this.bearer(request) !== this.options.executorToken) {
          return this.error(401, 'unauthorized', 'bad executor credential');
        }
        const env = this.environments.get(id);
        const issuedFor = env?.authorizations.get(body?.harness_key_authorization);
        const valid =
          !!env &&
          body?.executor_registration_id === env.registrationId &&
          issuedFor !== undefined &&
          JSON.stringify(issuedFor) === JSON.stringify(body?.harness_public_key);
        return { status: 200, body: { valid } };
      }
    }
  }

  private rendezvousUrl(environmentId: string, role: string, sig: string): string {
    return `ws://127.0.0.1:${this.port}/rendezvous/${encodeURIComponent(environmentId)}?role=${role}&sig=${sig}`;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
    const match = /^\/rendezvous\/([^/]+)$/.exec(url.pathname);
    const environmentId = match ? decodeURIComponent(match[1]!) : '';
    const role = url.searchParams.get('role') ?? '';
    const sig = url.searchParams.get('sig') ?? '';
    const env = this.environments.get(environmentId);
    const upgrade: RecordedUpgrade = { role, environmentId, url: req.url ?? '', headers, status: 101 };
    this.upgrades.push(upgrade);

    let rejection: [number, string] | null = null;
    if (!match || !env) rejection = [404, 'unknown_route'];
    else if (role !== 'environment' && role !== 'harness') rejection = [400, role ? 'invalid_role' : 'missing_role'];
    else if (role === 'environment' ? sig !== env.executorSig : !env.harnessSigs.has(sig)) rejection = [403, 'invalid_signature'];
    const forced = this.options.rejectUpgrades?.(upgrade);
    if (forced) rejection = [forced, 'route_unavailable'];
    if (rejection) {
      upgrade.status = rejection[0];
      socket.end(`HTTP/1.1 ${rejection[0]} Rejected\r\nx-codex-rendezvous-rejection-reason: ${rejection[1]}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      ws.on('error', () => ws.terminate());
      if (role === 'environment') this.attachExecutor(env!, ws);
      else this.attachHarness(env!, ws);
    });
  }

  private attachExecutor(env: Environment, ws: WebSocket): void {
    env.executor?.terminate();
    env.executor = ws;
    this.log(`executor connected for ${env.id}`);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = toBytes(data);
      const streamId = isBinary ? peekStreamId(bytes) : null;
      const target = streamId === null ? undefined : env.streams.get(streamId);
      const delivered = !!target && target.readyState === target.OPEN;
      this.record({ direction: 'executor->harness', environmentId: env.id, streamId, bytes, binary: isBinary, delivered });
      if (delivered) target!.send(bytes, { binary: isBinary });
    });
    ws.on('close', (code) => {
      this.executorCloseCodes.push(code);
      if (env.executor !== ws) return;
      env.executor = null;
      this.log(`executor disconnected for ${env.id}`);
      // Streams die with the executor socket; their harnesses lose their connection too.
      for (const harness of new Set(env.streams.values())) harness.terminate();
      env.streams.clear();
    });
    const waiters = env.executorWaiters;
    env.executorWaiters = [];
    for (const waiter of waiters) waiter();
  }

  private attachHarness(env: Environment, ws: WebSocket): void {
    const owned = new Set<string>();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = toBytes(data);
      const streamId = isBinary ? peekStreamId(bytes) : null;
      if (streamId) {
        const owner = env.streams.get(streamId);
        if (!owner) {
          env.streams.set(streamId, ws);
          owned.add(streamId);
        } else if (owner !== ws) {
          this.record({ direction: 'harness->executor', environmentId: env.id, streamId, bytes, binary: isBinary, delivered: false });
          return;
        }
      }
      const executor = env.executor;
      const delivered = !!executor && executor.readyState === executor.OPEN;
      this.record({ direction: 'harness->executor', environmentId: env.id, streamId, bytes, binary: isBinary, delivered });
      if (delivered) executor!.send(bytes, { binary: isBinary });
    });
    ws.on('close', () => {
      for (const streamId of owned) {
        if (env.streams.get(streamId) !== ws) continue;
        env.streams.delete(streamId);
        const executor = env.executor;
        if (executor && executor.readyState === executor.OPEN) {
          executor.send(encodeRelayFrame({ streamId, body: { kind: 'reset', reason: HARNESS_DISCONNECTED_REASON } }));
        }
      }
    });
  }

  /** Registrations received for an environment (the /register requests, answered or not). */
  registrations(environmentId: string): RecordedRequest[] {
    return this.requests.filter((r) => r.endpoint === 'register' && r.environmentId === environmentId);
  }

  /** Executor upgrade attempts for an environment, accepted or refused. */
  executorUpgrades(environmentId: string): RecordedUpgrade[] {
    return this.upgrades.filter((u) => u.role === 'environment' && u.environmentId === environmentId);
  }

  /** Drops the executor's socket without a close frame (as a network failure would). */
  dropExecutor(environmentId: string): void {
    this.environments.get(environmentId)?.executor?.terminate();
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function toBytes(data: RawData): Uint8Array {
  const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

// By hand: prints the base URL, logs every request and connection to stderr.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const registry = await FakeRegistry.start({
    port: Number(flag('--port') ?? 0),
    executorToken: flag('--token'),
    harnessToken: flag('--harness-token'),
    log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
  });
  process.stdout.write(`${registry.baseUrl}\n`);
  process.stderr.write(
    `executor: CODEX_API_KEY=<token> codex exec-server --remote ${registry.baseUrl} --environment-id <id>\n` +
      `harness:  CODEX_EXEC_SERVER_NOISE_REGISTRY_URL=${registry.baseUrl} CODEX_EXEC_SERVER_NOISE_ENVIRONMENT_ID=<id> CODEX_EXEC_SERVER_NOISE_AUTH_TOKEN=<token> codex app-server\n` +
      `          or: node --import tsx src-main/testkit/remote/harness-client.ts ${registry.baseUrl} <id>\n`,
  );
  const stop = () => void registry.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
