/**
 * A RemoteLink driven by hand: tests (and the dashboard's e2e) set its registration state and
 * streams directly, and it records what the runtime asked of it. The real link (registration,
 * rendezvous, relay) implements the same interface elsewhere.
 */
import type { RegistrationState, StreamView } from '../control/contract.ts';
import type { RemoteLink, RemoteLinkEvent } from '../remote/remote-link-types.ts';

export function stoppedRegistration(patch: Partial<RegistrationState> = {}): RegistrationState {
  return {
    status: 'stopped',
    configured: true,
    registryUrl: 'https://registry.example.test',
    environmentId: 'env-test',
    name: 'codex-exec-server',
    transport: 'noise',
    authMethod: 'api-key',
    registrationId: null,
    nextAttemptAtMs: null,
    attempts: 0,
    onlineSinceMs: null,
    lastError: null,
    lastErrorAtMs: null,
    ...patch,
  };
}

export class FakeRemoteLink implements RemoteLink {
  state: RegistrationState;
  readonly calls: string[] = [];
  readonly fatal: Promise<{ code: number; message: string }>;
  private readonly known = new Map<string, StreamView>();
  private readonly listeners = new Set<(event: RemoteLinkEvent) => void>();
  private failFatal!: (fatal: { code: number; message: string }) => void;

  constructor(initial: Partial<RegistrationState> = {}) {
    this.state = stoppedRegistration(initial);
    this.fatal = new Promise((resolve) => (this.failFatal = resolve));
  }

  streams(): StreamView[] {
    return [...this.known.values()];
  }

  subscribe(listener: (event: RemoteLinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  start(): void {
    this.calls.push('start');
    if (this.state.status === 'stopped') this.setState({ status: 'registering', attempts: this.state.attempts + 1 });
  }

  async stop(): Promise<void> {
    this.calls.push('stop');
    for (const stream of this.known.values()) {
      if (stream.state !== 'closed') this.setStream({ ...stream, state: 'closed', closedAtMs: Date.now(), endReason: 'socket_closed' });
    }
    this.setState({ status: 'stopped', onlineSinceMs: null, nextAttemptAtMs: null });
  }

  reconnectNow(): void {
    this.calls.push('reconnectNow');
  }

  resetStream(streamId: string): boolean {
    this.calls.push(`resetStream ${streamId}`);
    const stream = this.known.get(streamId);
    if (!stream || stream.state === 'closed') return false;
    this.setStream({ ...stream, state: 'closed', closedAtMs: Date.now(), endReason: 'reset_by_user' });
    return true;
  }

  /** Test side: moves the link to a new state and tells the subscribers. */
  setState(patch: Partial<RegistrationState>): void {
    this.state = { ...this.state, ...patch };
    this.emit({ type: 'state', state: this.state });
  }

  setStream(stream: StreamView): void {
    this.known.set(stream.streamId, stream);
    this.emit({ type: 'stream', stream });
  }

  removeStream(streamId: string): void {
    if (this.known.delete(streamId)) this.emit({ type: 'streamRemoved', streamId });
  }

  failForGood(code: number, message: string): void {
    this.setState({ status: 'error', lastError: message, lastErrorAtMs: Date.now() });
    this.failFatal({ code, message });
  }

  private emit(event: RemoteLinkEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}
