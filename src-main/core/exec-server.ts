/**
 * The exec-server without any transport: a session registry, the method table, and one
 * ConnectionProcessor per pipe handed to `serve`. Local websockets, stdio and relay streams
 * all come through `serve`.
 */
import { ConnectionProcessor } from './rpc/connection-processor.ts';
import type { MessagePipe } from './rpc/message-pipe.ts';
import type { MethodTable } from './rpc/method-table.ts';
import { SessionRegistry } from './session/session-registry.ts';
import type { ServerEnv } from './process/env-policy.ts';
import { ProcessTable, type ProcessEvent, type ProcessInfo } from './process/process-table.ts';
import { environmentInfo } from './environment/environment-info.ts';
import { buildMethodTable, decodeInitializeParams } from './handlers/method-table.ts';
import type { Logger } from './log.ts';

export interface ExecServerOptions {
  /** `--concurrent-requests` (default 1: inline). */
  concurrency?: number;
  log: Logger;
  /** Overrides for tests; production uses the reference's 80 s values. */
  detachedTtlMs?: number;
  processRetentionMs?: number;
  /** Told of every process change in every session (the runtime's view; must not throw). */
  onProcessChange?: (change: ProcessChange) => void;
  /** What `envPolicy.inherit` starts from (default process.env); the runtime withholds credentials. */
  inheritedEnv?: () => ServerEnv;
}

export interface ProcessChange {
  sessionId: string;
  /** The session's table (still reachable after the session itself has ended). */
  table: ProcessTable;
  info: ProcessInfo;
  event: ProcessEvent;
}

export class ExecServer {
  readonly sessions: SessionRegistry;
  private readonly methods: MethodTable;
  private readonly connections = new Set<ConnectionProcessor>();
  private stopping = false;

  constructor(private readonly options: ExecServerOptions) {
    const retentionMs = options.processRetentionMs;
    const onProcessChange = options.onProcessChange;
    this.sessions = new SessionRegistry({
      detachedTtlMs: options.detachedTtlMs,
      makeProcessTable: (notify, congested, sessionId) => {
        const table: ProcessTable = new ProcessTable({
          notify,
          congested,
          retentionMs,
          inheritedEnv: options.inheritedEnv,
          onChange: onProcessChange && ((info, event) => onProcessChange({ sessionId, table, info, event })),
        });
        return table;
      },
    });
    this.methods = buildMethodTable();
  }

  /** Serves one connection until its pipe closes; a server that is stopping drops it instead. */
  serve(pipe: MessagePipe): ConnectionProcessor | null {
    if (this.stopping) {
      pipe.close();
      return null;
    }
    const processor = new ConnectionProcessor(pipe, {
      registry: this.sessions,
      methods: this.methods,
      decodeInitialize: decodeInitializeParams,
      environmentInfo: () => environmentInfo(),
      concurrency: this.options.concurrency ?? 1,
      log: this.options.log,
      onClosed: () => this.connections.delete(processor),
    });
    this.connections.add(processor);
    return processor;
  }

  /**
   * Ends a session at a person's request: drops the connection attached to it (if any), then
   * kills its processes and forgets it. False for an unknown id.
   */
  closeSession(sessionId: string): boolean {
    const session = this.sessions.get(sessionId);
    if (!session) return false;
    for (const connection of this.connections) {
      if (connection.attachedSession === session) connection.drop();
    }
    return this.sessions.close(sessionId);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Drops every connection and kills every managed process; resolves when all are gone. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    for (const connection of [...this.connections]) connection.drop();
    await this.sessions.shutdown();
  }
}
