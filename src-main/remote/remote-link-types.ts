/**
 * The seam between the remote link (registration + rendezvous + relay streams) and whoever
 * hosts it: the headless CLI and the ExecutorRuntime. The runtime only needs this interface,
 * so it can be tested with a fake link and the link without a runtime.
 */
import type { RegistrationState, StreamView } from '../control/contract.ts';
import type { MessagePipe } from '../core/rpc/message-pipe.ts';

export type RemoteLinkEvent =
  | { type: 'state'; state: RegistrationState }
  | { type: 'stream'; stream: StreamView }
  | { type: 'streamRemoved'; streamId: string };

export interface RemoteLink {
  /** The current registration/link state (a fresh object on every change). */
  readonly state: RegistrationState;
  /** Relay streams currently known (open, handshaking, or recently closed). */
  streams(): StreamView[];
  subscribe(listener: (event: RemoteLinkEvent) => void): () => void;
  /** Begins registering and connecting; a no-op while already started. */
  start(): void;
  /** Drops the socket (streams die, their sessions detach) and stops retrying; state → 'stopped'. */
  stop(): Promise<void>;
  /** Skips the current backoff wait (no-op unless waiting). */
  reconnectNow(): void;
  /** Ends one relay stream; false if unknown. */
  resetStream(streamId: string): boolean;
  /**
   * Settles when the link can never work again and a headless executor should exit with `code`
   * (fatal registration errors, credential pipe closed), mirroring `codex exec-server --remote`.
   */
  readonly fatal: Promise<{ code: number; message: string }>;
}

/** What a link needs of the exec-server to serve a stream: `ExecServer` fits. */
export interface StreamServer {
  serve(pipe: MessagePipe): { readonly attachedSession: { readonly id: string } | null; readonly queuedMessages: number } | null;
}
