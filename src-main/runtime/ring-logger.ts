/**
 * The runtime's Logger: forwards to a sink (stderr in headless runs) and keeps the last
 * `capacity` entries for the UI. Everything is redacted before it is kept, published or
 * forwarded, so neither the dashboard nor stderr sees a credential.
 */
import type { LogEntry, LogLevel } from '../control/contract.ts';
import type { Logger } from '../core/log.ts';
import { MAX_MESSAGE_CHARS, Redactor, truncate } from './redact.ts';

export const LOG_RING_CAPACITY = 500;

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface RingLoggerOptions {
  capacity?: number;
  /** Where lines also go (already redacted); none = ring only. */
  sink?: Logger;
  /** The most verbose level kept in the ring (default info). */
  level?: LogLevel;
  redactor?: Redactor;
  now?: () => number;
}

export class RingLogger implements Logger {
  readonly redactor: Redactor;
  private readonly capacity: number;
  private readonly threshold: number;
  private readonly ring: LogEntry[] = [];
  private readonly listeners = new Set<(entry: LogEntry) => void>();
  private seq = 0;

  constructor(private readonly options: RingLoggerOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? LOG_RING_CAPACITY);
    this.threshold = ORDER[options.level ?? 'info'];
    this.redactor = options.redactor ?? new Redactor();
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.record('error', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.record('warn', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.record('info', message, fields);
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    this.record('debug', message, fields);
  }

  /**
   * Keeps an entry for the UI without writing it to the sink: for failures the caller reports
   * on stderr itself in the reference's exact words (a bind error).
   */
  keep(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    this.record(level, message, fields, false);
  }

  /** Kept entries, oldest first (copies). */
  entries(): LogEntry[] {
    return this.ring.map((e) => ({ ...e, ...(e.fields ? { fields: { ...e.fields } } : {}) }));
  }

  subscribe(listener: (entry: LogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(level: LogLevel, message: string, fields?: Record<string, unknown>, toSink = true): void {
    const cleanMessage = this.redactor.text(truncate(message, MAX_MESSAGE_CHARS));
    const cleanFields = this.redactor.fields(fields);
    if (toSink) this.options.sink?.[level](cleanMessage, cleanFields);
    if (ORDER[level] > this.threshold) return;
    const entry: LogEntry = { seq: ++this.seq, atMs: (this.options.now ?? Date.now)(), level, message: cleanMessage };
    if (cleanFields) entry.fields = cleanFields;
    this.ring.push(entry);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    for (const listener of [...this.listeners]) {
      try {
        listener(entry);
      } catch {
        // a failing viewer must not break logging
      }
    }
  }
}
