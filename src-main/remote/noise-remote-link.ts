/**
 * The product's remote link in Noise mode (remote-protocol.md §2, §4–§12): registers one static
 * Noise identity with the registry, holds the rendezvous WebSocket, serves every authenticated
 * relay stream with the ExecServer, reconnects and re-registers the way codex-cli 0.169.0 does,
 * and publishes a RegistrationState and a StreamView per stream.
 *
 * Usage (headless CLI or the runtime):
 *
 *   const auth = await createAuthProvider(selection, context);   // remote/auth/create-auth-provider.ts
 *   const link = new NoiseRemoteLink({
 *     registryUrl: opts.remote,            // `--remote` as given (trimmed here)
 *     environmentId: opts.environmentId,   // `--environment-id` as given (trimmed here)
 *     name: opts.name ?? null,             // shown in the state only; 0.169.0 sends it nowhere
 *     auth,
 *     server: execServer,                  // anything with serve(pipe) → ConnectionProcessor | null
 *     log,
 *   });
 *   link.subscribe((event) => …);           // 'state' | 'stream' | 'streamRemoved'
 *   link.start();
 *   link.fatal.then(({ code, message }) => { if (message) process.stderr.write(`${message}\n`); exit(code) });
 *   // SIGTERM: await link.stop(); await execServer.shutdown(); exit(0)
 *
 * `fatal.message` is the whole line 0.169.0 prints (`Error: <message>`), or '' for a clean exit
 * (e.g. the credential pipe closed while running, code 0). The link never closes `auth` or the
 * server: its owner does.
 *
 * State machine (§10, §11): registering → connecting → online → reconnecting (nextAttemptAtMs)
 * → connecting …; a 4xx on the upgrade → registering again (same key) before the backoff; a fatal
 * registration error → 'error' (a registry 401/403 or an AuthError 'auth_needed' → 'auth_needed')
 * and `fatal` settles with code 1. Backoff: uniform in [b/2, b], b from 1 s doubling to 30 s after
 * every attempt, NOT reset by a successful connection (0.169.0; older source reset it).
 */
import type { RegistrationState, StreamView } from '../control/contract.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import type { MessagePipe } from '../core/rpc/message-pipe.ts';
import { generateIdentity, publicKeyOf, type NoiseIdentity } from '../transport/noise/hybrid-ik.ts';
import {
  NoiseRelayHost,
  type RelayHostLimits,
  type RelayStreamEvent,
  type RelayStreamPipe,
} from '../transport/relay/noise-relay-host.ts';
import { AuthError, type AuthProvider } from './auth/auth-provider.ts';
import { parseRegistryUrl } from './auth/registry-url.ts';
import { clockSleep, systemClock, type LinkClock } from './link-clock.ts';
import { fatalErrorText, registrationRetryDelayMs, registryBase, RegistryClient, RegistryError, rustTrim, type Registration } from './registry-client.ts';
import type { RemoteLink, RemoteLinkEvent } from './remote-link-types.ts';
import { RendezvousSocket, type DisconnectReason } from './rendezvous-socket.ts';

export const BACKOFF_INITIAL_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;
/** How long a closed stream stays in the view before `streamRemoved`. */
export const CLOSED_STREAM_RETENTION_MS = 60_000;
/** At most this many closed streams are kept (a flood of refused handshakes stays bounded). */
export const MAX_CLOSED_STREAMS = 200;
/** Byte counters and the session id of open streams are published at most this often. */
export const STREAM_UPDATE_INTERVAL_MS = 250;

/** What the link needs of the exec-server: `ExecServer` fits. */
export interface StreamServer {
  serve(pipe: MessagePipe): { readonly attachedSession: { readonly id: string } | null; readonly queuedMessages: number } | null;
}

export interface NoiseRemoteLinkOptions {
  registryUrl: string;
  environmentId: string;
  name?: string | null;
  auth: AuthProvider;
  server: StreamServer;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Tests may share one; otherwise generated once per link and reused for every registration. */
  identity?: NoiseIdentity;
  clock?: LinkClock;
  /** [0, 1): backoff and retry jitter. */
  random?: () => number;
  relayLimits?: Partial<RelayHostLimits>;
  keepalive?: { pingIntervalMs?: number; pongTimeoutMs?: number };
  backoff?: { initialMs?: number; maxMs?: number };
  registryTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  closedStreamRetentionMs?: number;
}

interface StreamRecord {
  view: StreamView;
  pipe: RelayStreamPipe | null;
  processor: ReturnType<StreamServer['serve']>;
  updateTimer: unknown;
  removeTimer: unknown;
}

class Interrupted extends Error {}

export class NoiseRemoteLink implements RemoteLink {
  readonly fatal: Promise<{ code: number; message: string }>;
  readonly identity: NoiseIdentity;
  private settleFatal!: (value: { code: number; message: string }) => void;
  private fatalSettled = false;
  private current: RegistrationState;
  private readonly listeners = new Set<(event: RemoteLinkEvent) => void>();
  private readonly records = new Map<string, StreamRecord>();
  private readonly log: Logger;
  private readonly clock: LinkClock;
  private readonly random: () => number;
  private readonly registry: RegistryClient;
  private run: { abort: AbortController; done: Promise<void> } | null = null;
  private socket: RendezvousSocket | null = null;
  private host: NoiseRelayHost | null = null;
  private backoffMs: number;
  /** Ends the current backoff or retry wait early (reconnectNow). */
  private wake: (() => void) | null = null;

  constructor(private readonly options: NoiseRemoteLinkOptions) {
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.identity = options.identity ?? generateIdentity();
    this.backoffMs = options.backoff?.initialMs ?? BACKOFF_INITIAL_MS;
    this.fatal = new Promise((resolve) => (this.settleFatal = resolve));
    this.registry = new RegistryClient({
      registryUrl: options.registryUrl,
      environmentId: options.environmentId,
      auth: options.auth,
      log: this.log,
      env: options.env,
      timeoutMs: options.registryTimeoutMs,
      random: this.random,
      sleep: (ms, signal) => this.interruptibleSleep(ms, signal),
    });
    this.current = {
      status: 'stopped',
      configured: true,
      registryUrl: registryBase(options.registryUrl),
      environmentId: rustTrim(options.environmentId),
      name: options.name ?? null,
      transport: 'noise',
      authMethod: options.auth.method,
      registrationId: null,
      nextAttemptAtMs: null,
      attempts: 0,
      onlineSinceMs: null,
      lastError: null,
      lastErrorAtMs: null,
    };
    options.auth.ended?.then(({ code, message }) => {
      this.finish(code, message ? `Error: ${message}` : '');
      void this.stop();
    });
  }

  get state(): RegistrationState {
    return this.current;
  }

  streams(): StreamView[] {
    return [...this.records.values()].map((r) => ({ ...r.view }));
  }

  subscribe(listener: (event: RemoteLinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.run) return;
    const abort = new AbortController();
    // A new start is a new executor process as far as the backoff is concerned.
    this.backoffMs = this.options.backoff?.initialMs ?? BACKOFF_INITIAL_MS;
    this.setState({ status: 'registering', attempts: 0, nextAttemptAtMs: null, onlineSinceMs: null, registrationId: null });
    const done = this.loop(abort.signal).finally(() => {
      if (this.run?.abort === abort) this.run = null;
    });
    this.run = { abort, done };
  }

  async stop(): Promise<void> {
    const run = this.run;
    if (run) {
      run.abort.abort(new Interrupted('stopped'));
      this.socket?.drop('local_shutdown');
      await run.done;
    }
    if (this.current.status !== 'stopped') this.setState({ status: 'stopped', nextAttemptAtMs: null, onlineSinceMs: null });
  }

  reconnectNow(): void {
    this.wake?.();
  }

  resetStream(streamId: string): boolean {
    return this.host?.resetStream(streamId) ?? false;
  }

  // ---------------------------------------------------------------------------------------------
  // The connection loop

  private async loop(signal: AbortSignal): Promise<void> {
    try {
      this.options.auth.checkRegistryUrl(parseRegistryUrl(this.options.registryUrl));
      let registration = await this.register(signal);
      for (;;) {
        this.setState({ status: 'connecting', attempts: this.current.attempts + 1, nextAttemptAtMs: null });
        const result = await RendezvousSocket.connect({
          url: registration.url,
          log: this.log,
          env: this.options.env,
          clock: this.clock,
          handshakeTimeoutMs: this.options.handshakeTimeoutMs,
          pingIntervalMs: this.options.keepalive?.pingIntervalMs,
          pongTimeoutMs: this.options.keepalive?.pongTimeoutMs,
          signal,
        });
        if (signal.aborted) {
          if (result.ok) result.socket.drop('local_shutdown');
          return;
        }
        if (result.ok) {
          const reason = await this.serveSocket(result.socket, registration);
          if (signal.aborted) return;
          this.noteError(`rendezvous connection ended (${reason})`);
        } else if (result.rejected) {
          // The rendezvous no longer knows this registration: register again (same key) at once.
          this.noteError(result.error);
          this.log.warn('rendezvous refused the executor; registering again', { status: result.status });
          this.setState({ status: 'registering' });
          registration = await this.register(signal);
        } else {
          this.noteError(result.error);
          this.log.warn('rendezvous connection failed', { error: result.error });
        }
        const delay = Math.round(this.backoffMs / 2 + this.random() * (this.backoffMs / 2));
        this.backoffMs = Math.min(this.backoffMs * 2, this.options.backoff?.maxMs ?? BACKOFF_MAX_MS);
        this.setState({ status: 'reconnecting', nextAttemptAtMs: this.clock.now() + delay, onlineSinceMs: null });
        await this.interruptibleSleep(delay, signal);
      }
    } catch (error) {
      if (signal.aborted) return;
      this.failFatally(error);
    }
  }

  /** Registers, retrying only what 0.169.0 retries (and a provider that is briefly unavailable). */
  private async register(signal: AbortSignal): Promise<Registration> {
    for (let attempt = 0; ; attempt++) {
      try {
        const registration = await this.registry.register(publicKeyOf(this.identity), {
          signal,
          onRetry: (delayMs, error) => {
            this.noteError(error.message);
            this.setState({ status: 'registering', nextAttemptAtMs: this.clock.now() + delayMs });
          },
        });
        this.log.info('registered with the environment registry', { environmentId: registration.environmentId });
        this.setState({ registrationId: registration.registrationId, nextAttemptAtMs: null });
        return registration;
      } catch (error) {
        if (!(error instanceof AuthError) || error.kind !== 'unavailable' || signal.aborted) throw error;
        const delay = registrationRetryDelayMs(attempt, this.random);
        this.noteError(error.message);
        this.setState({ status: 'registering', nextAttemptAtMs: this.clock.now() + delay });
        await this.interruptibleSleep(delay, signal);
      }
    }
  }

  /** Serves one connected socket until it ends; resolves with why it ended. */
  private serveSocket(socket: RendezvousSocket, registration: Registration): Promise<DisconnectReason> {
    const host = new NoiseRelayHost({
      identity: this.identity,
      environmentId: registration.environmentId,
      registrationId: registration.registrationId,
      send: (frame) => socket.send(frame),
      bufferedAmount: () => socket.bufferedAmount,
      validate: (request, signal) =>
        this.registry.validate({ registrationId: registration.registrationId, harnessKey: request.harnessKey, authorization: request.authorization }, signal),
      serve: (pipe) => this.serveStream(pipe as RelayStreamPipe),
      log: this.log,
      limits: this.options.relayLimits,
      now: () => this.clock.now(),
      onStreamEvent: (event) => this.onStreamEvent(event),
    });
    this.socket = socket;
    this.host = host;
    socket.onMessage((data, isBinary) => host.handleMessage(data, isBinary));
    this.log.info('connected to the rendezvous');
    this.setState({ status: 'online', onlineSinceMs: this.clock.now(), nextAttemptAtMs: null });
    return new Promise((resolve) =>
      socket.onClose((reason) => {
        host.close();
        if (this.socket === socket) this.socket = null;
        if (this.host === host) this.host = null;
        resolve(reason);
      }),
    );
  }

  private interruptibleSleep(ms: number, signal?: AbortSignal): Promise<void> {
    const woken = new AbortController();
    this.wake = () => woken.abort();
    const both = signal ? AbortSignal.any([signal, woken.signal]) : woken.signal;
    return clockSleep(this.clock, ms, both).then(
      () => {
        this.wake = null;
      },
      (error) => {
        this.wake = null;
        if (signal?.aborted) throw error;
      },
    );
  }

  /** Logged once by the hosting runtime ('remote link stopped for good'), not here. */
  private failFatally(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const authNeeded =
      (error instanceof RegistryError && error.kind === 'auth') || (error instanceof AuthError && error.kind === 'auth_needed');
    this.noteError(message);
    this.setState({ status: authNeeded ? 'auth_needed' : 'error', nextAttemptAtMs: null, onlineSinceMs: null });
    this.finish(1, fatalErrorText(message, error instanceof RegistryError ? error.causes : []));
  }

  private finish(code: number, message: string): void {
    if (this.fatalSettled) return;
    this.fatalSettled = true;
    this.settleFatal({ code, message });
  }

  // ---------------------------------------------------------------------------------------------
  // State and streams

  private setState(patch: Partial<RegistrationState>): void {
    this.current = { ...this.current, ...patch };
    this.emit({ type: 'state', state: this.current });
  }

  private noteError(message: string): void {
    this.current = { ...this.current, lastError: message, lastErrorAtMs: this.clock.now() };
  }

  private emit(event: RemoteLinkEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.log.error('remote link listener failed', { error: String(error) });
      }
    }
  }

  private publish(record: StreamRecord): void {
    this.emit({ type: 'stream', stream: { ...record.view } });
  }

  private newRecord(streamId: string): StreamRecord {
    const old = this.records.get(streamId);
    if (old) this.clearTimers(old);
    const record: StreamRecord = {
      view: { streamId, state: 'handshaking', bytesIn: 0, bytesOut: 0, openedAtMs: this.clock.now(), closedAtMs: null, endReason: null, sessionId: null },
      pipe: null,
      processor: null,
      updateTimer: null,
      removeTimer: null,
    };
    this.records.delete(streamId);
    this.records.set(streamId, record);
    return record;
  }

  private onStreamEvent(event: RelayStreamEvent): void {
    const existing = this.records.get(event.streamId);
    const live = existing && existing.view.state !== 'closed' ? existing : undefined;
    switch (event.type) {
      case 'handshaking':
        return this.publish(this.newRecord(event.streamId));
      case 'validating':
        if (!live) return;
        live.view.state = 'validating';
        return this.publish(live);
      case 'open': {
        const record = live ?? this.newRecord(event.streamId);
        record.view.state = 'open';
        record.pipe = event.pipe;
        event.pipe.onTraffic = () => this.scheduleUpdate(record);
        return this.publish(record);
      }
      case 'ended':
        if (live) this.close(live, event.reason);
        return;
      case 'refused':
        // A second handshake on an open stream leaves it open; data for unknown streams is noise.
        if (live || event.reason === 'unknown_stream') return;
        return this.close(this.newRecord(event.streamId), event.reason);
    }
  }

  private serveStream(pipe: RelayStreamPipe): void {
    const record = this.records.get(pipe.streamId);
    const processor = this.options.server.serve(pipe);
    pipe.inboundBacklog = () => processor?.queuedMessages ?? 0;
    if (record && record.pipe === pipe) record.processor = processor;
  }

  private refresh(record: StreamRecord): boolean {
    const pipe = record.pipe;
    if (!pipe) return false;
    const sessionId = record.processor?.attachedSession?.id ?? record.view.sessionId;
    const changed = pipe.bytesIn !== record.view.bytesIn || pipe.bytesOut !== record.view.bytesOut || sessionId !== record.view.sessionId;
    record.view.bytesIn = pipe.bytesIn;
    record.view.bytesOut = pipe.bytesOut;
    record.view.sessionId = sessionId;
    return changed;
  }

  private scheduleUpdate(record: StreamRecord): void {
    if (record.updateTimer !== null || record.view.state === 'closed') return;
    record.updateTimer = this.clock.setTimeout(() => {
      record.updateTimer = null;
      if (record.view.state !== 'closed' && this.refresh(record)) this.publish(record);
    }, STREAM_UPDATE_INTERVAL_MS, { weak: true });
  }

  private close(record: StreamRecord, reason: string): void {
    this.refresh(record);
    this.clearTimers(record);
    record.view.state = 'closed';
    record.view.closedAtMs = this.clock.now();
    record.view.endReason = reason;
    record.pipe = null;
    record.processor = null;
    this.publish(record);
    const streamId = record.view.streamId;
    record.removeTimer = this.clock.setTimeout(() => this.remove(streamId, record), this.options.closedStreamRetentionMs ?? CLOSED_STREAM_RETENTION_MS, {
      weak: true,
    });
    const closed = [...this.records.values()].filter((r) => r.view.state === 'closed');
    for (const oldest of closed.slice(0, Math.max(0, closed.length - MAX_CLOSED_STREAMS))) this.remove(oldest.view.streamId, oldest);
  }

  private remove(streamId: string, record: StreamRecord): void {
    if (this.records.get(streamId) !== record) return;
    this.clearTimers(record);
    this.records.delete(streamId);
    this.emit({ type: 'streamRemoved', streamId });
  }

  private clearTimers(record: StreamRecord): void {
    if (record.updateTimer !== null) this.clock.clearTimeout(record.updateTimer);
    if (record.removeTimer !== null) this.clock.clearTimeout(record.removeTimer);
    record.updateTimer = record.removeTimer = null;
  }
}
