/**
 * Standard base64 (RFC 4648 alphabet, `=` padding) with the Rust `base64` crate's STANDARD-engine
 * acceptance rules and error texts, as the reference answers bad `chunk` / `dataBase64` values:
 *
 * - `Invalid symbol <byte>, offset <i>.` — a byte outside the alphabet, or a misplaced `=`
 *   (offsets and bytes are UTF-8 byte positions/values: `é` reports symbol 195 or 169);
 * - `Invalid input length: <n>` — one symbol left over in the last quad (length ≡ 1 mod 4);
 * - `Invalid padding` — padding missing or incomplete (`QQ`, `QQ=`); padding is required;
 * - `Invalid last symbol <byte>, offset <i>.` — the final symbol carries non-zero unused bits (`QR==`).
 *
 * No whitespace or line breaks are accepted. Valid input is decoded by Node and verified by
 * re-encoding; the exact (slower) state machine only runs for input that is not canonical.
 */

export class Base64Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Base64Error';
  }
}

const INVALID = 0xff;
const PAD = 0x3d; // '='

const DECODE: Uint8Array = (() => {
  const table = new Uint8Array(256).fill(INVALID);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

/** Decodes standard padded base64; throws Base64Error with the reference's message. */
export function decodeBase64(s: string): Buffer {
  // Node's decoder is lenient (skips junk, accepts url-safe symbols and missing padding), but its
  // encoder only writes canonical text: the round trip reproduces `s` exactly when `s` is canonical
  // padded standard base64, and then Node's bytes are the right ones. Faster than any JS-side check.
  const fast = Buffer.from(s, 'base64');
  if (fast.toString('base64') === s) return fast;
  return decodeExact(Buffer.from(s, 'utf8'));
}

/** Encodes as standard base64 with padding. */
export function encodeBase64(data: Uint8Array): string {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return buf.toString('base64');
}

/** The exact state machine alone (for tests): same results as decodeBase64, no fast path. */
export function decodeBase64Exact(s: string): Buffer {
  return decodeExact(Buffer.from(s, 'utf8'));
}

/**
 * The crate's GeneralPurpose decoder (padding RequireCanonical, no trailing bits), in its order of
 * checks: a lone invalid last byte, then every quad but the last in order, then the last quad.
 */
function decodeExact(input: Uint8Array): Buffer {
  const len = input.length;
  const rem = len % 4;

  if (rem === 1) {
    const last = input[len - 1]!;
    if (last !== PAD && DECODE[last] === INVALID) throw invalidByte(len - 1, last);
  }

  // Every complete quad except the last one (which may hold padding).
  const bodyLen = Math.max(0, len - rem - (rem === 0 ? 4 : 0));
  for (let i = 0; i < bodyLen; i++) {
    const b = input[i]!;
    if (DECODE[b] === INVALID) throw invalidByte(i, b);
  }

  // The suffix: 1 to 4 bytes.
  const morsels: number[] = [];
  let padding = 0;
  let firstPadding = 0;
  let lastSymbol = 0;
  for (let k = bodyLen; k < len; k++) {
    const b = input[k]!;
    const leftoverIndex = k - bodyLen;
    if (b === PAD) {
      if (leftoverIndex < 2) throw invalidByte(k, b);
      if (padding === 0) firstPadding = leftoverIndex;
      padding++;
      continue;
    }
    if (padding > 0) throw invalidByte(bodyLen + firstPadding, PAD);
    lastSymbol = b;
    const morsel = DECODE[b]!;
    if (morsel === INVALID) throw invalidByte(k, b);
    morsels.push(morsel);
  }
  if (len > 0 && morsels.length < 2) throw new Base64Error(`Invalid input length: ${bodyLen + morsels.length}`);
  if ((padding + morsels.length) % 4 !== 0) throw new Base64Error('Invalid padding');

  const tailBytes = Math.floor((morsels.length * 6) / 8);
  let bits = 0;
  for (let k = 0; k < 4; k++) bits = bits * 64 + (morsels[k] ?? 0);
  // bits holds 24 bits; the first tailBytes*8 are output, the rest must be zero
  const unusedBits = 24 - tailBytes * 8;
  if (len > 0 && bits % 2 ** unusedBits !== 0) {
    throw new Base64Error(`Invalid last symbol ${lastSymbol}, offset ${bodyLen + morsels.length - 1}.`);
  }

  // Everything validated: decode with Node.
  return Buffer.from(Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1'), 'base64');
}

function invalidByte(offset: number, byte: number): Base64Error {
  return new Base64Error(`Invalid symbol ${byte}, offset ${offset}.`);
}
