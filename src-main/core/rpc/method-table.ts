/** How a method is declared: a params decoder (serde texts, -32602) and a handler. */
import type { Session } from '../session/session-registry.ts';

/** How often a producer paused for a congested connection checks whether it has drained. */
export const DRAIN_POLL_MS = 5;

/** Per-connection resources (file handles, watches, HTTP body streams) die with the connection. */
export interface ConnectionScope {
  readonly peer: string;
  /** Runs `dispose` when the connection ends. */
  onClose(dispose: () => void): void;
  /** Sends a notification on this connection only (connection-scoped streams). */
  notify(method: string, params: unknown): void;
  /** True while the connection has more unsent data than it should buffer (slow peer). */
  congested(): boolean;
  /** Connection-scoped state keyed by owner module. */
  readonly state: Map<symbol, unknown>;
}

export interface RequestContext {
  session: Session;
  connection: ConnectionScope;
  /** Aborted when the connection ends or the session is taken over mid-request. */
  signal: AbortSignal;
}

export interface MethodSpec<P = any> {
  decode(params: unknown): P;
  handle(params: P, context: RequestContext): unknown;
}

export type MethodTable = ReadonlyMap<string, MethodSpec>;
