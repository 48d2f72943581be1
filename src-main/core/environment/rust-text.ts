/**
 * Text helpers that reproduce Rust renderings the reference puts into messages:
 * `String::from_utf8` errors (`invalid utf-8 sequence of 1 bytes from index 5`) and the
 * `{:?}` rendering of paths and strings.
 */
import { rustDebugString } from '../protocol/serde.ts';

export class Utf8DecodeError extends Error {
  constructor(
    readonly validUpTo: number,
    /** Rust's `error_len()`: None (undefined) when the input ends inside a sequence. */
    readonly errorLen: number | undefined,
  ) {
    super(
      errorLen === undefined
        ? `incomplete utf-8 byte sequence from index ${validUpTo}`
        : `invalid utf-8 sequence of ${errorLen} bytes from index ${validUpTo}`,
    );
    this.name = 'Utf8DecodeError';
  }
}

const inRange = (b: number | undefined, lo: number, hi: number) => b !== undefined && b >= lo && b <= hi;

/** Decodes UTF-8 strictly; throws Utf8DecodeError with Rust's `Utf8Error` text. */
export function decodeUtf8(bytes: Uint8Array): string {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else throw new Utf8DecodeError(i, 1);
    for (let k = 1; k <= need; k++) {
      const next = bytes[i + k];
      if (next === undefined) throw new Utf8DecodeError(i, undefined);
      const ok = k === 1 ? inRange(next, lo, hi) : inRange(next, 0x80, 0xbf);
      if (!ok) throw new Utf8DecodeError(i, k);
    }
    i += need + 1;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** Rust's `{:?}` for a `&str` / `Path` made of valid UTF-8. */
export function rustDebug(s: string): string {
  return rustDebugString(s);
}
