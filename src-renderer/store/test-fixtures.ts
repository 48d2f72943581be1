/** Snapshot and entity builders for the renderer's unit tests. */
import type { LogEntry, ProcessView, RuntimeSnapshot, SessionView, StreamView } from '../../src-main/control/contract.ts';

export function snapshotFixture(overrides: Partial<RuntimeSnapshot> = {}): RuntimeSnapshot {
  return {
    schemaVersion: 1,
    version: '0.1.0',
    host: 'headless',
    generatedAtMs: 1_000,
    startedAtMs: 500,
    listener: { status: 'listening', url: 'ws://127.0.0.1:4000', authMode: 'none', connections: 0, lastError: null },
    registration: {
      status: 'stopped',
      configured: false,
      registryUrl: null,
      environmentId: null,
      name: null,
      transport: 'noise',
      authMethod: null,
      registrationId: null,
      nextAttemptAtMs: null,
      attempts: 0,
      onlineSinceMs: null,
      lastError: null,
      lastErrorAtMs: null,
    },
    sessions: [],
    streams: [],
    processes: [],
    logs: [],
    settings: {
      listenUrl: 'ws://127.0.0.1:0',
      startListenerOnLaunch: true,
      remote: { registryUrl: '', environmentId: '', name: '', authMethod: 'api-key', awsProfile: '', awsRegion: '', awsService: 'execute-api', connectOnLaunch: false },
      closeToTray: true,
      startAtLogin: false,
      hasApiKey: false,
    },
    ...overrides,
  };
}

export function sessionFixture(sessionId: string, overrides: Partial<SessionView> = {}): SessionView {
  return {
    sessionId,
    clientName: 'client',
    carrier: { kind: 'local', peer: '127.0.0.1:5555' },
    state: 'attached',
    expiresAtMs: null,
    createdAtMs: 1_000,
    processCount: 0,
    ...overrides,
  };
}

export function streamFixture(streamId: string, overrides: Partial<StreamView> = {}): StreamView {
  return { streamId, state: 'open', bytesIn: 0, bytesOut: 0, openedAtMs: 1_000, closedAtMs: null, endReason: null, sessionId: null, ...overrides };
}

export function processFixture(sessionId: string, processId: string, overrides: Partial<ProcessView> = {}): ProcessView {
  return {
    sessionId,
    processId,
    pid: 4242,
    argv: ['sleep', '10'],
    cwd: '/tmp',
    tty: false,
    state: 'running',
    exitCode: null,
    startedAtMs: 1_000,
    exitedAtMs: null,
    tail: '',
    outputBytes: 0,
    ...overrides,
  };
}

export function logFixture(seq: number, message = `entry ${seq}`): LogEntry {
  return { seq, atMs: 1_000 + seq, level: 'info', message };
}
