/**
 * One process's sequence counter and its retained output (local-protocol.md §6.3, §6.6, §6.7).
 *
 * Every output chunk, the `exited` event and the `closed` event take the next number from one
 * counter starting at 1. Chunks are kept FIFO for `process/read`, at most 1 MiB of chunk bytes and
 * 50 000 chunks; on overflow whole chunks are evicted from the front. Notifications are not limited
 * by this window: the caller notifies from what `append` returns.
 */

export type ProcessStream = 'stdout' | 'stderr' | 'pty';

export interface OutputChunk {
  readonly seq: number;
  readonly stream: ProcessStream;
  /** Kept as received; never copied. */
  readonly bytes: Buffer;
}

export const RETAINED_OUTPUT_BYTES = 1_048_576;
export const RETAINED_OUTPUT_CHUNKS = 50_000;

export interface OutputLogLimits {
  maxBytes?: number;
  maxChunks?: number;
}

export interface OutputLogRead {
  chunks: OutputChunk[];
  nextSeq: number;
}

export class OutputLog {
  private readonly maxBytes: number;
  private readonly maxChunks: number;
  /** Retained chunks are `items[head..]`; the dead prefix is compacted away now and then. */
  private items: OutputChunk[] = [];
  private head = 0;
  private bytes = 0;
  private next = 1;

  constructor(limits: OutputLogLimits = {}) {
    this.maxBytes = limits.maxBytes ?? RETAINED_OUTPUT_BYTES;
    this.maxChunks = limits.maxChunks ?? RETAINED_OUTPUT_CHUNKS;
  }

  /** The number the next event will get. */
  get nextSeq(): number {
    return this.next;
  }

  /** Bytes currently retained. */
  get retainedBytes(): number {
    return this.bytes;
  }

  /** Chunks currently retained. */
  get retainedChunks(): number {
    return this.items.length - this.head;
  }

  /** Takes a number for a non-output event (`exited`, `closed`). */
  takeSeq(): number {
    return this.next++;
  }

  /** Records an output chunk under the next number, evicting old chunks as needed. */
  append(stream: ProcessStream, bytes: Buffer): OutputChunk {
    const chunk: OutputChunk = { seq: this.next++, stream, bytes };
    this.items.push(chunk);
    this.bytes += bytes.length;
    while (this.items.length - this.head > this.maxChunks || (this.bytes > this.maxBytes && this.items.length - this.head > 0)) {
      const evicted = this.items[this.head]!;
      this.items[this.head] = undefined as unknown as OutputChunk; // let the buffer go
      this.head++;
      this.bytes -= evicted.bytes.length;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return chunk;
  }

  /**
   * Retained chunks with `seq > afterSeq`, in order (§6.3). With `maxBytes` the first chunk is
   * always included; later ones are added while the total stays within `maxBytes`, and taking
   * stops as soon as the total reaches it. `nextSeq` is the last returned seq + 1 when `maxBytes`
   * was given and something was returned, otherwise the process's next sequence number.
   */
  read(afterSeq: number, maxBytes: number | null): OutputLogRead {
    const chunks: OutputChunk[] = [];
    let total = 0;
    for (let i = this.firstIndexAfter(afterSeq); i < this.items.length; i++) {
      const chunk = this.items[i]!;
      if (maxBytes !== null && chunks.length > 0 && total + chunk.bytes.length > maxBytes) break;
      chunks.push(chunk);
      total += chunk.bytes.length;
      if (maxBytes !== null && total >= maxBytes) break;
    }
    const last = chunks[chunks.length - 1];
    const nextSeq = maxBytes !== null && last !== undefined ? last.seq + 1 : this.next;
    return { chunks, nextSeq };
  }

  /** Whether a retained chunk has `seq > afterSeq`. */
  hasChunksAfter(afterSeq: number): boolean {
    const lastIndex = this.items.length - 1;
    return lastIndex >= this.head && this.items[lastIndex]!.seq > afterSeq;
  }

  /** The last `maxBytes` retained bytes of all streams, concatenated (for a UI). */
  tail(maxBytes: number): Buffer {
    const parts: Buffer[] = [];
    let total = 0;
    for (let i = this.items.length - 1; i >= this.head && total < maxBytes; i--) {
      const bytes = this.items[i]!.bytes;
      const take = Math.min(bytes.length, maxBytes - total);
      parts.push(take === bytes.length ? bytes : bytes.subarray(bytes.length - take));
      total += take;
    }
    return Buffer.concat(parts.reverse(), total);
  }

  private firstIndexAfter(afterSeq: number): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.seq > afterSeq) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
