/**
 * Reads newline-terminated lines from stdin with a byte bound per line (the newline counts),
 * for the three stdin credential modes. The binary's bounds: 16 KiB for a registration bearer and
 * an executor credential frame, 64 KiB for a ChatGPT access token (measured on 0.169.0).
 *
 * Lines are returned as bytes with the `\n` (and one `\r` before it) removed; nothing is decoded
 * or logged here, since each line is a credential.
 */
import type { Readable } from 'node:stream';

export type LineResult =
  | { kind: 'line'; bytes: Buffer }
  /** End of input; `partial` when bytes without a newline were pending. */
  | { kind: 'eof'; partial: boolean }
  /** No newline within the bound. */
  | { kind: 'too-long' }
  | { kind: 'error'; error: Error };

export class BoundedLineReader {
  #buffer: Buffer = Buffer.alloc(0);
  #ended = false;
  #failed: Error | null = null;
  #wake: (() => void) | null = null;
  #closed = false;

  constructor(
    private readonly stream: Readable,
    private readonly maxLineBytes: number,
  ) {
    stream.on('data', this.#onData);
    stream.on('end', this.#onEnd);
    stream.on('error', this.#onError);
    // A closed pipe that never emits 'end' (destroyed) still ends the input.
    stream.on('close', this.#onEnd);
  }

  #onData = (chunk: Buffer | string) => {
    this.#buffer = Buffer.concat([this.#buffer, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    // Bounded memory: once a line is known to be too long, stop reading.
    if (this.#buffer.indexOf(0x0a) < 0 && this.#buffer.length >= this.maxLineBytes) this.stream.pause();
    this.#notify();
  };
  #onEnd = () => {
    this.#ended = true;
    this.#notify();
  };
  #onError = (error: Error) => {
    this.#failed = error;
    this.#notify();
  };

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #take(): LineResult | null {
    const newline = this.#buffer.indexOf(0x0a);
    if (newline >= 0 && newline < this.maxLineBytes) {
      let end = newline;
      if (end > 0 && this.#buffer[end - 1] === 0x0d) end -= 1;
      const bytes = Buffer.from(this.#buffer.subarray(0, end));
      this.#buffer = this.#buffer.subarray(newline + 1);
      return { kind: 'line', bytes };
    }
    if (newline >= this.maxLineBytes || (newline < 0 && this.#buffer.length >= this.maxLineBytes)) return { kind: 'too-long' };
    if (this.#failed) return { kind: 'error', error: this.#failed };
    if (this.#ended) return { kind: 'eof', partial: this.#buffer.length > 0 };
    return null;
  }

  /** The next line (or why there is none). Rejects with `signal.reason` when aborted. */
  async next(signal?: AbortSignal): Promise<LineResult> {
    for (;;) {
      if (this.#closed) return { kind: 'eof', partial: false };
      const result = this.#take();
      if (result) return result;
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          this.#wake = null;
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
      });
    }
  }

  /** Stops listening; the stream is paused, not destroyed (stdin belongs to the process). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stream.off('data', this.#onData);
    this.stream.off('end', this.#onEnd);
    this.stream.off('error', this.#onError);
    this.stream.off('close', this.#onEnd);
    this.stream.pause();
    this.#buffer = Buffer.alloc(0);
    this.#notify();
  }
}

/** Visible ASCII only (0x21–0x7e), non-empty: what the binary accepts as a bearer. */
export function isBearerToken(bytes: Buffer): boolean {
  if (bytes.length === 0) return false;
  for (const byte of bytes) if (byte < 0x21 || byte > 0x7e) return false;
  return true;
}
