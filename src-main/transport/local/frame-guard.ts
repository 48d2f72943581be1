/**
 * The `ws` library caps a whole message (we set 64 MiB) but not a single frame. The reference
 * (tungstenite defaults) also drops any single frame over 16 MiB. This watcher reads only the
 * frame headers of the client→server byte stream and reports the first oversized frame.
 */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export class FrameHeaderWatcher {
  /** Bytes of the current frame's payload still to skip. */
  private skip = 0;
  /** A partial header carried over between chunks. */
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Feeds client bytes; returns false once a frame over the limit has been announced. */
  push(chunk: Buffer): boolean {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    let offset = 0;
    while (offset < data.length) {
      if (this.skip > 0) {
        const step = Math.min(this.skip, data.length - offset);
        this.skip -= step;
        offset += step;
        continue;
      }
      const header = this.readHeader(data, offset);
      if (header === null) {
        this.pending = Buffer.from(data.subarray(offset));
        return true;
      }
      if (header.payload > this.maxFrameBytes) return false;
      offset += header.size;
      this.skip = header.payload;
    }
    return true;
  }

  private readHeader(data: Buffer, offset: number): { size: number; payload: number } | null {
    if (data.length - offset < 2) return null;
    const second = data[offset + 1]!;
    const masked = (second & 0x80) !== 0;
    let length = second & 0x7f;
    let size = 2;
    if (length === 126) {
      if (data.length - offset < 4) return null;
      length = data.readUInt16BE(offset + 2);
      size = 4;
    } else if (length === 127) {
      if (data.length - offset < 10) return null;
      const big = data.readBigUInt64BE(offset + 2);
      length = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
      size = 10;
    }
    if (masked) size += 4;
    if (data.length - offset < size) return null;
    return { size, payload: length };
  }
}
