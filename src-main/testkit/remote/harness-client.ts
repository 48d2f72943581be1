/**
 * A Noise harness (initiator) for tests and by hand: asks the registry's `/connect` for the
 * executor's key and a rendezvous URL, opens the harness WebSocket, and opens relay streams on
 * it — `Resume{next_seq:0}` then `Handshake{msg1}` like the real harness — each speaking
 * JSON-RPC (exec-server dialect, no "jsonrpc" member) inside Noise transport records.
 * It also exposes raw frame access so tests can send malformed or hostile input.
 *
 * By hand: `node --import tsx src-main/testkit/remote/harness-client.ts <registry base URL> <environment id> [token]`
 * runs initialize and `echo hello` on the executor and prints what comes back.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { decodeRelayFrame, encodeRelayFrame, type RelayFrame } from '../../transport/relay/frame-codec.ts';
import {
  encodePublicKeyJson,
  generateIdentity,
  HybridIkInitiator,
  parsePublicKeyJson,
  publicKeyOf,
  type NoiseIdentity,
  type NoisePublicKey,
} from '../../transport/noise/hybrid-ik.ts';
import type { NoiseTransport } from '../../transport/noise/transport.ts';
import { RpcPeer, type RpcMessage } from '../rpc-peer.ts';

export interface ConnectBundle {
  environmentId: string;
  url: string;
  registrationId: string;
  executorKey: NoisePublicKey;
  authorization: string;
}

export interface HarnessOptions {
  registryUrl: string;
  environmentId: string;
  token?: string;
  accountId?: string;
  identity?: NoiseIdentity;
}

export interface ReceivedRelayFrame {
  raw: Uint8Array;
  frame: RelayFrame | null;
  error?: string;
}

/** POST {registry}/cloud/environment/{id}/connect, as the 0.169.0 harness sends it. */
export async function connectToRegistry(options: HarnessOptions & { identity: NoiseIdentity }): Promise<ConnectBundle> {
  const base = options.registryUrl.trim().replace(/\/+$/, '');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.accountId !== undefined) headers['chatgpt-account-id'] = options.accountId;
  const response = await fetch(`${base}/cloud/environment/${options.environmentId}/connect`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ harness_public_key: encodePublicKeyJson(publicKeyOf(options.identity)) }),
    redirect: 'manual',
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`registry /connect failed (${response.status}): ${text}`);
  const body = JSON.parse(text) as Record<string, unknown>;
  if (body.environment_id !== options.environmentId) throw new Error('registry returned a different environment id');
  return {
    environmentId: body.environment_id as string,
    url: body.url as string,
    registrationId: body.executor_registration_id as string,
    executorKey: parsePublicKeyJson(body.executor_public_key),
    authorization: body.harness_key_authorization as string,
  };
}

type FrameWaiter = { match: (f: ReceivedRelayFrame) => boolean; resolve: (f: ReceivedRelayFrame) => void };

export class NoiseHarness {
  readonly received: ReceivedRelayFrame[] = [];
  private readonly streams = new Map<string, HarnessStream>();
  private waiters: FrameWaiter[] = [];
  closed = false;
  private closeWaiters: Array<() => void> = [];

  private constructor(
    readonly socket: WebSocket,
    readonly bundle: ConnectBundle,
    readonly identity: NoiseIdentity,
  ) {
    socket.on('message', (data, isBinary) => {
      const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const raw = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      if (!isBinary) return;
      const decoded = decodeRelayFrame(raw);
      const received: ReceivedRelayFrame = decoded.ok ? { raw, frame: decoded.frame } : { raw, frame: null, error: decoded.error };
      this.received.push(received);
      if (decoded.ok) this.streams.get(decoded.frame.streamId)?.deliver(decoded.frame);
      this.waiters = this.waiters.filter((w) => (w.match(received) ? (w.resolve(received), false) : true));
    });
    socket.on('close', () => {
      this.closed = true;
      for (const stream of this.streams.values()) stream.socketClosed();
      for (const waiter of this.closeWaiters) waiter();
    });
    socket.on('error', () => socket.terminate());
  }

  /** `/connect`, then the harness WebSocket. */
  static async connect(options: HarnessOptions): Promise<NoiseHarness> {
    const identity = options.identity ?? generateIdentity();
    const bundle = await connectToRegistry({ ...options, identity });
    const socket = await new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(bundle.url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`rendezvous upgrade refused: HTTP ${res.statusCode}`)));
    });
    return new NoiseHarness(socket, bundle, identity);
  }

  sendFrame(frame: RelayFrame): void {
    this.sendRaw(encodeRelayFrame(frame));
  }

  sendRaw(bytes: Uint8Array | string, binary = true): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(bytes, { binary });
  }

  /** First received (past or future) frame that matches. */
  waitForFrame(match: (f: ReceivedRelayFrame) => boolean, timeoutMs = 10_000): Promise<ReceivedRelayFrame> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: FrameWaiter = {
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching relay frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Frames received for one stream. */
  framesFor(streamId: string): RelayFrame[] {
    return this.received.flatMap((r) => (r.frame && r.frame.streamId === streamId ? [r.frame] : []));
  }

  /**
   * Sends Resume + Handshake{msg1} for a new stream and waits for the executor's answer. Resolves
   * with the open stream; rejects when the executor resets it or msg2 does not verify.
   */
  async openStream(options: { streamId?: string; authorization?: string; timeoutMs?: number } = {}): Promise<HarnessStream> {
    const streamId = options.streamId ?? randomUUID();
    const pending = this.startStream(streamId, options.authorization);
    const answer = await this.waitForFrame(
      (r) => !!r.frame && r.frame.streamId === streamId && (r.frame.body.kind === 'handshake' || r.frame.body.kind === 'reset') && !pending.seen.has(r),
      options.timeoutMs ?? 15_000,
    );
    const body = answer.frame!.body;
    if (body.kind === 'reset') {
      this.streams.delete(streamId);
      throw Object.assign(new Error(`executor reset stream ${streamId}: ${body.reason}`), { reset: body.reason });
    }
    return pending.complete((body as { payload: Uint8Array }).payload);
  }

  /** Sends Resume + msg1 only; `complete(msg2)` finishes. For tests that interleave streams. */
  startStream(streamId: string, authorization = this.bundle.authorization) {
    const initiator = new HybridIkInitiator({
      identity: this.identity,
      executorKey: this.bundle.executorKey,
      environmentId: this.bundle.environmentId,
      registrationId: this.bundle.registrationId,
      streamId,
    });
    const seen = new Set(this.received);
    const msg1 = initiator.writeRequest(authorization);
    this.sendFrame({ streamId, body: { kind: 'resume', nextSeq: 0 } });
    this.sendFrame({ streamId, body: { kind: 'handshake', payload: msg1 } });
    return {
      msg1,
      seen,
      complete: (msg2: Uint8Array) => {
        const transport = initiator.readResponse(msg2);
        const stream = new HarnessStream(this, streamId, transport);
        this.streams.set(streamId, stream);
        return stream;
      },
    };
  }

  closedPromise(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  close(): void {
    this.socket.terminate();
  }
}


/** One Noise stream: JSON-RPC in, JSON-RPC out. */
export class HarnessStream extends RpcPeer {
  /** Set when the executor reset the stream (its reason) or the socket went away. */
  ended: string | null = null;
  private endWaiters: Array<(reason: string) => void> = [];

  constructor(
    readonly harness: NoiseHarness,
    readonly streamId: string,
    readonly transport: NoiseTransport,
  ) {
    super();
  }

  protected override describeWait(): string {
    return ` on stream ${this.streamId}`;
  }

  deliver(frame: RelayFrame): void {
    if (this.ended) return;
    const body = frame.body;
    if (body.kind === 'reset') return this.end(body.reason);
    if (body.kind !== 'data') return;
    let messages: Uint8Array[];
    try {
      messages = this.transport.receiveRecord(body.seq, body.payload);
    } catch (error) {
      this.harness.sendFrame({ streamId: this.streamId, body: { kind: 'reset', reason: 'harness_protocol_error' } });
      return this.end(`local: ${(error as Error).message}`);
    }
    for (const bytes of messages) {
      this.receive(JSON.parse(Buffer.from(bytes).toString('utf8')) as RpcMessage);
    }
  }

  socketClosed(): void {
    this.end('socket closed');
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.ended = reason;
    for (const waiter of this.endWaiters) waiter(reason);
    this.endWaiters = [];
  }

  /** Resolves with the reason once the stream ends. */
  endedPromise(timeoutMs = 10_000): Promise<string> {
    if (this.ended) return Promise.resolve(this.ended);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('stream did not end in time')), timeoutMs);
      this.endWaiters.push((reason) => {
        clearTimeout(timer);
        resolve(reason);
      });
    });
  }

  /** Encrypts and sends one serialized JSON-RPC message (one Data frame per record). */
  sendBytes(message: Uint8Array): void {
    for (const record of this.transport.sealMessage(message)) {
      this.harness.sendFrame({ streamId: this.streamId, body: { kind: 'data', seq: record.seq, payload: record.ciphertext } });
    }
  }

  override send(message: unknown): void {
    this.sendBytes(new TextEncoder().encode(JSON.stringify(message)));
  }

  /** initialize + initialized, as the real harness sends them. */
  async initialize(clientName = 'codex-environment', resumeSessionId: string | null = null): Promise<{ sessionId: string; environmentInfo: any }> {
    const result = await this.call('initialize', { clientName, resumeSessionId });
    this.notify('initialized', {});
    return result;
  }

  /** Resolves with the first matching message, already received or future. */
  waitFor(match: (m: RpcMessage) => boolean, timeoutMs = 10_000): Promise<RpcMessage> {
    return this.waitForMessage(match, timeoutMs, true);
  }

  /** Sends a Reset for this stream (the executor drops it without replying). */
  reset(reason = 'harness_closed'): void {
    this.harness.sendFrame({ streamId: this.streamId, body: { kind: 'reset', reason } });
    this.end(`local reset: ${reason}`);
  }
}

/** Runs `command` through process/start and collects its output until process/closed. */
export async function runProcess(stream: HarnessStream, processId: string, argv: string[], cwd = process.cwd()): Promise<{ stdout: string; exitCode: number }> {
  await stream.call('process/start', { processId, argv, cwd: pathToFileURL(cwd).href, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, tty: false, arg0: null });
  await stream.waitForNotification('process/closed', (p) => p.processId === processId, 15_000);
  const stdout = stream.messages
    .filter((m) => m.method === 'process/output' && (m.params as any).processId === processId && (m.params as any).stream === 'stdout')
    .map((m) => Buffer.from((m.params as any).chunk, 'base64').toString('utf8'))
    .join('');
  const exited = stream.messages.find((m) => m.method === 'process/exited' && (m.params as any).processId === processId);
  return { stdout, exitCode: (exited?.params as any)?.exitCode };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [registryUrl, environmentId, token] = process.argv.slice(2);
  if (!registryUrl || !environmentId) {
    process.stderr.write('usage: harness-client.ts <registry base URL> <environment id> [token]\n');
    process.exit(2);
  }
  const harness = await NoiseHarness.connect({ registryUrl, environmentId, token });
  const stream = await harness.openStream();
  const init = await stream.initialize('exec-desk-harness');
  process.stdout.write(`${JSON.stringify(init)}\n`);
  const result = await runProcess(stream, 'hello', ['echo', 'hello from the executor']);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  harness.close();
}
