/**
 * The product's remote link in direct mode (`--remote-transport direct --aws-sigv4`,
 * remote-protocol.md §13): registers with `POST …/direct/register` (SigV4-signed), dials the
 * returned WebSocket with a signed upgrade and serves it as ONE plain JSON-RPC connection (one
 * JSON object per message, no relay frames, no Noise) through `server.serve(pipe)` — the same
 * WebSocketPipe a local connection uses, so sessions detach when the socket goes and a client
 * resumes them with `resumeSessionId` after a reconnect.
 *
 * Behaviour of codex-cli 0.169.0 (probed):
 *   - registration is tried once: any non-2xx, a malformed answer or a bad url is fatal (exit 1);
 *   - a dropped socket, a refused TCP connection, 3xx/5xx/408/429 on the upgrade → dial the same
 *     url again after the §2.3 registration retry delay (attempt 0, 1, … reset by every
 *     successful connection: 0.5–0.75 s, 1–1.5 s, 2–3 s, 4–6 s, then 5–7.5 s);
 *   - 409 on the upgrade → register again at once (a failure is fatal), then the delay;
 *   - any other 4xx on the upgrade → fatal: `failed to connect to exec-server websocket `<url
 *     without query>`: HTTP error: 403 Forbidden` (plus the cause line);
 *   - no keepalive pings from the executor (none in 75 s), pings answered; messages up to 16 MiB.
 *
 * Published like NoiseRemoteLink: RegistrationState (registering → connecting → online →
 * reconnecting with nextAttemptAtMs → …; 'error' / 'auth_needed' when fatal) and one StreamView
 * per connection (`direct-<n>`, 'open' then 'closed' with the reason), which is also the
 * sessions' carrier.
 */
import type { RegistrationState, StreamView } from '../control/contract.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import type { MessagePipe } from '../core/rpc/message-pipe.ts';
import { WebSocketPipe } from '../transport/local/websocket-pipe.ts';
import type WebSocket from 'ws';
import { AuthError, type AuthProvider } from './auth/auth-provider.ts';
import { parseRegistryUrl } from './auth/registry-url.ts';
import { registerDirect, type DirectRegistration } from './direct-registration.ts';
import { dialDirect, displayUrl } from './direct-socket.ts';
import { systemClock, type LinkClock } from './link-clock.ts';
import { initialRegistration, LinkState, type Fatal } from './link-state.ts';
import { registrationRetryDelayMs, RegistryClient, RegistryError } from './registry-client.ts';
import type { RemoteLink, RemoteLinkEvent, StreamServer } from './remote-link-types.ts';
import { StreamViews, type ViewEntry } from './stream-views.ts';

/** Closed connections kept in the view (each reconnect adds one). */
export const MAX_CLOSED_CONNECTIONS = 20;

/** A provider that can also sign the direct WebSocket upgrade (SigV4Provider). */
export interface DirectAuthProvider extends AuthProvider {
  upgradeHeaders(url: URL): Array<[string, string]>;
}

export function isDirectAuthProvider(auth: AuthProvider): auth is DirectAuthProvider {
  return typeof (auth as Partial<DirectAuthProvider>).upgradeHeaders === 'function';
}

export interface DirectRemoteLinkOptions {
  registryUrl: string;
  environmentId: string;
  name?: string | null;
  auth: DirectAuthProvider;
  server: StreamServer;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
  clock?: LinkClock;
  /** [0, 1): the retry jitter. */
  random?: () => number;
  registryTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  maxMessageBytes?: number;
  closedStreamRetentionMs?: number;
}

/** What remote-mode hands to any link factory. */
export interface LinkInput {
  registryUrl: string;
  environmentId: string;
  name?: string | null;
  auth: AuthProvider;
  server: StreamServer;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
}

/** The direct link for `--remote-transport direct` (the CLI guarantees `--aws-sigv4`). */
export function createDirectLink(input: LinkInput): DirectRemoteLink {
  const auth = input.auth;
  if (!isDirectAuthProvider(auth)) throw new Error(`the direct transport needs --aws-sigv4 (got ${auth.method})`);
  return new DirectRemoteLink({ ...input, auth });
}

type EndReason = 'peer_close' | 'read_error' | 'local_shutdown' | 'local_reset';

interface Connection extends ViewEntry {
  socket: WebSocket;
  processor: ReturnType<StreamServer['serve']>;
  endReason: EndReason | null;
}

/** A fatal answer to the upgrade (4xx other than 408/409/429). */
class UpgradeRefused extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly causes: readonly string[],
  ) {
    super(message);
  }
}

export class DirectRemoteLink implements RemoteLink {
  private readonly link: LinkState;
  private readonly views: StreamViews<Connection>;
  private live: Connection | null = null;
  private connectionCount = 0;
  private readonly log: Logger;
  private readonly clock: LinkClock;
  private readonly random: () => number;
  private readonly registry: RegistryClient;

  constructor(private readonly options: DirectRemoteLinkOptions) {
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.link = new LinkState(initialRegistration({ ...options, transport: 'direct', authMethod: options.auth.method }), this.clock, this.log);
    this.views = new StreamViews<Connection>({
      clock: this.clock,
      emit: (event) => this.link.emit(event),
      // Bytes are counted straight into the view; only the session is read from the processor.
      refresh: (connection) => {
        connection.view.sessionId = connection.processor?.attachedSession?.id ?? connection.view.sessionId;
        return true;
      },
      maxClosed: MAX_CLOSED_CONNECTIONS,
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
    return this.link.stop(() => this.drop('local_shutdown'));
  }

  reconnectNow(): void {
    this.link.wake();
  }

  /** Drops the connection if it is the live one (the link then reconnects and the client resumes). */
  resetStream(streamId: string): boolean {
    if (this.live?.view.streamId !== streamId) return false;
    this.drop('local_reset');
    return true;
  }

  // ---------------------------------------------------------------------------------------------

  private async loop(signal: AbortSignal): Promise<void> {
    try {
      this.options.auth.checkRegistryUrl(parseRegistryUrl(this.options.registryUrl));
      let registration = await this.register(signal);
      let attempt = 0;
      for (;;) {
        this.link.set({ status: 'connecting', attempts: this.link.current.attempts + 1, nextAttemptAtMs: null });
        const url = new URL(registration.url);
        const result = await dialDirect({
          url,
          authHeaders: this.options.auth.upgradeHeaders(url),
          env: this.options.env,
          handshakeTimeoutMs: this.options.handshakeTimeoutMs,
          maxPayload: this.options.maxMessageBytes,
          signal,
        });
        if (signal.aborted) {
          if (result.ok) result.socket.terminate();
          return;
        }
        if (result.ok) {
          attempt = 0; // 0.169.0 starts the delay over after every successful connection
          const reason = await this.serve(result.socket, url, registration);
          if (signal.aborted) return;
          this.link.noteError(`direct connection ended (${reason})`);
        } else if (result.outcome === 'fatal') {
          throw new UpgradeRefused(result.error, result.status, result.causes ?? []);
        } else if (result.outcome === 'reregister') {
          this.link.noteError(result.error);
          this.log.warn('direct websocket refused the executor; registering again', { status: result.status });
          this.link.set({ status: 'registering' });
          registration = await this.register(signal);
        } else {
          this.link.noteError(result.error);
          this.log.warn('direct exec-server connection failed; retrying', { error: result.error });
        }
        const delay = registrationRetryDelayMs(attempt++, this.random);
        this.link.set({ status: 'reconnecting', nextAttemptAtMs: this.clock.now() + delay, onlineSinceMs: null });
        await this.link.sleep(delay, signal);
      }
    } catch (error) {
      if (signal.aborted) return;
      this.failFatally(error);
    }
  }

  private async register(signal: AbortSignal): Promise<DirectRegistration> {
    const registration = await registerDirect(this.registry, this.options, signal);
    this.log.info('registered with the environment registry (direct)', { environmentId: registration.environmentId });
    this.link.set({ registrationId: registration.registrationId, nextAttemptAtMs: null });
    return registration;
  }

  /** Serves one connected socket as one JSON-RPC connection; resolves with why it ended. */
  private serve(socket: WebSocket, url: URL, registration: DirectRegistration): Promise<EndReason> {
    const streamId = `direct-${++this.connectionCount}`;
    const shown = displayUrl(url);
    const pipe = new WebSocketPipe(socket, shown, 0, {
      parseErrorLabel: `websocket JSON-RPC message from direct exec-server websocket ${shown}`,
      carrier: { kind: 'relay', streamId },
    });
    const connection: Connection = {
      view: { streamId, state: 'open', bytesIn: 0, bytesOut: 0, openedAtMs: this.clock.now(), closedAtMs: null, endReason: null, sessionId: null },
      socket,
      processor: null,
      endReason: null,
      updateTimer: null,
      removeTimer: null,
    };
    this.views.add(connection);
    this.live = connection;
    const ended = new Promise<EndReason>((resolve) => {
      socket.on('error', () => (connection.endReason ??= 'read_error'));
      socket.on('close', () => {
        const reason = (connection.endReason ??= 'peer_close');
        if (this.live === connection) this.live = null;
        this.closeView(connection, reason);
        resolve(reason);
      });
    });
    this.log.info('direct exec-server connected', { environmentId: registration.environmentId, registrationId: registration.registrationId });
    this.link.set({ status: 'online', onlineSinceMs: this.clock.now(), nextAttemptAtMs: null });
    this.views.publish(connection);
    connection.processor = this.options.server.serve(counted(pipe, connection.view, () => this.views.scheduleUpdate(connection)));
    socket.resume();
    return ended;
  }

  private drop(reason: EndReason): void {
    const connection = this.live;
    if (!connection) return;
    connection.endReason ??= reason;
    connection.socket.terminate();
  }

  private failFatally(error: unknown): void {
    const authNeeded =
      (error instanceof RegistryError && error.kind === 'auth') ||
      (error instanceof AuthError && error.kind === 'auth_needed') ||
      (error instanceof UpgradeRefused && (error.status === 401 || error.status === 403));
    this.link.fail(error, { authNeeded, causes: error instanceof RegistryError || error instanceof UpgradeRefused ? error.causes : [] });
  }

  private closeView(connection: Connection, reason: EndReason): void {
    this.views.close(connection, reason);
    connection.processor = null;
  }
}

/** The pipe with its traffic counted into `view` (application bytes, as for relay streams). */
function counted(pipe: MessagePipe, view: StreamView, onTraffic: () => void): MessagePipe {
  return {
    parseErrorLabel: pipe.parseErrorLabel,
    peer: pipe.peer,
    carrier: pipe.carrier,
    send(message) {
      view.bytesOut += Buffer.byteLength(message);
      onTraffic();
      pipe.send(message);
    },
    onMessage(handler) {
      pipe.onMessage((data) => {
        view.bytesIn += Buffer.byteLength(data);
        onTraffic();
        handler(data);
      });
    },
    onClose: (handler) => pipe.onClose(handler),
    close: () => pipe.close(),
    bufferedAmount: () => pipe.bufferedAmount(),
  };
}
