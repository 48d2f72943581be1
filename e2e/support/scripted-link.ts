/**
 * A RemoteLink whose state the test scripts step by step (no network): lets the browser tests
 * show the registration and stream views in every state before the real Noise link is merged,
 * and records which link methods the UI's buttons reached.
 */
import type { RegistrationState, StreamView } from '../../src-main/control/contract.ts';
import type { RemoteLink, RemoteLinkEvent } from '../../src-main/remote/remote-link-types.ts';

export class ScriptedLink implements RemoteLink {
  readonly calls: string[] = [];
  private readonly listeners = new Set<(event: RemoteLinkEvent) => void>();
  private readonly streamViews = new Map<string, StreamView>();
  state: RegistrationState;
  readonly fatal = new Promise<{ code: number; message: string }>(() => undefined);

  constructor(base: Omit<RegistrationState, 'status'>) {
    this.state = { ...base, status: 'stopped' };
  }

  streams(): StreamView[] {
    return [...this.streamViews.values()];
  }

  subscribe(listener: (event: RemoteLinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  start(): void {
    this.calls.push('start');
  }

  async stop(): Promise<void> {
    this.calls.push('stop');
    this.set({ status: 'stopped', nextAttemptAtMs: null, onlineSinceMs: null });
  }

  reconnectNow(): void {
    this.calls.push('reconnectNow');
  }

  resetStream(streamId: string): boolean {
    this.calls.push(`resetStream:${streamId}`);
    const stream = this.streamViews.get(streamId);
    if (!stream) return false;
    this.upsertStream({ ...stream, state: 'closed', closedAtMs: Date.now(), endReason: 'reset from the control API' });
    return true;
  }

  /** Moves to a new state (a fresh object, as the contract asks) and tells the runtime. */
  set(patch: Partial<RegistrationState>): void {
    this.state = { ...this.state, ...patch };
    this.emit({ type: 'state', state: this.state });
  }

  upsertStream(stream: StreamView): void {
    this.streamViews.set(stream.streamId, stream);
    this.emit({ type: 'stream', stream });
  }

  private emit(event: RemoteLinkEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}
