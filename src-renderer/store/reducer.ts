/**
 * Applies one RuntimeEvent to a snapshot. Pure: returns a new snapshot and never mutates the
 * old one, so zustand subscribers see a change by identity. Events are whole-entity upserts
 * (contract.ts), so applying one only replaces or removes.
 */
import type { LogEntry, ProcessView, RuntimeEvent, RuntimeSnapshot, SessionView, StreamView } from '../../src-main/control/contract.ts';

/** The renderer keeps at most this many log entries (the runtime's own buffer is bounded too). */
export const MAX_LOG_ENTRIES = 1000;

function upsert<T>(list: T[], item: T, same: (a: T, b: T) => boolean): T[] {
  const index = list.findIndex((x) => same(x, item));
  if (index === -1) return [...list, item];
  const next = list.slice();
  next[index] = item;
  return next;
}

const sameSession = (a: SessionView, b: SessionView) => a.sessionId === b.sessionId;
const sameStream = (a: StreamView, b: StreamView) => a.streamId === b.streamId;
const sameProcess = (a: ProcessView, b: ProcessView) => a.sessionId === b.sessionId && a.processId === b.processId;

export function appendLog(logs: LogEntry[], entry: LogEntry, max = MAX_LOG_ENTRIES): LogEntry[] {
  // A log entry already in the snapshot may also arrive as an event: seq is monotonic, so skip it.
  const last = logs[logs.length - 1];
  if (last !== undefined && entry.seq <= last.seq) return logs;
  const next = logs.length >= max ? logs.slice(logs.length - max + 1) : logs.slice();
  next.push(entry);
  return next;
}

export function applyEvent(snapshot: RuntimeSnapshot, event: RuntimeEvent): RuntimeSnapshot {
  switch (event.type) {
    case 'listener':
      return { ...snapshot, listener: event.listener };
    case 'registration':
      return { ...snapshot, registration: event.registration };
    case 'settings':
      return { ...snapshot, settings: event.settings };
    case 'session':
      return { ...snapshot, sessions: upsert(snapshot.sessions, event.session, sameSession) };
    case 'sessionRemoved':
      return { ...snapshot, sessions: snapshot.sessions.filter((s) => s.sessionId !== event.sessionId) };
    case 'stream':
      return { ...snapshot, streams: upsert(snapshot.streams, event.stream, sameStream) };
    case 'streamRemoved':
      return { ...snapshot, streams: snapshot.streams.filter((s) => s.streamId !== event.streamId) };
    case 'process':
      return { ...snapshot, processes: upsert(snapshot.processes, event.process, sameProcess) };
    case 'processRemoved':
      return {
        ...snapshot,
        processes: snapshot.processes.filter((p) => !(p.sessionId === event.sessionId && p.processId === event.processId)),
      };
    case 'log': {
      const logs = appendLog(snapshot.logs, event.entry);
      return logs === snapshot.logs ? snapshot : { ...snapshot, logs };
    }
    default: {
      // A newer runtime may send event types this renderer does not know: ignore them.
      return snapshot;
    }
  }
}
