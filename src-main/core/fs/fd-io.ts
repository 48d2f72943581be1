/**
 * Positional I/O on raw file descriptors. Node's promise API is not usable here: FileHandle.read
 * silently ignores a bigint position (it reads at the current file position instead), and the
 * callback `fs.read` is the only one that takes offsets beyond 2^53. Writes take number positions
 * only (a bigint position is dropped to "current position" by fs.write), so callers must keep
 * write offsets within Number.MAX_SAFE_INTEGER.
 */
import { close, fstat, open, read, write, type Stats } from 'node:fs';

export function openFd(path: string | Buffer, flags: number, mode = 0o666): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, mode, (err, fd) => (err ? reject(err) : resolve(fd))));
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()));
}

export function fstatFd(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fstat(fd, (err, st) => (err ? reject(err) : resolve(st))));
}

/** One pread(2). */
export function preadOnce(fd: number, buf: Buffer, offset: number, length: number, position: number | bigint): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

/** pread(2) until `length` bytes or end of file; resolves with the number of bytes read. */
export async function preadFull(fd: number, buf: Buffer, offset: number, length: number, position: number | bigint): Promise<number> {
  let done = 0;
  while (done < length) {
    const pos = typeof position === 'bigint' ? position + BigInt(done) : position + done;
    const n = await preadOnce(fd, buf, offset + done, length - done, pos);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** pwrite(2) of all of `data` at `position` (a safe integer). */
export async function pwriteFull(fd: number, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const n = await new Promise<number>((resolve, reject) =>
      write(fd, data, done, data.length - done, position + done, (err, written) => (err ? reject(err) : resolve(written))),
    );
    done += n;
  }
}

/** write(2) of all of `data` at the current position (for freshly truncated files). */
export async function writeAll(fd: number, data: Buffer): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const n = await new Promise<number>((resolve, reject) =>
      write(fd, data, done, data.length - done, null, (err, written) => (err ? reject(err) : resolve(written))),
    );
    done += n;
  }
}
