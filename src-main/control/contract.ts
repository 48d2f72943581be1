/**
 * The control contract: everything a person's view of exec-desk (the Electron window, the
 * browser dashboard, `exec-desk status --json`) may read or ask for. Types only, plus the list
 * of command names, with no imports, so main, preload and renderer all compile against this one
 * file. Two carriers implement it: Electron IPC (behind the preload bridge) and the loopback
 * control websocket of headless runs.
 *
 * Rules: snapshots are plain JSON (no Dates, Maps or bigint); times are epoch milliseconds; no
 * secret (API key, token, shared secret) ever appears in a snapshot or event.
 */

/** Bumped when a snapshot field changes meaning or disappears (adding fields does not bump it). */
export type ControlSchemaVersion = 1;

// ---------------------------------------------------------------------------------------------
// State model

export type ListenerStatus = 'stopped' | 'starting' | 'listening' | 'error';

/** How local websocket clients authenticate (`--ws-auth` style modes). */
export type ListenerAuthMode = 'none' | 'capability-token' | 'signed-bearer-token';

export interface ListenerState {
  status: ListenerStatus;
  /** The bound `ws://host:port` once listening, else null. */
  url: string | null;
  authMode: ListenerAuthMode;
  /** Open local websocket connections. */
  connections: number;
  lastError: string | null;
}

export type RegistrationStatus =
  | 'stopped'
  | 'registering'
  | 'connecting'
  | 'online'
  | 'reconnecting'
  | 'auth_needed'
  | 'error';

/** Which credential the executor presents to the registry (remote-protocol.md §3). */
export type RemoteAuthMethod =
  | 'api-key'
  | 'chatgpt'
  | 'chatgpt-token-stdin'
  | 'registration-bearer'
  | 'executor-credential'
  | 'agent-identity'
  | 'aws-sigv4';

export interface RegistrationState {
  status: RegistrationStatus;
  /** False when no registry/environment is configured (the UI then offers setup). */
  configured: boolean;
  registryUrl: string | null;
  environmentId: string | null;
  name: string | null;
  transport: 'noise' | 'direct';
  authMethod: RemoteAuthMethod | null;
  /** The registry's executor_registration_id once registered. */
  registrationId: string | null;
  /** When status is 'reconnecting' (or registering after a retryable error): next attempt, epoch ms. */
  nextAttemptAtMs: number | null;
  /** Connection attempts since the link was started. */
  attempts: number;
  /** When the current rendezvous socket came up (status 'online'), else null. */
  onlineSinceMs: number | null;
  /** The last failure, human readable, never containing a credential. */
  lastError: string | null;
  lastErrorAtMs: number | null;
}

/** The pipe a session's connection arrived on. */
export type SessionCarrier =
  | { kind: 'local'; peer: string }
  | { kind: 'relay'; streamId: string }
  | { kind: 'stdio' };

export interface SessionView {
  sessionId: string;
  clientName: string;
  /** Null while detached. */
  carrier: SessionCarrier | null;
  state: 'attached' | 'detached';
  /** When a detached session will be torn down (epoch ms), else null. */
  expiresAtMs: number | null;
  createdAtMs: number;
  /** Processes of this session the runtime lists (running, or exited and still retained). */
  processCount: number;
}

export type StreamState = 'handshaking' | 'validating' | 'open' | 'closed';

export interface StreamView {
  streamId: string;
  state: StreamState;
  /** Application bytes (decrypted JSON-RPC) received from / sent to the harness. */
  bytesIn: number;
  bytesOut: number;
  openedAtMs: number;
  closedAtMs: number | null;
  /** Why it ended or was refused (e.g. 'peer_reset', 'validation_rejected'), else null. */
  endReason: string | null;
  /** The session served on this stream once initialized. */
  sessionId: string | null;
}

export type ProcessStatus = 'running' | 'exited' | 'closed';

export interface ProcessView {
  sessionId: string;
  processId: string;
  pid: number;
  argv: string[];
  cwd: string;
  tty: boolean;
  state: ProcessStatus;
  exitCode: number | null;
  startedAtMs: number;
  exitedAtMs: number | null;
  /** The last few KiB of combined output, decoded as UTF-8 (lossy), for display only. */
  tail: string;
  /** Total output bytes seen so far. */
  outputBytes: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  seq: number;
  atMs: number;
  level: LogLevel;
  message: string;
  /** Structured context; credentials are redacted before an entry is published. */
  fields?: Record<string, string | number | boolean | null>;
}

/** User settings as the UI sees them: secrets appear only as "is set" flags. */
export interface SettingsView {
  /** `ws://IP:PORT` the local listener binds (port 0 = any free port). */
  listenUrl: string;
  startListenerOnLaunch: boolean;
  remote: {
    registryUrl: string;
    environmentId: string;
    name: string;
    /** 'aws-sigv4' registers over the direct transport (as `--remote-transport direct --aws-sigv4`). */
    authMethod: 'api-key' | 'chatgpt' | 'agent-identity' | 'aws-sigv4';
    /** SigV4 only: profile and region ('' = the AWS chain: environment, then profile files) and service. */
    awsProfile: string;
    awsRegion: string;
    awsService: string;
    connectOnLaunch: boolean;
  };
  /** Desktop only: closing the window keeps exec-desk in the tray. */
  closeToTray: boolean;
  /** Desktop only: launch at login (opt-in). */
  startAtLogin: boolean;
  /** An API key is stored (desktop: with the OS keychain through safeStorage). */
  hasApiKey: boolean;
}

export interface SettingsPatch {
  listenUrl?: string;
  startListenerOnLaunch?: boolean;
  remote?: Partial<SettingsView['remote']>;
  closeToTray?: boolean;
  startAtLogin?: boolean;
  /** Write-only: a new API key, or null to forget the stored one. Never read back. */
  apiKey?: string | null;
}

export interface RuntimeSnapshot {
  schemaVersion: ControlSchemaVersion;
  /** exec-desk's version. */
  version: string;
  /** Where the runtime runs: inside the Electron app or headless (`--no-ui`). */
  host: 'desktop' | 'headless';
  generatedAtMs: number;
  startedAtMs: number;
  listener: ListenerState;
  registration: RegistrationState;
  sessions: SessionView[];
  streams: StreamView[];
  processes: ProcessView[];
  /** The most recent log entries, oldest first (bounded). */
  logs: LogEntry[];
  settings: SettingsView;
}

// ---------------------------------------------------------------------------------------------
// Events: every change after a snapshot, as whole-entity upserts so a client only replaces.

export type RuntimeEvent =
  | { type: 'listener'; listener: ListenerState }
  | { type: 'registration'; registration: RegistrationState }
  | { type: 'session'; session: SessionView }
  | { type: 'sessionRemoved'; sessionId: string }
  | { type: 'stream'; stream: StreamView }
  | { type: 'streamRemoved'; streamId: string }
  | { type: 'process'; process: ProcessView }
  | { type: 'processRemoved'; sessionId: string; processId: string }
  | { type: 'log'; entry: LogEntry }
  | { type: 'settings'; settings: SettingsView };

// ---------------------------------------------------------------------------------------------
// Commands

export interface ProcessRef {
  sessionId: string;
  processId: string;
}

/** Every command: its params and its result. */
export interface ControlCommands {
  getSnapshot: { params: void; result: RuntimeSnapshot };
  startListener: { params: void; result: ListenerState };
  stopListener: { params: void; result: ListenerState };
  connectRemote: { params: void; result: RegistrationState };
  disconnectRemote: { params: void; result: RegistrationState };
  /** Skips the current backoff wait. */
  reconnectRemoteNow: { params: void; result: RegistrationState };
  /**
   * SIGKILLs the process (as process/terminate does); `running` says whether it was still running.
   * A process the runtime does not list is `not_found`.
   */
  terminateProcess: { params: ProcessRef; result: { running: boolean } };
  /** Drops the session's connection (if any) and kills its processes; `closed: false` for an unknown id. */
  closeSession: { params: { sessionId: string }; result: { closed: boolean } };
  /** Ends a relay stream (its session detaches and may be resumed); `reset: false` when unknown or already closed. */
  resetStream: { params: { streamId: string }; result: { reset: boolean } };
  updateSettings: { params: SettingsPatch; result: SettingsView };
}

export type ControlCommandName = keyof ControlCommands;
export type ControlParams<K extends ControlCommandName> = ControlCommands[K]['params'];
export type ControlResult<K extends ControlCommandName> = ControlCommands[K]['result'];

/** The command names, once, for carriers that must refuse anything else. */
export const CONTROL_COMMAND_NAMES = [
  'getSnapshot',
  'startListener',
  'stopListener',
  'connectRemote',
  'disconnectRemote',
  'reconnectRemoteNow',
  'terminateProcess',
  'closeSession',
  'resetStream',
  'updateSettings',
] as const satisfies readonly ControlCommandName[];

/** A refused command: `code` is stable for programs, `message` is for people. */
export interface ControlErrorPayload {
  code: 'unknown_command' | 'invalid_params' | 'not_found' | 'unavailable' | 'failed';
  message: string;
}

/**
 * What a carrier gives the renderer (the preload's `window.execDesk`, or the websocket client):
 * invoke a command, and subscribe to events. Rejections carry a ControlErrorPayload.
 */
export interface ControlApi {
  invoke<K extends ControlCommandName>(command: K, params: ControlParams<K>): Promise<ControlResult<K>>;
  /** Returns an unsubscribe function. Events start after the call; fetch a snapshot to catch up. */
  subscribe(listener: (event: RuntimeEvent) => void): () => void;
}

// ---------------------------------------------------------------------------------------------
// Carriers' wire names

/** Electron IPC channels. */
export const IPC_INVOKE_CHANNEL = 'exec-desk:invoke';
export const IPC_EVENT_CHANNEL = 'exec-desk:event';

/**
 * Control websocket (headless dashboard, `exec-desk status --json`):
 * - HTTP on `http://127.0.0.1:PORT`; `GET /` serves the built renderer. The dashboard URL printed
 *   by the CLI is `http://127.0.0.1:PORT/#token=<token>`: the fragment never reaches the server.
 * - The websocket is `ws://127.0.0.1:PORT/control`. The client offers two subprotocols:
 *   CONTROL_WS_PROTOCOL and `CONTROL_WS_TOKEN_PREFIX + token`; the server selects
 *   CONTROL_WS_PROTOCOL (never echoing the token). Missing/wrong token → HTTP 401, an Origin
 *   other than the server's own `http://127.0.0.1:PORT` → 403, both before the upgrade.
 * - On connect the server sends nothing until asked. Ids are positive integers chosen by the
 *   client; an error reply with id 0 answers a message whose id could not be read.
 */
export const CONTROL_WS_PATH = '/control';
export const CONTROL_WS_PROTOCOL = 'exec-desk.control.v1';
export const CONTROL_WS_TOKEN_PREFIX = 'exec-desk.token.';

/** Control websocket messages (JSON text frames). */
export type ControlClientMessage = ControlCommandMessage | ControlSubscribeMessage;
export type ControlCommandMessage = { id: number; command: ControlCommandName; params?: unknown };
/** Starts (true) or stops (false) the event stream to this socket; answered with `{ subscribed }`. */
export type ControlSubscribeMessage = { id: number; subscribe: boolean };
export type ControlServerMessage =
  | { id: number; result: unknown }
  | { id: number; error: ControlErrorPayload }
  | { event: RuntimeEvent };
