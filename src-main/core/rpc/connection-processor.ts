/**
 * Serves one JSON-RPC connection over any MessagePipe (local websocket, stdio, relay stream):
 * decodes envelopes, enforces the lifecycle (initialize → initialized) and the gating order of
 * local-protocol.md §2.3, dispatches requests inline or in two lanes (§5), maps errors to the
 * reference's codes and texts, and attaches the connection to a session whose notifications it
 * then carries. Handlers never learn which transport they are on.
 */
import { ErrorCode, RpcError } from './errors.ts';
import {
  decodeEnvelope,
  encodeError,
  encodeNotification,
  encodeResult,
  MALFORMED_MESSAGE_ID,
  type RequestId,
} from './envelope.ts';
import { parseJsonBytes, parseJsonText } from './json-text.ts';
import { carrierOf, type MessagePipe, type PipeCarrier } from './message-pipe.ts';
import type { ConnectionScope, MethodTable, RequestContext } from './method-table.ts';
import { Semaphore } from './semaphore.ts';
import { familyOf, laneOf, Method, methodNotFoundMessage, type Lane } from '../protocol/methods.ts';
import type { Attachment, Session, SessionRegistry } from '../session/session-registry.ts';
import type { Logger } from '../log.ts';

export interface InitializeParams {
  clientName: string;
  resumeSessionId: string | null;
}

export interface ConnectionProcessorOptions {
  registry: SessionRegistry;
  methods: MethodTable;
  /** Decodes `initialize` params (serde texts on failure). */
  decodeInitialize: (params: unknown) => InitializeParams;
  /** The `environmentInfo` member of the initialize result. */
  environmentInfo: () => unknown;
  /** `--concurrent-requests`: 1 runs requests inline, N >= 2 runs them in two lanes of N. */
  concurrency: number;
  log: Logger;
  /** Told when the connection has ended (after cleanup). */
  onClosed?: () => void;
}

const TAKEN_OVER = 'session has been resumed by another connection';

/** Unsent bytes on a connection above which process output reading pauses (flow control). */
export const OUTPUT_HIGH_WATER_BYTES = 8 * 1024 * 1024;

export class ConnectionProcessor implements Attachment {
  readonly peer: string;
  readonly carrier: PipeCarrier;
  clientName = '';
  private session: Session | null = null;
  private initializeDone = false;
  private initializedReceived = false;
  private closed = false;
  private readonly queue: Array<string | Buffer> = [];
  private pumping = false;
  private readonly inflight = new Set<AbortController>();
  private readonly lanes: Record<Lane, Semaphore> | null;
  private readonly disposers: Array<() => void> = [];
  private readonly scope: ConnectionScope;

  constructor(
    private readonly pipe: MessagePipe,
    private readonly options: ConnectionProcessorOptions,
  ) {
    this.peer = pipe.peer;
    this.carrier = carrierOf(pipe);
    this.lanes =
      options.concurrency >= 2
        ? { control: new Semaphore(options.concurrency), ordinary: new Semaphore(options.concurrency) }
        : null;
    this.scope = {
      peer: pipe.peer,
      onClose: (dispose) => (this.closed ? dispose() : this.disposers.push(dispose)),
      notify: (method, params) => this.send(encodeNotification(method, params)),
      congested: () => this.congested(),
      state: new Map(),
    };
    pipe.onMessage((data) => {
      if (this.closed) return;
      this.queue.push(data);
      void this.pump();
    });
    pipe.onClose(() => this.handleClose());
  }

  /** Received messages waiting for their turn (a relay stream bounds this, as 0.169.0 does). */
  get queuedMessages(): number {
    return this.queue.length;
  }

  /** The session this connection is attached to, if any (for the runtime's view). */
  get attachedSession(): Session | null {
    return this.session;
  }

  deliver(method: string, params: unknown): void {
    this.send(encodeNotification(method, params));
  }

  congested(): boolean {
    return !this.closed && this.pipe.bufferedAmount() > OUTPUT_HIGH_WATER_BYTES;
  }

  /** Ends the connection the way the reference does on a protocol violation: drop it. */
  drop(): void {
    this.pipe.close();
    this.handleClose();
  }

  private send(message: string | Buffer): void {
    if (!this.closed) this.pipe.send(message);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const data = this.queue.shift()!;
        await this.handleFrame(data);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async handleFrame(data: string | Buffer): Promise<void> {
    const parsed = typeof data === 'string' ? parseJsonText(data) : parseJsonBytes(data);
    if (!parsed.ok && parsed.valueBeforeTrailing === undefined) return this.replyMalformed(parsed.error);
    // The reference classifies the first value before it notices trailing characters.
    const message = decodeEnvelope(parsed.ok ? parsed.value : parsed.valueBeforeTrailing);
    if (!parsed.ok && message.kind !== 'malformed') return this.replyMalformed(parsed.error);
    switch (message.kind) {
      case 'malformed':
        return this.replyMalformed(message.reason);
      case 'notification':
        return this.handleNotification(message.method);
      case 'response':
      case 'error':
        // exec-desk sends no server→client requests yet, so every response is unsolicited.
        this.options.log.debug('dropping connection: unsolicited response', { peer: this.peer });
        return this.drop();
      case 'request':
        return this.handleRequest(message.id, message.method, message.params);
    }
  }

  private replyMalformed(reason: string): void {
    this.send(encodeError(MALFORMED_MESSAGE_ID, ErrorCode.InvalidRequest, `failed to parse ${this.pipe.parseErrorLabel}: ${reason}`));
  }

  private handleNotification(method: string): void {
    if (method === Method.Initialized && this.initializeDone) {
      this.initializedReceived = true;
      return;
    }
    this.options.log.debug('dropping connection: unexpected notification', { peer: this.peer, method });
    this.drop();
  }

  private async handleRequest(id: RequestId, method: string, rawParams: unknown): Promise<void> {
    if (method === Method.Initialize) return this.runInline(id, () => this.initialize(rawParams));
    const spec = this.options.methods.get(method);
    const family = familyOf(method);
    if (!spec || !family) {
      return this.send(encodeError(id, ErrorCode.MethodNotFound, methodNotFoundMessage(method)));
    }
    // The reference decodes params before it checks the lifecycle.
    let params: unknown;
    try {
      params = spec.decode(rawParams);
    } catch (err) {
      return this.replyError(id, err);
    }
    const gate = this.gate(family);
    if (gate) return this.send(encodeError(id, ErrorCode.InvalidRequest, gate));

    const run = () => this.execute(id, (context) => spec.handle(params, context));
    if (!this.lanes) return run();
    // Concurrent mode: the reader moves on; the lane's permit bounds how many run at once.
    const lane = this.lanes[laneOf(method)];
    void lane.acquire().then(async () => {
      try {
        await run();
      } finally {
        lane.release();
      }
    });
  }

  private gate(family: string): string | null {
    if (!this.initializeDone) return `client must call initialize before using ${family} methods`;
    if (this.session?.attachedTo !== this) return TAKEN_OVER;
    if (!this.initializedReceived) return `client must send initialized before using ${family} methods`;
    return null;
  }

  private async runInline(id: RequestId, work: () => unknown): Promise<void> {
    try {
      const result = await work();
      this.send(encodeResult(id, result));
    } catch (err) {
      this.replyError(id, err);
    }
  }

  private async execute(id: RequestId, work: (context: RequestContext) => unknown): Promise<void> {
    const session = this.session!;
    const controller = new AbortController();
    this.inflight.add(controller);
    try {
      const result = await work({ session, connection: this.scope, signal: controller.signal });
      if (session.attachedTo !== this) throw RpcError.invalidRequest(TAKEN_OVER);
      this.send(encodeResult(id, result));
    } catch (err) {
      if (this.closed) return; // abandoned with its connection: nobody to answer
      this.replyError(id, session.attachedTo !== this ? RpcError.invalidRequest(TAKEN_OVER) : err);
    } finally {
      this.inflight.delete(controller);
    }
  }

  private replyError(id: RequestId, err: unknown): void {
    if (err instanceof RpcError) {
      this.send(encodeError(id, err.code, err.message, err.data));
      return;
    }
    this.options.log.error('request failed unexpectedly', { peer: this.peer, error: String((err as Error)?.stack ?? err) });
    this.send(encodeError(id, ErrorCode.Internal, (err as Error)?.message ?? String(err)));
  }

  private initialize(rawParams: unknown): unknown {
    const params = this.options.decodeInitialize(rawParams);
    if (this.initializeDone) throw RpcError.invalidRequest('initialize may only be sent once per connection');
    this.clientName = params.clientName;
    const registry = this.options.registry;
    this.session =
      params.resumeSessionId === null ? registry.create(this) : registry.resume(params.resumeSessionId, this);
    this.initializeDone = true;
    return { sessionId: this.session.id, environmentInfo: this.options.environmentInfo() };
  }

  private handleClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    for (const controller of this.inflight) controller.abort(new Error('connection closed'));
    this.inflight.clear();
    if (this.session) this.options.registry.detach(this.session, this);
    for (const dispose of this.disposers.splice(0)) {
      try {
        dispose();
      } catch (err) {
        this.options.log.warn('connection cleanup failed', { error: String(err) });
      }
    }
    this.options.onClosed?.();
  }
}
