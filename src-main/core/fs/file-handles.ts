/**
 * Connection-scoped file handles (local-protocol.md §7.11): `fs/open`, `fs/readBlock`,
 * `fs/writeBlock`, `fs/close`, with 0.169.0's checks, their order and texts:
 *
 * - open: id ≤ 32 bytes → id not in use (open or being opened) → fewer than 128 handles, counting
 *   in-flight opens → host path → open(2) with O_NONBLOCK (a FIFO never blocks) → fstat: only
 *   regular files (`path \`…\` is not a file`). `replace` truncates at open time.
 * - readBlock: length 1…1 MiB → known handle → pread until `len` bytes or EOF; `eof` iff short.
 *   Offsets the kernel refuses (≥ 2^63, or offset + len beyond 2^63 − 1) give `Invalid argument
 *   (os error 22)`. Any read error closes the handle, as on the reference.
 * - writeBlock: length 1…1 MiB → offset + len within 2^63 − 1 → known handle → pwrite. Write
 *   errors leave the handle open. Node cannot pwrite beyond 2^53 (fs.write takes number
 *   positions only): such offsets answer `File too large (os error 27)`, what ext4 answers for
 *   anything beyond 16 TiB.
 * - close: id ≤ 32 bytes, then `{}` whether or not the handle existed.
 *
 * A handle is a raw fd; reads and writes are positional, so a handle keeps reading the file it
 * opened after the path is replaced or unlinked. Closing waits for in-flight operations before
 * close(2), so an fd number is never reused under a running pread.
 */
import { constants as fsConstants } from 'node:fs';
import { ErrorCode, RpcError } from '../rpc/errors.ts';
import { fsPath } from '../protocol/path-uri.ts';
import { osError } from './fs-errors.ts';
import { closeFd, fstatFd, openFd, preadFull, pwriteFull } from './fd-io.ts';
import { notAFile } from './fs-ops.ts';
import { readBlockResult } from './base64-result.ts';

const { O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC, O_NONBLOCK } = fsConstants;

export const MAX_HANDLE_ID_BYTES = 32;
export const MAX_HANDLES_PER_CONNECTION = 128;
export const MAX_BLOCK_BYTES = 1024 * 1024;
const I64_MAX = 2n ** 63n - 1n;

export type OpenMode = 'read' | 'replace';

interface Handle {
  fd: number;
  /** Operations running on the fd; close(2) waits for them. */
  inflight: number;
  closing: boolean;
  /** Settles after close(2) (set once closing starts). */
  closed?: Promise<void>;
  resolveClosed?: () => void;
}

function invalid(message: string): RpcError {
  return new RpcError(ErrorCode.InvalidRequest, message);
}

export function checkHandleId(handleId: string): void {
  if (Buffer.byteLength(handleId, 'utf8') > MAX_HANDLE_ID_BYTES) throw invalid('file handle ID must not exceed 32 bytes');
}

function unknownHandle(handleId: string): RpcError {
  return new RpcError(ErrorCode.NotFound, `unknown file handle \`${handleId}\``);
}

/** Reusable 1 MiB read buffers: the bytes are copied out by base64 encoding right after the read. */
const bufferPool: Buffer[] = [];
const POOL_MAX = 16;
function takeBuffer(): Buffer {
  return bufferPool.pop() ?? Buffer.allocUnsafeSlow(MAX_BLOCK_BYTES);
}
function giveBuffer(buf: Buffer): void {
  if (bufferPool.length < POOL_MAX) bufferPool.push(buf);
}

export class FileHandleTable {
  private readonly handles = new Map<string, Handle>();
  private readonly opening = new Set<string>();
  private disposed = false;

  get size(): number {
    return this.handles.size;
  }

  /** Opens `path` (a host path, or a thunk that converts the URI and may throw) under `handleId`. */
  async open(handleId: string, path: string | (() => string), mode: OpenMode): Promise<{ handleId: string }> {
    checkHandleId(handleId);
    if (this.handles.has(handleId) || this.opening.has(handleId)) throw invalid(`file handle \`${handleId}\` already exists`);
    if (this.handles.size + this.opening.size >= MAX_HANDLES_PER_CONNECTION) {
      throw invalid(`at most ${MAX_HANDLES_PER_CONNECTION} file handles may be open per connection`);
    }
    this.opening.add(handleId);
    try {
      const native = typeof path === 'function' ? path() : path;
      const flags = mode === 'read' ? O_RDONLY | O_NONBLOCK : O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK;
      const fd = await openFd(fsPath(native), flags, 0o666);
      try {
        const st = await fstatFd(fd);
        if (!st.isFile()) throw notAFile(native);
      } catch (err) {
        await closeFd(fd);
        throw err;
      }
      if (this.disposed) {
        await closeFd(fd);
        throw invalid('connection closed');
      }
      this.handles.set(handleId, { fd, inflight: 0, closing: false });
      return { handleId };
    } finally {
      this.opening.delete(handleId);
    }
  }

  async readBlock(handleId: string, offset: bigint, len: number): Promise<unknown> {
    if (len < 1 || len > MAX_BLOCK_BYTES) throw invalid(`file read block length must be between 1 and ${MAX_BLOCK_BYTES}`);
    const handle = this.handles.get(handleId);
    if (!handle || handle.closing) throw unknownHandle(handleId);
    handle.inflight++;
    const buf = takeBuffer();
    let n: number;
    try {
      // The kernel refuses a negative loff_t and an end beyond it (rw_verify_area).
      if (offset + BigInt(len) > I64_MAX) throw osError('EINVAL');
      const position = offset <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(offset) : offset;
      n = await preadFull(handle.fd, buf, 0, len, position);
    } catch (err) {
      // An I/O error closes the handle (observed: the next request gets `unknown file handle`).
      if (this.handles.get(handleId) === handle) this.handles.delete(handleId);
      void this.closeHandle(handle);
      giveBuffer(buf);
      throw err;
    } finally {
      this.release(handle);
    }
    try {
      return await readBlockResult(buf, n, n < len);
    } finally {
      giveBuffer(buf);
    }
  }

  async writeBlock(handleId: string, offset: bigint, chunk: Buffer): Promise<Record<string, never>> {
    if (chunk.length < 1 || chunk.length > MAX_BLOCK_BYTES) throw invalid(`file write block length must be between 1 and ${MAX_BLOCK_BYTES}`);
    if (offset + BigInt(chunk.length) > I64_MAX) throw invalid('file write range exceeds the signed 64-bit file offset limit');
    const handle = this.handles.get(handleId);
    if (!handle || handle.closing) throw unknownHandle(handleId);
    handle.inflight++;
    try {
      if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw osError('EFBIG');
      await pwriteFull(handle.fd, chunk, Number(offset));
      return {};
    } finally {
      this.release(handle);
    }
  }

  /** Closes a handle; unknown ids are fine. Resolves once close(2) has run. */
  async close(handleId: string): Promise<Record<string, never>> {
    checkHandleId(handleId);
    const handle = this.handles.get(handleId);
    if (handle) {
      this.handles.delete(handleId);
      await this.closeHandle(handle);
    }
    return {};
  }

  /** Closes every handle (the connection ended). */
  dispose(): void {
    this.disposed = true;
    const all = [...this.handles.values()];
    this.handles.clear();
    for (const handle of all) void this.closeHandle(handle);
  }

  /** Starts closing (idempotent); close(2) runs once no operation is in flight. */
  private closeHandle(handle: Handle): Promise<void> {
    if (!handle.closing) {
      handle.closing = true;
      handle.closed = new Promise<void>((resolve) => (handle.resolveClosed = resolve));
      if (handle.inflight === 0) this.finishClose(handle);
    }
    return handle.closed!;
  }

  private finishClose(handle: Handle): void {
    void closeFd(handle.fd).then(() => handle.resolveClosed!());
  }

  private release(handle: Handle): void {
    handle.inflight--;
    if (handle.inflight === 0 && handle.closing) this.finishClose(handle);
  }
}
