/**
 * Results that carry file bytes as base64 (`fs/readFile`, `fs/readBlock`) are the hot path of the
 * filesystem methods. Built as plain objects they cost a JSON.stringify scan of every base64
 * character plus a UTF-8 transcode in the transport (≈ 3.5 ms per MiB, and for a 256 MiB file a
 * ~2 s stall of the event loop). Instead the JSON is written here straight into one Buffer
 * (`RawJson`), base64 in slices between which the event loop runs; the bytes on the wire are the
 * same as for the plain object.
 */
import { RAW_JSON_HEADROOM, RawJson } from '../rpc/envelope.ts';

/**
 * Input bytes per base64 slice (a multiple of 3, so slices concatenate to one valid text). Small
 * enough that each intermediate string (64 KiB) is a young-generation object the scavenger frees
 * cheaply; megabyte strings land in large-object space and cost major GCs.
 */
const SLICE_BYTES = 48 * 1024;
/** Input bytes encoded between two yields to the event loop. */
const YIELD_EVERY_BYTES = 3 * 1024 * 1024;

function base64Length(n: number): number {
  return 4 * Math.ceil(n / 3);
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * `<head><base64 of data[0..n)><tail>` as bytes; `head`/`tail` are ASCII JSON fragments. Large
 * inputs are encoded slice by slice with the event loop running in between.
 */
export async function writeBase64Json(head: string, data: Buffer, n: number, tail: string): Promise<Buffer> {
  const json = await writeBase64JsonWithRoom(head, data, n, tail, 0);
  return json.buffer;
}

/**
 * The same JSON inside a buffer with `headroom` free bytes before it and one after, so the
 * envelope can be written around it without copying (see RawJson).
 */
async function writeBase64JsonWithRoom(head: string, data: Buffer, n: number, tail: string, headroom: number): Promise<RawJson> {
  const length = head.length + base64Length(n) + tail.length;
  const out = Buffer.allocUnsafe(headroom + length + (headroom > 0 ? 1 : 0));
  let pos = headroom + out.write(head, headroom, 'latin1');
  for (let start = 0; start < n; start += SLICE_BYTES) {
    const end = Math.min(n, start + SLICE_BYTES);
    pos += out.write(data.toString('base64', start, end), pos, 'latin1');
    if (end < n && end % YIELD_EVERY_BYTES === 0) await yieldToEventLoop();
  }
  out.write(tail, pos, 'latin1');
  return new RawJson(out, headroom, headroom + length);
}

/** The fs/readFile result `{"dataBase64": …}` for `data`. */
export async function readFileResult(data: Buffer): Promise<unknown> {
  return writeBase64JsonWithRoom('{"dataBase64":"', data, data.length, '"}', RAW_JSON_HEADROOM);
}

/** The fs/readBlock result `{"chunk": …, "eof": …}` for the first `n` bytes of `buf`. */
export async function readBlockResult(buf: Buffer, n: number, eof: boolean): Promise<unknown> {
  return writeBase64JsonWithRoom('{"chunk":"', buf, n, eof ? '","eof":true}' : '","eof":false}', RAW_JSON_HEADROOM);
}
