/**
 * A fake registry for the direct transport (remote-protocol.md §13) on 127.0.0.1, for tests and
 * by hand, the sibling of fake-registry.ts (Noise):
 *
 *   POST /api/cloud/environment/{id}/direct/register   checks the SigV4 header shape and the body
 *                                                      {"transport":"direct_jsonrpc_v1"}; answers a
 *                                                      loopback ws url with a fresh `sig`
 *   GET  /direct/{id}?sig=…  (WebSocket upgrade)       checks the SigV4 shape of the upgrade and the
 *                                                      sig of the latest registration (stale → 409);
 *                                                      then acts as the harness: a DirectPeer
 *                                                      speaking plain JSON-RPC, one object per message
 *
 * Every request and upgrade is recorded with its headers in wire order. Hooks override the
 * registration answer and refuse upgrades with a chosen status.
 *
 * By hand: `node --import tsx src-main/testkit/remote/fake-direct-registry.ts [--port N]`
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { RpcPeer, type RpcMessage } from '../rpc-peer.ts';
import type { HttpAnswer } from './fake-registry.ts';

export const DIRECT_TRANSPORT = 'direct_jsonrpc_v1';

export interface DirectRecordedRequest {
  method: string;
  url: string;
  environmentId: string;
  /** Lower-cased names in wire order, with values. */
  headers: Array<[string, string]>;
  /** As received (names in their case), for order comparisons of the upgrade. */
  rawHeaderNames: string[];
  rawBody: string;
  /** Why the SigV4 headers were refused, or null. */
  sigv4Problem: string | null;
  status: number;
}

export interface FakeDirectRegistryOptions {
  port?: number;
  /** Overrides the `/direct/register` answer; undefined = the default behaviour. */
  intercept?: (request: DirectRecordedRequest) => HttpAnswer | undefined;
  /** A status to refuse an upgrade with (checked before the sig and SigV4 checks). */
  rejectUpgrades?: (upgrade: DirectRecordedRequest) => number | undefined;
  log?: (line: string) => void;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

/**
 * Checks the SigV4 header shape (not the signature: the fake knows no secret): an authorization
 * of the AWS4-HMAC-SHA256 form whose SignedHeaders are `signed` (+ x-amz-security-token when one
 * is sent), an `x-amz-date` of the same day. Returns what is wrong, or null.
 */
export function sigv4Problem(headers: Array<[string, string]>, signed: string[]): string | null {
  const get = (name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);
  const [authorization, ...moreAuth] = get('authorization');
  const [date] = get('x-amz-date');
  const token = get('x-amz-security-token');
  if (!authorization || moreAuth.length) return 'expected one authorization header';
  const match = AUTHORIZATION.exec(authorization);
  if (!match) return `authorization is not AWS4-HMAC-SHA256: ${authorization}`;
  if (!date || !/^\d{8}T\d{6}Z$/.test(date)) return `bad x-amz-date ${date}`;
  if (!date.startsWith(match[2]!)) return 'credential scope date differs from x-amz-date';
  const expected = [...signed, ...(token.length ? ['x-amz-security-token'] : [])].sort().join(';');
  if (match[5] !== expected) return `SignedHeaders ${match[5]} (expected ${expected})`;
  return null;
}

/** The harness side of one direct connection: plain JSON-RPC over the accepted socket. */
export class DirectPeer extends RpcPeer {
  /** Every raw message received: whether it came as a text frame. */
  readonly frames: Array<{ text: boolean; data: string }> = [];
  readonly closed: Promise<void>;

  constructor(
    readonly socket: WebSocket,
    readonly upgrade: DirectRecordedRequest,
  ) {
    super();
    socket.on('message', (data, isBinary) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      this.frames.push({ text: !isBinary, data: text });
      let message: RpcMessage;
      try {
        message = JSON.parse(text) as RpcMessage;
      } catch {
        return;
      }
      this.receive(message);
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  override send(message: unknown, options: { binary?: boolean } = {}): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message), { binary: options.binary ?? false });
  }

  sendRaw(data: string, binary = false): void {
    this.socket.send(data, { binary });
  }

  /** initialize + initialized, as the harness sends them. */
  async initialize(clientName = 'codex-environment', resumeSessionId: string | null = null): Promise<{ sessionId: string; environmentInfo: any }> {
    const result = await this.call('initialize', { clientName, resumeSessionId });
    this.notify('initialized', {});
    return result;
  }

  /** Resolves with the first matching message, already received or future. */
  waitFor(match: (m: RpcMessage) => boolean, timeoutMs = 10_000): Promise<RpcMessage> {
    return this.waitForMessage(match, timeoutMs, true);
  }

  /** Drops the socket without a Close frame (a network failure as the executor sees it). */
  drop(): void {
    this.socket.terminate();
  }
}

export class FakeDirectRegistry {
  readonly requests: DirectRecordedRequest[] = [];
  readonly upgrades: DirectRecordedRequest[] = [];
  readonly peers: DirectPeer[] = [];
  port = 0;
  private readonly sigs = new Map<string, string>();
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  private peerWaiters: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    private readonly options: FakeDirectRegistryOptions,
  ) {
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request = this.recordOf(req, Buffer.concat(chunks).toString('utf8'));
        this.requests.push(request);
        this.log(`${request.method} ${request.url}`);
        const answer = this.options.intercept?.(request) ?? this.defaultAnswer(request);
        request.status = answer.status;
        if (answer.hang) return;
        const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...answer.headers });
        res.end(text);
      });
    });
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  static async start(options: FakeDirectRegistryOptions = {}): Promise<FakeDirectRegistry> {
    const registry = new FakeDirectRegistry(createServer(), options);
    await new Promise<void>((resolve, reject) => {
      registry.server.once('error', reject);
      registry.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    registry.port = (registry.server.address() as { port: number }).port;
    return registry;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  registrations(): DirectRecordedRequest[] {
    return this.requests.filter((r) => r.url.endsWith('/direct/register'));
  }

  /** Resolves with the `index`-th accepted connection (0-based), waiting for it if needed. */
  async connection(index: number, timeoutMs = 15_000): Promise<DirectPeer> {
    const deadline = Date.now() + timeoutMs;
    while (this.peers.length <= index) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`direct connection #${index} did not arrive within ${timeoutMs} ms (upgrades: ${this.upgrades.map((u) => u.status).join(',')})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.peerWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.peers[index]!;
  }

  async close(): Promise<void> {
    for (const peer of this.peers) peer.socket.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private recordOf(req: IncomingMessage, rawBody: string): DirectRecordedRequest {
    const headers: Array<[string, string]> = [];
    const rawHeaderNames: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      rawHeaderNames.push(req.rawHeaders[i]!);
      headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
    }
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const match = /^\/api\/cloud\/environment\/(.+)\/direct\/register$/.exec(path) ?? /^\/direct\/([^/]+)$/.exec(path);
    return {
      method: req.method ?? '',
      url: req.url ?? '',
      environmentId: match ? decodeURIComponent(match[1]!) : '',
      headers,
      rawHeaderNames,
      rawBody,
      sigv4Problem: null,
      status: 0,
    };
  }

  private defaultAnswer(request: DirectRecordedRequest): HttpAnswer {
    const error = (status: number, code: string, message: string): HttpAnswer => ({ status, body: { error: { code, message } } });
    if (request.method !== 'POST' || !request.url.endsWith('/direct/register')) return error(404, 'not_found', 'no such endpoint');
    request.sigv4Problem = sigv4Problem(request.headers, ['content-type', 'host', 'x-amz-date']);
    if (request.sigv4Problem) return error(403, 'forbidden', request.sigv4Problem);
    if (request.rawBody !== JSON.stringify({ transport: DIRECT_TRANSPORT })) return error(400, 'bad_request', 'unsupported transport');
    const sig = randomBytes(12).toString('hex');
    this.sigs.set(request.environmentId, sig);
    return {
      status: 200,
      body: {
        environment_id: request.environmentId,
        transport: DIRECT_TRANSPORT,
        registration_id: `reg-${randomUUID()}`,
        url: `ws://127.0.0.1:${this.port}/direct/${encodeURIComponent(request.environmentId)}?sig=${sig}`,
      },
    };
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const upgrade = this.recordOf(req, '');
    this.upgrades.push(upgrade);
    const sig = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('sig');
    upgrade.sigv4Problem = sigv4Problem(upgrade.headers, ['host', 'x-amz-date']);
    let status = this.options.rejectUpgrades?.(upgrade) ?? 101;
    if (status === 101 && upgrade.sigv4Problem) status = 403;
    if (status === 101 && (!this.sigs.has(upgrade.environmentId) || this.sigs.get(upgrade.environmentId) !== sig)) status = 409;
    upgrade.status = status;
    this.log(`UPGRADE ${upgrade.url} → ${status}`);
    if (status !== 101) {
      socket.end(`HTTP/1.1 ${status} Refused\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      this.peers.push(new DirectPeer(ws, upgrade));
      for (const waiter of this.peerWaiters.splice(0)) waiter();
    });
  }
}

// By hand: prints the base URL; logs requests and upgrades to stderr.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--port');
  const registry = await FakeDirectRegistry.start({
    port: at >= 0 ? Number(process.argv[at + 1]) : 0,
    log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
  });
  process.stdout.write(`${registry.baseUrl}\n`);
  process.stderr.write(
    `executor: AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… codex exec-server --remote ${registry.baseUrl} --environment-id <id> --remote-transport direct --aws-sigv4 --aws-region us-east-1\n`,
  );
  const stop = () => void registry.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
