/**
 * Helpers for the filesystem tests: temp directories, raw file names, and an in-memory connection
 * served by a ConnectionProcessor whose method table holds just the filesystem methods (so these
 * tests exercise the real decode → gate → handle → error-mapping path without other families).
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ConnectionProcessor } from '../rpc/connection-processor.ts';
import { SessionRegistry } from '../session/session-registry.ts';
import { silentLogger } from '../log.ts';
import { MemoryPipe } from '../../testkit/memory-pipe.ts';
import { toPathUri } from '../protocol/path-uri.ts';
import { decodeParams, option, string, struct, withDefault } from '../protocol/serde.ts';
import { fsMethods } from './fs-methods.ts';

/** A fresh real (symlink-free) temp directory; `cleanup()` removes it. */
export function tempDir(prefix = 'fs-test-'): { dir: string; uri: (rel?: string) => string; cleanup: () => void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  return {
    dir,
    uri: (rel = '') => toPathUri(rel === '' ? dir : `${dir}/${rel}`),
    cleanup: () => {
      try {
        execFileSync('chattr', ['-R', '-i', dir], { stdio: 'ignore' });
      } catch {
        /* no chattr, or nothing immutable */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A path as bytes: `bytesPath(dir, 'bad-', [0xff], '.txt')`. */
export function bytesPath(...parts: Array<string | number[]>): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
}

/** Whether `chattr +i` works here (root on a filesystem with attributes). */
export function canChattr(path: string): boolean {
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const InitializeParams = struct('InitializeParams', {
  clientName: string(),
  resumeSessionId: withDefault(option(string()), null),
});

export interface FsConnection {
  pipe: MemoryPipe;
  /** Sends a request with a fresh id and resolves with the whole response message. */
  call(method: string, params?: unknown): Promise<any>;
  /** Resolves with the result, or rejects with `Error(code message)`. */
  ok(method: string, params?: unknown): Promise<any>;
  /** Resolves with the `error` member (fails the test if there is none). */
  err(method: string, params?: unknown): Promise<{ code: number; message: string }>;
  notifications(method: string): any[];
  close(): void;
}

/** Serves in-memory connections with only the filesystem methods. */
export class FsServer {
  readonly registry = new SessionRegistry({ detachedTtlMs: 60_000 });
  private readonly methods = new Map(fsMethods);
  private nextId = 1;

  constructor(private readonly concurrency = 1) {}

  async connect(initialize = true): Promise<FsConnection> {
    const pipe = new MemoryPipe();
    new ConnectionProcessor(pipe, {
      registry: this.registry,
      methods: this.methods,
      decodeInitialize: (p) => decodeParams(InitializeParams, p),
      environmentInfo: () => ({}),
      concurrency: this.concurrency,
      log: silentLogger,
    });
    if (initialize) await pipe.handshake();
    const call = (method: string, params?: unknown) => pipe.request(this.nextId++, method, params);
    return {
      pipe,
      call,
      async ok(method, params) {
        const reply = await call(method, params);
        if (reply.error) throw new Error(`${method}: ${reply.error.code} ${reply.error.message}`);
        return reply.result;
      },
      async err(method, params) {
        const reply = await call(method, params);
        if (!reply.error) throw new Error(`${method}: expected an error, got ${JSON.stringify(reply.result)}`);
        return reply.error;
      },
      notifications: (method) => pipe.sent.filter((m) => m.method === method),
      close: () => pipe.close(),
    };
  }

  async shutdown(): Promise<void> {
    await this.registry.shutdown();
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
