/**
 * ExecutorRuntime: the single source of truth for everything a person might look at. It owns
 * the ExecServer, the local listener and (optionally) the remote link, and publishes one state
 * model exactly as control/contract.ts describes: `snapshot()` plus fine-grained upsert events
 * through `subscribe`. Every command goes through `dispatch`, which validates its params and
 * returns a result or throws a ControlError. Carriers (Electron IPC, the control websocket,
 * in-process callers) only ever talk to this class.
 */
import type {
  ControlApi,
  ControlCommandName,
  ControlParams,
  ControlResult,
  ListenerAuthMode,
  ListenerState,
  LogLevel,
  RegistrationState,
  RuntimeEvent,
  RuntimeSnapshot,
  SessionView,
  SettingsView,
  StreamView,
} from '../control/contract.ts';
import { CONTROL_COMMAND_NAMES } from '../control/contract.ts';
import { ControlError } from '../control/control-error.ts';
import { ExecServer } from '../core/exec-server.ts';
import type { Logger } from '../core/log.ts';
import type { MessagePipe } from '../core/rpc/message-pipe.ts';
import type { SessionInfo } from '../core/session/session-registry.ts';
import { parseListenUrl } from '../cli/options.ts';
import { LocalListener } from '../transport/local/http-listener.ts';
import type { WsAuthConfig } from '../transport/local/ws-auth.ts';
import { AWS_CREDENTIAL_ENV, EXECUTOR_CREDENTIAL_ENV, withoutVariables } from '../remote/auth/credential-env.ts';
import type { RemoteLink, RemoteLinkEvent } from '../remote/remote-link-types.ts';
import { noParams, processRef, sessionRef, streamRef } from './command-params.ts';
import { ProcessSampler } from './process-sampler.ts';
import { RingLogger } from './ring-logger.ts';
import type { SettingsStore } from './settings-store.ts';

/** What a remote link factory gets: how to serve a stream, where to log, and the settings. */
export interface RemoteLinkContext {
  /**
   * Serves one authenticated relay stream with the runtime's ExecServer; the processor it returns
   * tells the link the stream's session and inbound backlog.
   */
  serve(pipe: MessagePipe): ReturnType<ExecServer['serve']>;
  log: Logger;
  /** Non-secret settings at the time of connecting. */
  settings: SettingsView;
  /** The stored API key (desktop), read when needed; null when none. */
  apiKey(): string | null;
}

export type RemoteLinkFactory = (context: RemoteLinkContext) => RemoteLink;

/** Where and how the local listener binds when not taken from the settings. */
export interface ListenConfig {
  host: string;
  port: number;
  auth: WsAuthConfig;
}

export interface ExecutorRuntimeOptions {
  host: 'desktop' | 'headless';
  /** exec-desk's version for the snapshot. */
  version: string;
  settings: SettingsStore;
  /**
   * The listener's address and auth (the CLI's `--listen`/`--ws-*`); absent: the settings'
   * `listenUrl` without auth, read at every start.
   */
  listen?: ListenConfig;
  /** `--concurrent-requests` (default 1). */
  concurrency?: number;
  /** Creates the remote link on `connectRemote`; absent: remote commands answer `unavailable`. */
  createRemoteLink?: RemoteLinkFactory;
  /** Told when a remote link gives up for good (headless exits with `code`). */
  onRemoteFatal?: (fatal: { code: number; message: string }) => void;
  /** Where log lines also go (stderr in headless runs); they are redacted first. */
  logSink?: Logger;
  /** Most verbose level kept for the UI (default info). */
  logLevel?: LogLevel;
  logCapacity?: number;
  /** Output tail per process and the per-process sampling interval for the UI. */
  tailBytes?: number;
  sampleIntervalMs?: number;
  /** Test overrides of the reference's 80 s timers. */
  detachedTtlMs?: number;
  processRetentionMs?: number;
  pingIntervalMs?: number;
}

/** Stream → session pairs remembered for streams the link still lists. */
const MAX_REMEMBERED_STREAMS = 1024;

export class ExecutorRuntime implements ControlApi {
  readonly log: RingLogger;
  readonly server: ExecServer;
  private readonly options: ExecutorRuntimeOptions;
  private readonly startedAtMs = Date.now();
  private readonly listeners = new Set<(event: RuntimeEvent) => void>();
  private readonly processes: ProcessSampler;

  private listener: LocalListener | null = null;
  private listenerState: ListenerState;
  private listenerOp: Promise<unknown> = Promise.resolve();
  private connections = 0;

  private link: RemoteLink | null = null;
  private linkUnsubscribe: (() => void) | null = null;
  /** What the last (now dropped) link learned: attempts, last error. */
  private lastLinkState: RegistrationState | null = null;
  /** The last link failure logged (lastErrorAtMs|lastError), so a repeated state is not logged twice. */
  private loggedLinkFailure: string | null = null;
  private readonly streams = new Map<string, StreamView>();
  private readonly streamSessions = new Map<string, string>();
  /** Process counts last published per session (a session event goes out when one changes). */
  private readonly sessionProcessCounts = new Map<string, number>();

  private shutdownPromise: Promise<void> | null = null;

  constructor(options: ExecutorRuntimeOptions) {
    this.options = options;
    this.log = new RingLogger({ sink: options.logSink, level: options.logLevel, capacity: options.logCapacity });
    this.log.redactor.addSecret(options.settings.apiKey());
    this.log.subscribe((entry) => this.publish({ type: 'log', entry }));
    this.processes = new ProcessSampler({
      tailBytes: options.tailBytes,
      intervalMs: options.sampleIntervalMs,
      publish: (event) => this.onProcessEvent(event),
      clean: (text) => this.log.redactor.knownOnly(text),
    });
    this.server = new ExecServer({
      concurrency: options.concurrency,
      log: this.log,
      detachedTtlMs: options.detachedTtlMs,
      processRetentionMs: options.processRetentionMs,
      onProcessChange: (change) => this.processes.change(change),
      inheritedEnv: () => withoutVariables(process.env, this.withheldEnv()),
    });
    this.server.sessions.on('changed', (info) => {
      if ('removed' in info) return this.publish({ type: 'sessionRemoved', sessionId: info.sessionId });
      this.publish({ type: 'session', session: this.sessionView(info) });
      if (info.carrier?.kind === 'relay') this.noteStreamSession(info.carrier.streamId, info.sessionId);
    });
    for (const warning of options.settings.loadWarnings) this.log.warn('settings', { problem: warning });
    this.listenerState = {
      status: 'stopped',
      url: null,
      authMode: this.authMode(),
      connections: 0,
      lastError: null,
    };
  }

  // -------------------------------------------------------------------------------------------
  // State

  snapshot(): RuntimeSnapshot {
    const counts = this.processes.countsBySession();
    return {
      schemaVersion: 1,
      version: this.options.version,
      host: this.options.host,
      generatedAtMs: Date.now(),
      startedAtMs: this.startedAtMs,
      listener: { ...this.listenerState },
      registration: this.registrationState(),
      sessions: this.server.sessions.list().map((info) => this.sessionView(info, counts)),
      streams: [...this.streams.values()].map((s) => ({ ...s })),
      processes: this.processes.list(),
      logs: this.log.entries(),
      settings: this.options.settings.view(),
    };
  }

  subscribe(listener: (event: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** ControlApi for in-process carriers (Electron IPC). */
  invoke<K extends ControlCommandName>(command: K, params: ControlParams<K>): Promise<ControlResult<K>> {
    return this.dispatch(command, params) as Promise<ControlResult<K>>;
  }

  /** Runs one command from any carrier. Rejects with a ControlError. */
  async dispatch(command: string, params: unknown): Promise<unknown> {
    if (!(CONTROL_COMMAND_NAMES as readonly string[]).includes(command)) {
      throw new ControlError('unknown_command', `unknown command ${JSON.stringify(String(command).slice(0, 64))}`);
    }
    const name = command as ControlCommandName;
    switch (name) {
      case 'getSnapshot':
        noParams(name, params);
        return this.snapshot();
      case 'startListener':
        noParams(name, params);
        return this.startListener();
      case 'stopListener':
        noParams(name, params);
        return this.stopListener();
      case 'connectRemote':
        noParams(name, params);
        return this.connectRemote();
      case 'disconnectRemote':
        noParams(name, params);
        return this.disconnectRemote();
      case 'reconnectRemoteNow':
        noParams(name, params);
        if (!this.link) throw new ControlError('unavailable', 'the remote link is not connected');
        this.link.reconnectNow();
        return this.link.state;
      case 'terminateProcess': {
        const ref = processRef(name, params);
        const found = this.processes.find(ref.sessionId, ref.processId);
        if (!found) throw new ControlError('not_found', `no process ${ref.processId} in session ${ref.sessionId}`);
        const result = found.table.terminate(ref.processId);
        this.log.info('process terminated from the control API', { sessionId: ref.sessionId, processId: ref.processId, running: result.running });
        return result;
      }
      case 'closeSession': {
        const { sessionId } = sessionRef(name, params);
        const closed = this.server.closeSession(sessionId);
        if (closed) this.log.info('session closed from the control API', { sessionId });
        return { closed };
      }
      case 'resetStream': {
        const { streamId } = streamRef(name, params);
        const reset = this.link?.resetStream(streamId) ?? false;
        if (reset) this.log.info('relay stream reset from the control API', { streamId });
        return { reset };
      }
      case 'updateSettings':
        return this.updateSettings(params);
    }
  }

  /**
   * What the desktop app does at start: the listener if `startListenerOnLaunch`, the remote link
   * if `remote.connectOnLaunch` and configured. Failures end up in the state (and the log), not
   * in a rejection, so the window can show them.
   */
  async launch(): Promise<void> {
    const settings = this.options.settings.view();
    if (settings.startListenerOnLaunch || this.options.listen) {
      await this.startListener().catch(() => undefined);
    }
    const remote = settings.remote;
    if (remote.connectOnLaunch && remote.registryUrl !== '' && remote.environmentId !== '' && this.options.createRemoteLink) {
      try {
        this.connectRemote();
      } catch (err) {
        this.log.error('remote link did not start', { error: errorText(err) });
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Listener

  /** Binds the local listener (no-op while listening). Rejects with ControlError('failed', …, { cause }). */
  startListener(): Promise<ListenerState> {
    return this.serialize(async () => {
      if (this.shutdownPromise) throw new ControlError('unavailable', 'the runtime is shutting down');
      if (this.listener) return { ...this.listenerState };
      let config: ListenConfig;
      try {
        config = this.listenConfig();
      } catch (err) {
        throw new ControlError('invalid_params', (err as Error).message);
      }
      this.setListener({ status: 'starting', url: null, authMode: config.auth.mode, connections: 0, lastError: null });
      const listener = new LocalListener({
        host: config.host,
        port: config.port,
        auth: config.auth,
        log: this.log,
        pingIntervalMs: this.options.pingIntervalMs,
        onConnection: (pipe) => this.acceptLocal(listener, pipe),
      });
      try {
        const url = await listener.listen();
        this.listener = listener;
        this.connections = 0;
        this.setListener({ status: 'listening', url, authMode: config.auth.mode, connections: 0, lastError: null });
        this.log.info('listening', { url, auth: config.auth.mode });
      } catch (err) {
        const message = errorText(err);
        this.setListener({ status: 'error', url: null, authMode: config.auth.mode, connections: 0, lastError: message });
        // Kept for the UI only: the CLI prints the bind error in the reference's words.
        this.log.keep('error', 'listener failed to start', { error: message });
        const failure = new ControlError('failed', `cannot listen: ${message}`);
        (failure as Error & { cause?: unknown }).cause = err;
        throw failure;
      }
      return { ...this.listenerState };
    });
  }

  /** Closes the listener and drops its connections (their sessions detach). */
  stopListener(): Promise<ListenerState> {
    return this.serialize(async () => {
      const listener = this.listener;
      if (!listener) {
        if (this.listenerState.status !== 'stopped') this.setListener({ ...this.listenerState, status: 'stopped', url: null, connections: 0 });
        return { ...this.listenerState };
      }
      this.listener = null;
      await listener.close();
      this.connections = 0;
      this.setListener({ status: 'stopped', url: null, authMode: this.listenerState.authMode, connections: 0, lastError: null });
      this.log.info('listener stopped');
      return { ...this.listenerState };
    });
  }

  /** Serves a connection that did not come through the listener (stdio). */
  serve(pipe: MessagePipe): void {
    this.server.serve(pipe);
  }

  private acceptLocal(listener: LocalListener, pipe: MessagePipe): void {
    if (this.listener !== listener) return pipe.close();
    this.connections++;
    this.setListener({ ...this.listenerState, connections: this.connections });
    pipe.onClose(() => {
      if (this.listener !== listener) return;
      this.connections = Math.max(0, this.connections - 1);
      this.setListener({ ...this.listenerState, connections: this.connections });
    });
    this.server.serve(pipe);
  }

  private listenConfig(): ListenConfig {
    if (this.options.listen) return this.options.listen;
    const target = parseListenUrl(this.options.settings.view().listenUrl);
    if (target.kind !== 'ws') throw new Error('the listener needs a ws://IP:PORT address');
    return { host: target.host, port: target.port, auth: { mode: 'none' } };
  }

  private authMode(): ListenerAuthMode {
    return this.options.listen?.auth.mode ?? 'none';
  }

  private setListener(state: ListenerState): void {
    this.listenerState = state;
    this.publish({ type: 'listener', listener: { ...state } });
  }

  /** Listener start/stop run one at a time. */
  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const run = this.listenerOp.then(op, op);
    this.listenerOp = run.catch(() => undefined);
    return run;
  }

  // -------------------------------------------------------------------------------------------
  // Remote link

  connectRemote(): RegistrationState {
    if (this.shutdownPromise) throw new ControlError('unavailable', 'the runtime is shutting down');
    if (!this.options.createRemoteLink) throw new ControlError('unavailable', 'remote mode is not available in this build');
    if (!this.link) {
      for (const streamId of [...this.streams.keys()]) {
        this.streams.delete(streamId);
        this.publish({ type: 'streamRemoved', streamId });
      }
      let link: RemoteLink;
      try {
        link = this.options.createRemoteLink({
          serve: (pipe) => this.server.serve(pipe),
          log: this.log,
          settings: this.options.settings.view(),
          apiKey: () => this.options.settings.apiKey(),
        });
      } catch (err) {
        throw new ControlError('failed', `cannot set up the remote link: ${errorText(err)}`);
      }
      this.adoptLink(link);
    }
    this.link!.start();
    return this.link!.state;
  }

  async disconnectRemote(): Promise<RegistrationState> {
    const link = this.link;
    if (!link) return this.registrationState();
    await link.stop();
    // The link is dropped so the next connect picks up changed settings; its last state stays visible.
    this.linkUnsubscribe?.();
    this.linkUnsubscribe = null;
    this.link = null;
    this.lastLinkState = { ...link.state, status: 'stopped', nextAttemptAtMs: null, onlineSinceMs: null };
    this.publish({ type: 'registration', registration: this.registrationState() });
    return this.registrationState();
  }

  /**
   * What a child never inherits through `envPolicy`: the registry credentials exec-desk may read
   * itself, and the AWS keys while SigV4 is (or is set to be) the registration's signer.
   */
  private withheldEnv(): readonly string[] {
    const sigv4 = this.link?.state.authMethod === 'aws-sigv4' || this.options.settings.view().remote.authMethod === 'aws-sigv4';
    return sigv4 ? [...EXECUTOR_CREDENTIAL_ENV, ...AWS_CREDENTIAL_ENV] : EXECUTOR_CREDENTIAL_ENV;
  }

  private adoptLink(link: RemoteLink): void {
    this.link = link;
    for (const stream of link.streams()) this.upsertStream(stream);
    this.linkUnsubscribe = link.subscribe((event: RemoteLinkEvent) => {
      if (this.link !== link) return;
      if (event.type === 'state') {
        this.logLinkFailure(event.state);
        this.publish({ type: 'registration', registration: { ...event.state } });
      } else if (event.type === 'stream') this.upsertStream(event.stream);
      else if (this.streams.delete(event.streamId)) {
        this.streamSessions.delete(event.streamId);
        this.publish({ type: 'streamRemoved', streamId: event.streamId });
      }
    });
    this.publish({ type: 'registration', registration: { ...link.state } });
    link.fatal.then(
      (fatal) => {
        // Code 0 is a clean end (e.g. a credential pipe closed), not a failure.
        // The failure itself was logged when the link's state became error (logLinkFailure).
        if (fatal.code === 0) this.log.info('remote link ended', { code: 0 });
        else this.log.info('remote link stopped for good', { code: fatal.code });
        this.options.onRemoteFatal?.(fatal);
      },
      () => undefined,
    );
  }

  /**
   * One error line per failure that stops a link (state error or auth_needed), whichever link it
   * is: the links themselves do not log it, and a settings-driven link never settles `fatal`.
   */
  private logLinkFailure(state: RegistrationState): void {
    if ((state.status !== 'error' && state.status !== 'auth_needed') || state.lastError === null) return;
    const key = `${state.lastErrorAtMs}|${state.lastError}`;
    if (key === this.loggedLinkFailure) return;
    this.loggedLinkFailure = key;
    this.log.error('remote link failed', { status: state.status, authMethod: state.authMethod, error: state.lastError });
  }

  private upsertStream(stream: StreamView): void {
    // The link cannot know which session a stream serves; the runtime can (the session's carrier).
    const view = { ...stream, sessionId: stream.sessionId ?? this.streamSessions.get(stream.streamId) ?? null };
    this.streams.set(stream.streamId, view);
    this.publish({ type: 'stream', stream: { ...view } });
  }

  /** Remembers the session a relay stream serves (kept after the session detaches from it). */
  private noteStreamSession(streamId: string, sessionId: string): void {
    if (this.streamSessions.get(streamId) === sessionId) return;
    this.streamSessions.set(streamId, sessionId);
    if (this.streamSessions.size > MAX_REMEMBERED_STREAMS) this.streamSessions.delete(this.streamSessions.keys().next().value!);
    const stream = this.streams.get(streamId);
    if (stream && stream.sessionId !== sessionId) this.upsertStream({ ...stream, sessionId });
  }


  private registrationState(): RegistrationState {
    if (this.link) return { ...this.link.state };
    const remote = this.options.settings.view().remote;
    const configured = remote.registryUrl !== '' && remote.environmentId !== '';
    const base: RegistrationState = {
      status: 'stopped',
      configured,
      registryUrl: remote.registryUrl || null,
      environmentId: remote.environmentId || null,
      name: remote.name || null,
      transport: 'noise',
      authMethod: remote.authMethod,
      registrationId: null,
      nextAttemptAtMs: null,
      attempts: 0,
      onlineSinceMs: null,
      lastError: null,
      lastErrorAtMs: null,
    };
    const last = this.lastLinkState;
    if (!last) return base;
    // Settings-driven (desktop): the current settings plus what the last link learned. Otherwise
    // (a link built from CLI flags) the last link's own view is the only one there is.
    if (!configured) return last;
    return { ...base, attempts: last.attempts, lastError: last.lastError, lastErrorAtMs: last.lastErrorAtMs };
  }

  // -------------------------------------------------------------------------------------------
  // Settings

  private updateSettings(params: unknown): SettingsView {
    const view = this.options.settings.update(params);
    this.log.redactor.addSecret(this.options.settings.apiKey());
    this.publish({ type: 'settings', settings: view });
    if (!this.link) this.publish({ type: 'registration', registration: this.registrationState() });
    this.log.info('settings updated', { fields: Object.keys(params as object).join(',') });
    return view;
  }

  // -------------------------------------------------------------------------------------------
  // Sessions and processes

  private sessionView(info: SessionInfo, counts = this.processes.countsBySession()): SessionView {
    return {
      sessionId: info.sessionId,
      clientName: info.clientName,
      carrier: info.carrier,
      state: info.state,
      expiresAtMs: info.expiresAtMs,
      createdAtMs: info.createdAtMs,
      processCount: counts.get(info.sessionId) ?? 0,
    };
  }

  private onProcessEvent(event: Extract<RuntimeEvent, { type: 'process' | 'processRemoved' }>): void {
    const sessionId = event.type === 'process' ? event.process.sessionId : event.sessionId;
    const before = this.sessionProcessCounts.get(sessionId);
    this.publish(event);
    const counts = this.processes.countsBySession();
    const after = counts.get(sessionId) ?? 0;
    if (before === after) return;
    if (after === 0) this.sessionProcessCounts.delete(sessionId);
    else this.sessionProcessCounts.set(sessionId, after);
    const session = this.server.sessions.get(sessionId);
    if (session) this.publish({ type: 'session', session: this.sessionView(session.info(this.server.sessions.detachedTtlMs), counts) });
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  /** Stops the remote link and the listener, kills every child; resolves when all are gone. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      const link = this.link;
      await Promise.allSettled([link?.stop(), this.stopListenerNow()]);
      await this.server.shutdown();
      this.processes.dispose();
    })();
    return this.shutdownPromise;
  }

  private async stopListenerNow(): Promise<void> {
    const listener = this.listener;
    this.listener = null;
    if (listener) await listener.close();
  }

  private publish(event: RuntimeEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        // A broken viewer must not break the runtime (nor recurse through the log ring).
        process.emitWarning(`runtime event listener failed: ${errorText(err)}`);
      }
    }
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
