/**
 * The executor side of one rendezvous WebSocket in Noise mode (remote-protocol.md §4–§8):
 * demultiplexes RelayMessageFrames by `stream_id`, runs the hybridIK responder for each new
 * stream, has the harness key authorized (the caller's `validate`, i.e. the registry's
 * `/validate`), and hands every authenticated stream to `serve` as a MessagePipe.
 *
 * It owns no socket: the remote link feeds it every WebSocket message (`handleMessage`) and
 * gives it a `send` for binary frames; when the socket ends the link calls `close()` and every
 * stream dies with it (no resets are sent, as 0.169.0 does). Registration, credentials and
 * reconnection live in the remote link, not here.
 *
 * Behaviour matched to 0.169.0: invalid frames are dropped without a reset; every reset this
 * side sends says `noise_relay_protocol_error`; handshake checks run in the reference's order
 * (cooldown → duplicate active → duplicate pending → 128 active → 32 pending); 8 failed
 * handshakes start a 10 s cooldown; a 401 from the registry completes the handshake with the
 * rejection marker (and no reset follows: the stream is just never activated).
 */
import { decodeEnvelope } from '../../core/rpc/envelope.ts';
import { parseJsonBytes } from '../../core/rpc/json-text.ts';
import type { MessagePipe, PipeCarrier } from '../../core/rpc/message-pipe.ts';
import type { Logger } from '../../core/log.ts';
import { nodeCryptoBackend, type CryptoBackend } from '../noise/crypto-backend.ts';
import {
  HandshakeRequestError,
  HybridIkResponder,
  REGISTRY_AUTH_REJECTED_PAYLOAD,
  type NoiseIdentity,
  type NoisePublicKey,
} from '../noise/hybrid-ik.ts';
import { TransportError, type NoiseTransport } from '../noise/transport.ts';
import { decodeRelayFrame, encodeDataFrame, encodeExecutorReset, encodeRelayFrame } from './frame-codec.ts';

export interface RelayHostLimits {
  /** Concurrently active streams per socket; the next handshake is reset. */
  maxActiveStreams: number;
  /** Handshakes awaiting `/validate`; the next one is reset. */
  maxPendingValidations: number;
  /** `/validate` deadline. */
  validationTimeoutMs: number;
  /** Failed handshakes per socket that start a cooldown. */
  failureBudget: number;
  /** How long new handshakes are refused once the budget is spent. */
  cooldownMs: number;
}

export const RELAY_HOST_LIMITS: RelayHostLimits = {
  maxActiveStreams: 128,
  maxPendingValidations: 32,
  validationTimeoutMs: 10_000,
  failureBudget: 8,
  cooldownMs: 10_000,
};

export type HarnessValidationResult = 'valid' | 'invalid' | 'registry_auth_rejected';

export interface HarnessValidationRequest {
  streamId: string;
  harnessKey: NoisePublicKey;
  /** The msg1 payload (the registry's harness_key_authorization), UTF-8, ≤ 4096 bytes. */
  authorization: string;
}

/** Why a stream was refused or ended (logs and the runtime's view; never sent on the wire). */
export type StreamEndReason =
  | 'cooldown'
  | 'duplicate_active_stream'
  | 'duplicate_pending_stream'
  | 'active_stream_limit'
  | 'pending_validation_limit'
  | 'handshake_request'
  | 'authorization_too_long'
  | 'authorization_not_utf8'
  | 'validation_rejected'
  | 'validation_failed'
  | 'validation_timeout'
  | 'registry_auth'
  | 'data_before_handshake'
  | 'unknown_stream'
  | 'record'
  | 'not_jsonrpc'
  | 'session_closed'
  | 'peer_reset'
  | 'socket_closed'
  | 'local_reset'
  | 'inbound_queue_full';

/**
 * What happens to streams, for the runtime's view. `refused`: a handshake or frame for a stream
 * this host was not tracking was answered with a reset (cooldown, limits, a second handshake on
 * an active stream — which keeps working —, data for an unknown stream). `ended`: a stream that
 * was handshaking, validating or open is gone.
 */
export type RelayStreamEvent =
  | { type: 'handshaking'; streamId: string }
  | { type: 'validating'; streamId: string }
  | { type: 'open'; streamId: string; pipe: RelayStreamPipe }
  | { type: 'ended'; streamId: string; reason: StreamEndReason }
  | { type: 'refused'; streamId: string; reason: StreamEndReason };

/** Queued inbound JSON-RPC messages per stream; one more resets the stream (0.169.0's channel size). */
export const MAX_INBOUND_QUEUE = 128;

export interface NoiseRelayHostOptions {
  identity: NoiseIdentity;
  environmentId: string;
  registrationId: string;
  /** Writes one binary WebSocket message. */
  send: (frame: Uint8Array) => void;
  /** Bytes queued on the socket (backpressure for process output). */
  bufferedAmount?: () => number;
  /** Asks the registry whether this harness key and authorization are valid. Throwing = invalid. */
  validate: (request: HarnessValidationRequest, signal: AbortSignal) => Promise<HarnessValidationResult>;
  /** Serves an authenticated stream (e.g. `execServer.serve(pipe)`). */
  serve: (pipe: MessagePipe) => void;
  log: Logger;
  crypto?: CryptoBackend;
  limits?: Partial<RelayHostLimits>;
  now?: () => number;
  /** Told how streams come and go, with why they end (for the runtime's state). */
  onStreamEvent?: (event: RelayStreamEvent) => void;
}

interface PendingStream {
  abort: AbortController;
  timer: NodeJS.Timeout;
}

export class NoiseRelayHost {
  private readonly active = new Map<string, RelayStreamPipe>();
  private readonly pending = new Map<string, PendingStream>();
  private readonly limits: RelayHostLimits;
  private readonly crypto: CryptoBackend;
  private readonly now: () => number;
  private failures = 0;
  private cooldownUntil = 0;
  private closed = false;

  constructor(private readonly options: NoiseRelayHostOptions) {
    this.limits = { ...RELAY_HOST_LIMITS, ...options.limits };
    this.crypto = options.crypto ?? nodeCryptoBackend;
    this.now = options.now ?? Date.now;
  }

  get activeStreamCount(): number {
    return this.active.size;
  }

  get pendingValidationCount(): number {
    return this.pending.size;
  }

  get failureCount(): number {
    return this.failures;
  }

  /** One WebSocket message from the rendezvous. */
  handleMessage(data: Uint8Array, isBinary: boolean): void {
    if (this.closed) return;
    if (!isBinary) {
      this.options.log.warn('dropping non-binary Noise relay frame from harness');
      return;
    }
    const decoded = decodeRelayFrame(data);
    if (!decoded.ok) {
      this.options.log.warn(decoded.error);
      return;
    }
    const { streamId, body } = decoded.frame;
    switch (body.kind) {
      case 'handshake':
        return this.onHandshake(streamId, body.payload);
      case 'data':
        return this.onData(streamId, body.seq, body.payload);
      case 'reset':
        // Dropped without a reply; the reason is untrusted and not logged.
        if (this.drop(streamId)) this.emit({ type: 'ended', streamId, reason: 'peer_reset' });
        return;
      case 'ack':
      case 'resume':
      case 'heartbeat':
        return;
    }
  }

  /** The socket is gone: every stream dies with it, no resets. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const streamId of [...this.pending.keys(), ...this.active.keys()]) {
      this.drop(streamId);
      this.emit({ type: 'ended', streamId, reason: 'socket_closed' });
    }
  }

  /** Ends a pending or open stream from this side (a reset goes out); false when unknown. */
  resetStream(streamId: string): boolean {
    if (this.closed || !this.drop(streamId)) return false;
    this.sendReset(streamId);
    this.emit({ type: 'ended', streamId, reason: 'local_reset' });
    return true;
  }

  private emit(event: RelayStreamEvent): void {
    this.options.onStreamEvent?.(event);
  }

  private sendReset(streamId: string): void {
    if (!this.closed) this.options.send(encodeExecutorReset(streamId));
  }

  private fail(): void {
    this.failures++;
    if (this.failures >= this.limits.failureBudget) {
      this.cooldownUntil = this.now() + this.limits.cooldownMs;
      this.failures = 0;
    }
  }

  /**
   * Resets a stream, counting a failed handshake if asked. `tracked`: it was handshaking,
   * pending or open here (and has just been dropped), as opposed to refused on arrival.
   */
  private refuse(streamId: string, reason: StreamEndReason, counted: boolean, tracked = true): void {
    this.options.log.debug('resetting relay stream', { reason });
    if (counted) this.fail();
    this.sendReset(streamId);
    this.emit({ type: tracked ? 'ended' : 'refused', streamId, reason });
  }

  /** Forgets a pending or active stream locally (no frame sent); false when there was none. */
  private drop(streamId: string): boolean {
    const pending = this.pending.get(streamId);
    if (pending) {
      this.pending.delete(streamId);
      clearTimeout(pending.timer);
      pending.abort.abort();
      return true;
    }
    const stream = this.active.get(streamId);
    if (stream) {
      this.active.delete(streamId);
      stream.end();
      return true;
    }
    return false;
  }

  private onHandshake(streamId: string, msg1: Uint8Array): void {
    if (this.now() < this.cooldownUntil) return this.refuse(streamId, 'cooldown', false, false);
    if (this.active.has(streamId)) return this.refuse(streamId, 'duplicate_active_stream', false, false);
    if (this.pending.has(streamId)) {
      this.drop(streamId);
      return this.refuse(streamId, 'duplicate_pending_stream', true);
    }
    if (this.active.size >= this.limits.maxActiveStreams) return this.refuse(streamId, 'active_stream_limit', false, false);
    if (this.pending.size >= this.limits.maxPendingValidations) return this.refuse(streamId, 'pending_validation_limit', false, false);
    this.emit({ type: 'handshaking', streamId });

    const responder = new HybridIkResponder({
      crypto: this.crypto,
      identity: this.options.identity,
      environmentId: this.options.environmentId,
      registrationId: this.options.registrationId,
      streamId,
    });
    let request: { harnessKey: NoisePublicKey; authorization: string };
    try {
      request = responder.readRequest(msg1);
    } catch (error) {
      const reason = error instanceof HandshakeRequestError ? error.reason : 'handshake_request';
      return this.refuse(streamId, reason, true);
    }

    const abort = new AbortController();
    const timer = setTimeout(() => {
      if (this.pending.get(streamId)?.abort !== abort) return;
      this.drop(streamId);
      this.refuse(streamId, 'validation_timeout', true);
    }, this.limits.validationTimeoutMs);
    this.pending.set(streamId, { abort, timer });
    this.emit({ type: 'validating', streamId });

    const settle = (result: HarnessValidationResult | 'failed') => {
      if (abort.signal.aborted || this.pending.get(streamId)?.abort !== abort) return;
      this.pending.delete(streamId);
      clearTimeout(timer);
      if (result === 'valid') return this.activate(streamId, responder);
      if (result === 'registry_auth_rejected') {
        // 7.3: complete the handshake with the marker so the harness can tell why. 0.169.0 sends
        // no reset after it (the spec says it does); the stream is simply never activated.
        let message: Uint8Array;
        try {
          ({ message } = responder.writeResponse(new TextEncoder().encode(REGISTRY_AUTH_REJECTED_PAYLOAD)));
        } catch {
          return this.refuse(streamId, 'handshake_request', true);
        }
        if (!this.closed) this.options.send(encodeRelayFrame({ streamId, body: { kind: 'handshake', payload: message } }));
        this.fail();
        this.emit({ type: 'ended', streamId, reason: 'registry_auth' });
        return;
      }
      this.refuse(streamId, result === 'invalid' ? 'validation_rejected' : 'validation_failed', true);
    };
    this.options
      .validate({ streamId, harnessKey: request.harnessKey, authorization: request.authorization }, abort.signal)
      .then(settle, () => settle('failed'))
      .catch((error: unknown) => this.options.log.error('relay stream setup failed', { error: String(error) }));
  }

  private activate(streamId: string, responder: HybridIkResponder): void {
    if (this.closed) return;
    let message: Uint8Array;
    let transport: NoiseTransport;
    try {
      ({ message, transport } = responder.writeResponse());
    } catch {
      // e.g. the harness's ML-KEM key fails the FIPS 203 check at encapsulation
      return this.refuse(streamId, 'handshake_request', true);
    }
    this.options.send(encodeRelayFrame({ streamId, body: { kind: 'handshake', payload: message } }));
    const pipe = new RelayStreamPipe(streamId, transport, {
      send: (frame) => {
        if (!this.closed) this.options.send(frame);
      },
      bufferedAmount: this.options.bufferedAmount ?? (() => 0),
      closedByServer: () => {
        if (this.active.get(streamId) !== pipe) return;
        this.active.delete(streamId);
        this.sendReset(streamId);
        this.emit({ type: 'ended', streamId, reason: 'session_closed' });
      },
    });
    this.active.set(streamId, pipe);
    this.emit({ type: 'open', streamId, pipe });
    this.options.serve(pipe);
  }

  private onData(streamId: string, seq: number, payload: Uint8Array): void {
    const stream = this.active.get(streamId);
    if (!stream) {
      if (this.pending.has(streamId)) {
        this.drop(streamId);
        return this.refuse(streamId, 'data_before_handshake', true);
      }
      return this.refuse(streamId, 'unknown_stream', false, false);
    }
    const failure = stream.receive(seq, payload);
    if (failure) {
      this.options.log.debug('relay stream failed', { detail: failure.detail });
      this.drop(streamId);
      this.refuse(streamId, failure.reason, false);
    }
  }
}

interface StreamLink {
  send: (frame: Uint8Array) => void;
  bufferedAmount: () => number;
  /** The server side closed the pipe (session ended, protocol violation): reset the stream. */
  closedByServer: () => void;
}

/** One authenticated stream as a MessagePipe: JSON-RPC messages in and out of Noise records. */
export class RelayStreamPipe implements MessagePipe {
  readonly parseErrorLabel: string;
  readonly peer: string;
  readonly carrier: PipeCarrier;
  private handler: ((data: string | Buffer) => void) | null = null;
  private readonly closeHandlers: Array<() => void> = [];
  private ended = false;
  /** Application bytes (decrypted JSON-RPC messages) received and sent. */
  bytesIn = 0;
  bytesOut = 0;
  /** Told after messages move either way (the runtime's byte counters). */
  onTraffic: (() => void) | null = null;
  /**
   * Messages handed to the consumer but not yet taken up by it (its queue). At
   * MAX_INBOUND_QUEUE the next message resets the stream, as 0.169.0's bounded channel does.
   */
  inboundBacklog: (() => number) | null = null;

  constructor(
    readonly streamId: string,
    private readonly transport: NoiseTransport,
    private readonly link: StreamLink,
  ) {
    this.peer = `relay ${streamId}`;
    this.carrier = { kind: 'relay', streamId };
    this.parseErrorLabel = `JSON-RPC message from exec-server relay stream ${streamId}`;
  }

  /** Returns why the stream must be reset, or null. */
  receive(seq: number, ciphertext: Uint8Array): { reason: StreamEndReason; detail: string } | null {
    let messages: Uint8Array[];
    try {
      messages = this.transport.receiveRecord(seq, ciphertext);
    } catch (error) {
      if (error instanceof TransportError) return { reason: 'record', detail: error.message };
      throw error;
    }
    for (const message of messages) {
      // A JSON value that is not a JSON-RPC message resets the stream (no -32600 answer here).
      const parsed = parseJsonBytes(message);
      if (!parsed.ok || decodeEnvelope(parsed.value).kind === 'malformed') return { reason: 'not_jsonrpc', detail: 'invalid JSON-RPC message' };
      if (this.ended) return null;
      if (this.inboundBacklog && this.inboundBacklog() >= MAX_INBOUND_QUEUE) {
        return { reason: 'inbound_queue_full', detail: 'inbound JSON-RPC queue is full' };
      }
      this.bytesIn += message.length;
      this.handler?.(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
    }
    if (messages.length > 0) this.onTraffic?.();
    return null;
  }

  send(message: string | Buffer): void {
    if (this.ended) return;
    const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
    let records;
    try {
      records = this.transport.sealMessage(bytes);
    } catch (error) {
      // A message over 64 MiB, or the u32 sequence space used up: the stream cannot go on.
      if (!(error instanceof TransportError)) throw error;
      this.close();
      return;
    }
    for (const record of records) {
      this.link.send(encodeDataFrame(this.streamId, record.seq, record.parts));
    }
    this.bytesOut += bytes.length;
    this.onTraffic?.();
  }

  onMessage(handler: (data: string | Buffer) => void): void {
    this.handler = handler;
  }

  onClose(handler: () => void): void {
    this.closeHandlers.push(handler);
  }

  /** Closed by the server side: the stream is reset. */
  close(): void {
    if (this.ended) return;
    this.link.closedByServer();
    this.end();
  }

  /** Ended by the peer, the socket or a protocol error (the host already dealt with the wire). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const handler of this.closeHandlers) handler();
  }

  bufferedAmount(): number {
    return this.link.bufferedAmount();
  }
}
