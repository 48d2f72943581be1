/**
 * Sessions outlive their connection (local-protocol.md §4): a dropped connection detaches its
 * session, whose processes keep running and buffering output; a new connection may resume it
 * with `initialize { resumeSessionId }` until the detached-session TTL ends, after which the
 * session's processes are killed and the id is forgotten.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ErrorCode, RpcError } from '../rpc/errors.ts';
import { ProcessTable, type ProcessTableOptions } from '../process/process-table.ts';
import type { PipeCarrier } from '../rpc/message-pipe.ts';

/** What a session needs from the connection it is attached to. */
export interface Attachment {
  /** Delivers a notification of this session to the attached connection. */
  deliver(method: string, params: unknown): void;
  /** A label for logs and the runtime state. */
  readonly peer: string;
  /** Which kind of pipe the connection is (local websocket, relay stream, stdio). */
  readonly carrier?: PipeCarrier;
  /** True while the connection has more unsent data than it should buffer. */
  congested(): boolean;
  readonly clientName: string;
}

/** 0.169.0 killed detached sessions 79.8–80.0 s after the drop (the source says 30 s; the binary wins). */
export const DETACHED_SESSION_TTL_MS = 80_000;

export interface SessionInfo {
  sessionId: string;
  clientName: string;
  peer: string | null;
  /** The attached connection's carrier; null while detached. */
  carrier: PipeCarrier | null;
  state: 'attached' | 'detached';
  /** When a detached session will be torn down (epoch ms), else null. */
  expiresAtMs: number | null;
  createdAtMs: number;
}

export type ProcessTableFactory = (
  notify: ProcessTableOptions['notify'],
  congested: () => boolean,
  sessionId: string,
) => ProcessTable;

export class Session {
  readonly id: string;
  readonly processes: ProcessTable;
  readonly createdAtMs = Date.now();
  private attachment: Attachment | null = null;
  private lastAttachment: Attachment | null = null;
  detachedAtMs: number | null = null;
  expiryTimer: NodeJS.Timeout | null = null;

  constructor(id: string, makeTable: ProcessTableFactory) {
    this.id = id;
    this.processes = makeTable(
      (method, params) => this.attachment?.deliver(method, params),
      () => this.attachment?.congested() ?? false,
      id,
    );
  }

  get attachedTo(): Attachment | null {
    return this.attachment;
  }

  /** Internal to the registry. */
  setAttachment(attachment: Attachment | null): void {
    this.attachment = attachment;
    if (attachment) this.lastAttachment = attachment;
  }

  info(ttlMs: number): SessionInfo {
    return {
      sessionId: this.id,
      clientName: this.lastAttachment?.clientName ?? '',
      peer: this.attachment?.peer ?? null,
      carrier: this.attachment ? (this.attachment.carrier ?? { kind: 'local', peer: this.attachment.peer }) : null,
      state: this.attachment ? 'attached' : 'detached',
      expiresAtMs: this.detachedAtMs === null ? null : this.detachedAtMs + ttlMs,
      createdAtMs: this.createdAtMs,
    };
  }
}

export interface SessionRegistryOptions {
  detachedTtlMs?: number;
  makeProcessTable?: ProcessTableFactory;
}

export class SessionRegistry extends EventEmitter<{ changed: [SessionInfo | { sessionId: string; removed: true }] }> {
  private readonly sessions = new Map<string, Session>();
  readonly detachedTtlMs: number;
  private readonly makeTable: ProcessTableFactory;

  constructor(options: SessionRegistryOptions = {}) {
    super();
    this.detachedTtlMs = options.detachedTtlMs ?? DETACHED_SESSION_TTL_MS;
    this.makeTable = options.makeProcessTable ?? ((notify, congested) => new ProcessTable({ notify, congested }));
  }

  /** Creates a fresh session attached to `attachment`. */
  create(attachment: Attachment): Session {
    const session = new Session(randomUUID(), this.makeTable);
    session.setAttachment(attachment);
    this.sessions.set(session.id, session);
    this.emit('changed', session.info(this.detachedTtlMs));
    return session;
  }

  /** Attaches `attachment` to a detached session, or throws the reference's errors. */
  resume(sessionId: string, attachment: Attachment): Session {
    const session = this.sessions.get(sessionId);
    if (!session) throw RpcError.invalidRequest(`unknown session id ${sessionId}`);
    if (session.attachedTo) {
      throw new RpcError(ErrorCode.SessionAttached, `session ${sessionId} is already attached to another connection`);
    }
    // Expiry is authoritative at the TTL boundary even if its timer has not fired yet.
    if (session.detachedAtMs !== null && Date.now() >= session.detachedAtMs + this.detachedTtlMs) {
      this.expire(session);
      throw RpcError.invalidRequest(`unknown session id ${sessionId}`);
    }
    if (session.expiryTimer) clearTimeout(session.expiryTimer);
    session.expiryTimer = null;
    session.detachedAtMs = null;
    session.setAttachment(attachment);
    this.emit('changed', session.info(this.detachedTtlMs));
    return session;
  }

  /** Detaches `attachment` from its session (if still attached) and starts the TTL. */
  detach(session: Session, attachment: Attachment): void {
    if (session.attachedTo !== attachment) return;
    session.setAttachment(null);
    session.detachedAtMs = Date.now();
    session.expiryTimer = setTimeout(() => this.expire(session), this.detachedTtlMs);
    session.expiryTimer.unref();
    this.emit('changed', session.info(this.detachedTtlMs));
  }

  /** Ends a session now: kills its processes and forgets it (TTL expiry, or a user's command). */
  close(sessionId: string): boolean {
    const session = this.sessions.get(sessionId);
    if (!session) return false;
    this.expire(session);
    return true;
  }

  get(sessionId: string): Session | undefined {
    return this.sessions.get(sessionId);
  }

  list(): SessionInfo[] {
    return [...this.sessions.values()].map((s) => s.info(this.detachedTtlMs));
  }

  all(): Session[] {
    return [...this.sessions.values()];
  }

  /** Server shutdown: kills every session's processes and waits until they are gone. */
  async shutdown(): Promise<void> {
    const sessions = [...this.sessions.values()];
    for (const s of sessions) {
      if (s.expiryTimer) clearTimeout(s.expiryTimer);
      this.sessions.delete(s.id);
    }
    await Promise.all(sessions.map((s) => s.processes.terminateAll()));
  }

  private expire(session: Session): void {
    if (this.sessions.get(session.id) !== session) return;
    if (session.expiryTimer) clearTimeout(session.expiryTimer);
    session.expiryTimer = null;
    this.sessions.delete(session.id);
    session.setAttachment(null);
    void session.processes.terminateAll();
    this.emit('changed', { sessionId: session.id, removed: true });
  }
}
