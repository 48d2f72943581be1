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
import { generateIdentity, publicKeyOf, type NoiseIdentity } from '../transport/noise/hybrid-ik.ts';
import {
  NoiseRelayHost,
  type RelayHostLimits,
  type RelayStreamEvent,
  type RelayStreamPipe,
} from '../transport/relay/noise-relay-host.ts';
import { AuthError, type AuthProvider } from './auth/auth-provider.ts';
import { parseRegistryUrl } from './auth/registry-url.ts';
import { systemClock, type LinkClock } from './link-clock.ts';
import { initialRegistration, LinkState, type Fatal } from './link-state.ts';
import { registrationRetryDelayMs, RegistryClient, RegistryError, type Registration } from './registry-client.ts';
import type { RemoteLink, RemoteLinkEvent, StreamServer } from './remote-link-types.ts';
import { RendezvousSocket, type DisconnectReason } from './rendezvous-socket.ts';
import { StreamViews, type ViewEntry } from './stream-views.ts';

export const BACKOFF_INITIAL_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;
/** At most this many closed streams are kept (a flood of refused handshakes stays bounded). */
export const MAX_CLOSED_STREAMS = 200;

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

interface StreamRecord extends ViewEntry {
  pipe: RelayStreamPipe | null;
  processor: ReturnType<StreamServer['serve']>;
}

export class NoiseRemoteLink implements RemoteLink {
  readonly identity: NoiseIdentity;
  private readonly link: LinkState;
  private readonly views: StreamViews<StreamRecord>;
  private readonly log: Logger;
  private readonly clock: LinkClock;
  private readonly random: () => number;
  private readonly registry: RegistryClient;
  private socket: RendezvousSocket | null = null;
  private host: NoiseRelayHost | null = null;
  private backoffMs: number;

  constructor(private readonly options: NoiseRemoteLinkOptions) {
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.identity = options.identity ?? generateIdentity();
    this.backoffMs = options.backoff?.initialMs ?? BACKOFF_INITIAL_MS;
    this.link = new LinkState(initialRegistration({ ...options, transport: 'noise', authMethod: options.auth.method }), this.clock, this.log);
    this.views = new StreamViews<StreamRecord>({
      clock: this.clock,
      emit: (event) => this.link.emit(event),
      refresh: (record) => this.refresh(record),
      maxClosed: MAX_CLOSED_STREAMS,
      retentionMs: options.closedStreamRetentionMs,
    });
    this.registry = new RegistryClient({
      registryUrl: options.registryUrl,
      environmentId: options.environmentId,
      auth: options.auth,
      log: this.log,
      env: options.env,
      timeoutMs: options.registryTimeoutMs,
      random: this.random,
      sleep: (ms, signal) => this.link.sleep(ms, signal),
    });
    options.auth.ended?.then(({ code, message }) => {
      this.link.finish(code, message ? `Error: ${message}` : '');
      void this.stop();
    });
  }

  get fatal(): Promise<Fatal> {
    return this.link.fatal;
  }

  get state(): RegistrationState {
    return this.link.current;
  }

  streams(): StreamView[] {
    return this.views.list();
  }

  subscribe(listener: (event: RemoteLinkEvent) => void): () => void {
    return this.link.subscribe(listener);
  }

  start(): void {
    this.link.start((signal) => this.loop(signal));
  }

  stop(): Promise<void> {
    return this.link.stop(() => this.socket?.drop('local_shutdown'));
  }

  reconnectNow(): void {
    this.link.wake();
  }

  resetStream(streamId: string): boolean {
    return this.host?.resetStream(streamId) ?? false;
  }

  // ---------------------------------------------------------------------------------------------
  // The connection loop

  private async loop(signal: AbortSignal): Promise<void> {
    // A new start is a new executor process as far as the backoff is concerned.
    this.backoffMs = this.options.backoff?.initialMs ?? BACKOFF_INITIAL_MS;
    try {
      this.options.auth.checkRegistryUrl(parseRegistryUrl(this.options.registryUrl));
      let registration = await this.register(signal);
      for (;;) {
        this.link.set({ status: 'connecting', attempts: this.link.current.attempts + 1, nextAttemptAtMs: null });
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
          this.link.noteError(`rendezvous connection ended (${reason})`);
        } else if (result.rejected) {
          // The rendezvous no longer knows this registration: register again (same key) at once.
          this.link.noteError(result.error);
          this.log.warn('rendezvous refused the executor; registering again', { status: result.status });
          this.link.set({ status: 'registering' });
          registration = await this.register(signal);
        } else {
          this.link.noteError(result.error);
          this.log.warn('rendezvous connection failed', { error: result.error });
        }
        const delay = Math.round(this.backoffMs / 2 + this.random() * (this.backoffMs / 2));
        this.backoffMs = Math.min(this.backoffMs * 2, this.options.backoff?.maxMs ?? BACKOFF_MAX_MS);
        this.link.set({ status: 'reconnecting', nextAttemptAtMs: this.clock.now() + delay, onlineSinceMs: null });
        await this.link.sleep(delay, signal);
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
            this.link.noteError(error.message);
            this.link.set({ status: 'registering', nextAttemptAtMs: this.clock.now() + delayMs });
          },
        });
        this.log.info('registered with the environment registry', { environmentId: registration.environmentId });
        this.link.set({ registrationId: registration.registrationId, nextAttemptAtMs: null });
        return registration;
      } catch (error) {
        if (!(error instanceof AuthError) || error.kind !== 'unavailable' || signal.aborted) throw error;
        const delay = registrationRetryDelayMs(attempt, this.random);
        this.link.noteError(error.message);
        this.link.set({ status: 'registering', nextAttemptAtMs: this.clock.now() + delay });
        await this.link.sleep(delay, signal);
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
    this.link.set({ status: 'online', onlineSinceMs: this.clock.now(), nextAttemptAtMs: null });
    return new Promise((resolve) =>
      socket.onClose((reason) => {
        host.close();
        if (this.socket === socket) this.socket = null;
        if (this.host === host) this.host = null;
        resolve(reason);
      }),
    );
  }

  private failFatally(error: unknown): void {
    const authNeeded = (error instanceof RegistryError && error.kind === 'auth') || (error instanceof AuthError && error.kind === 'auth_needed');
    this.link.fail(error, { authNeeded, causes: error instanceof RegistryError ? error.causes : [] });
  }

  // ---------------------------------------------------------------------------------------------
  // Streams

  private newRecord(streamId: string): StreamRecord {
    return this.views.add({
      view: { streamId, state: 'handshaking', bytesIn: 0, bytesOut: 0, openedAtMs: this.clock.now(), closedAtMs: null, endReason: null, sessionId: null },
      pipe: null,
      processor: null,
      updateTimer: null,
      removeTimer: null,
    });
  }

  private onStreamEvent(event: RelayStreamEvent): void {
    const existing = this.views.get(event.streamId);
    const live = existing && existing.view.state !== 'closed' ? existing : undefined;
    switch (event.type) {
      case 'handshaking':
        return this.views.publish(this.newRecord(event.streamId));
      case 'validating':
        if (!live) return;
        live.view.state = 'validating';
        return this.views.publish(live);
      case 'open': {
        const record = live ?? this.newRecord(event.streamId);
        record.view.state = 'open';
        record.pipe = event.pipe;
        event.pipe.onTraffic = () => this.views.scheduleUpdate(record);
        return this.views.publish(record);
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
    const record = this.views.get(pipe.streamId);
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

  private close(record: StreamRecord, reason: string): void {
    this.views.close(record, reason);
    record.pipe = null;
    record.processor = null;
  }
}
