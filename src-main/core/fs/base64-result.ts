/**
 * Results that carry file bytes as base64 (`fs/readFile`, `fs/readBlock`) are the hot path of the
 * filesystem methods. Built as plain objects they cost a JSON.stringify scan of every base64
 * character plus a UTF-8 transcode in the transport (≈ 3.5 ms per MiB, and for a 256 MiB file a
 * ~2 s stall of the event loop). Instead the JSON is written here straight into one Buffer
 * (`RawJson`), base64 in slices between which the event loop runs; the bytes on the wire are the
 * same as for the plain object.
 */
import { RawJson } from '../rpc/envelope.ts';

/** Input bytes per base64 slice (a multiple of 3, so slices concatenate to one valid text). */
const SLICE_BYTES = 3 * 1024 * 1024;

function base64Length(n: number): number {
  return 4 * Math.ceil(n / 3);
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * `<head><base64 of data[0..n)><tail>` as bytes; `head`/`tail` are ASCII JSON fragments. Large
 * inputs are encoded slice by slice with the event loop running in between.
 */
export async function writeBase64Json(head: string, data: Buffer, n: number, tail: string): Promise<Buffer> {
  const out = Buffer.allocUnsafe(head.length + base64Length(n) + tail.length);
  let pos = out.write(head, 0, 'latin1');
  for (let start = 0; start < n; start += SLICE_BYTES) {
    const end = Math.min(n, start + SLICE_BYTES);
    pos += out.write(data.toString('base64', start, end), pos, 'latin1');
    if (end < n) await yieldToEventLoop();
  }
  out.write(tail, pos, 'latin1');
  return out;
}

/** The fs/readFile result `{"dataBase64": …}` for `data`. */
export async function readFileResult(data: Buffer): Promise<unknown> {
  return new RawJson(await writeBase64Json('{"dataBase64":"', data, data.length, '"}'));
}

/** The fs/readBlock result `{"chunk": …, "eof": …}` for the first `n` bytes of `buf`. */
export async function readBlockResult(buf: Buffer, n: number, eof: boolean): Promise<unknown> {
  return new RawJson(await writeBase64Json('{"chunk":"', buf, n, eof ? '","eof":true}' : '","eof":false}'));
}
