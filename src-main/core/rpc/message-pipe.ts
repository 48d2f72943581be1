/**
 * The seam between a transport and the connection processor: one JSON-RPC message per
 * `send`/`onMessage`. A local websocket, stdio, and (later) relay streams implement it; the
 * processor never learns which one it is talking to.
 */
/** Which kind of pipe a connection arrived on, for the runtime's view (never for behaviour). */
export type PipeCarrier = { kind: 'local'; peer: string } | { kind: 'relay'; streamId: string } | { kind: 'stdio' };

export interface MessagePipe {
  /**
   * How the reference names this peer in its parse-error texts, e.g.
   * `websocket JSON-RPC message from exec-server websocket 127.0.0.1:4242` or
   * `JSON-RPC message from exec-server stdio`. Used as `failed to parse <label>: <reason>`.
   */
  readonly parseErrorLabel: string;
  /** A short description for logs and the runtime state (`local 127.0.0.1:4242`, `stdio`). */
  readonly peer: string;
  /** The carrier kind; pipes without one count as local connections named by `peer`. */
  readonly carrier?: PipeCarrier;
  /** Sends one serialized JSON-RPC message (text, or its UTF-8 bytes). Ignored once closed. */
  send(message: string | Buffer): void;
  /** Registers the single consumer of incoming messages (text, or bytes of a binary frame). */
  onMessage(handler: (data: string | Buffer) => void): void;
  /** Registers a callback for the end of the pipe, whoever ended it. */
  onClose(handler: () => void): void;
  /** Drops the pipe the way the reference does: no close handshake. */
  close(): void;
  /** Bytes queued for the peer but not yet written (backpressure hint); 0 when unknown. */
  bufferedAmount(): number;
}

/** A pipe's carrier, falling back to a local connection named by its peer label. */
export function carrierOf(pipe: Pick<MessagePipe, 'peer' | 'carrier'>): PipeCarrier {
  return pipe.carrier ?? { kind: 'local', peer: pipe.peer };
}
