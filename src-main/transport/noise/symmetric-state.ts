/**
 * Noise CipherState and SymmetricState (Noise spec rev. 34, §5.1–§5.2) for AESGCM + SHA256.
 *
 * AEAD nonce: 4 zero bytes ‖ 64-bit big-endian counter (the spec's AESGCM nonce). The counter is
 * a JS number: it cannot reach 2^53 in practice (transport records are numbered by a u32 `seq`),
 * and the guard below refuses to go past it rather than silently losing precision. 0.169.0 never
 * rekeys, so there is no Rekey().
 */
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, HASH_BYTES, type CryptoBackend } from './crypto-backend.ts';

export class NoiseError extends Error {}

const EMPTY = new Uint8Array(0);
const MAX_NONCE = Number.MAX_SAFE_INTEGER;

export function aeadNonce(n: number): Uint8Array {
  const nonce = new Uint8Array(AEAD_NONCE_BYTES);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(n), false);
  return nonce;
}

export class CipherState {
  private k: Uint8Array | null = null;
  /** The next nonce. */
  n = 0;

  constructor(
    private readonly crypto: CryptoBackend,
    key: Uint8Array | null = null,
  ) {
    if (key) this.initializeKey(key);
  }

  initializeKey(key: Uint8Array): void {
    if (key.length !== AEAD_KEY_BYTES) throw new NoiseError('invalid cipher key length');
    this.k = key;
    this.n = 0;
  }

  hasKey(): boolean {
    return this.k !== null;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.k) return plaintext;
    if (this.n >= MAX_NONCE) throw new NoiseError('cipher nonce exhausted');
    const out = this.crypto.aesGcmSeal(this.k, aeadNonce(this.n), ad, plaintext);
    this.n++;
    return out;
  }

  /** encryptWithAd over a plaintext in pieces, ciphertext ‖ tag in pieces (transport records). */
  encryptPartsWithAd(ad: Uint8Array, plaintext: readonly Uint8Array[]): Uint8Array[] {
    if (!this.k) throw new NoiseError('transport cipher has no key');
    if (this.n >= MAX_NONCE) throw new NoiseError('cipher nonce exhausted');
    const out = this.crypto.aesGcmSealParts(this.k, aeadNonce(this.n), ad, plaintext);
    this.n++;
    return out;
  }

  /** Throws NoiseError when authentication fails; the nonce is consumed only on success. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.k) return ciphertext;
    if (this.n >= MAX_NONCE) throw new NoiseError('cipher nonce exhausted');
    const out = this.crypto.aesGcmOpen(this.k, aeadNonce(this.n), ad, ciphertext);
    if (!out) throw new NoiseError('decryption failed');
    this.n++;
    return out;
  }
}

export class SymmetricState {
  private ck: Uint8Array;
  private h: Uint8Array;
  readonly cipher: CipherState;

  constructor(
    private readonly crypto: CryptoBackend,
    protocolName: string,
  ) {
    const name = new TextEncoder().encode(protocolName);
    if (name.length <= HASH_BYTES) {
      this.h = new Uint8Array(HASH_BYTES);
      this.h.set(name);
    } else {
      this.h = crypto.sha256(name);
    }
    this.ck = this.h;
    this.cipher = new CipherState(crypto);
  }

  /** HKDF as Noise defines it (RFC 5869 with salt = ck, empty info), 2 or 3 outputs. */
  private hkdf(ikm: Uint8Array, outputs: 2 | 3): Uint8Array[] {
    const tempKey = this.crypto.hmacSha256(this.ck, ikm);
    const o1 = this.crypto.hmacSha256(tempKey, Uint8Array.of(1));
    const o2 = this.crypto.hmacSha256(tempKey, o1, Uint8Array.of(2));
    if (outputs === 2) return [o1, o2];
    return [o1, o2, this.crypto.hmacSha256(tempKey, o2, Uint8Array.of(3))];
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, k] = this.hkdf(ikm, 2) as [Uint8Array, Uint8Array];
    this.ck = ck;
    this.cipher.initializeKey(k.subarray(0, AEAD_KEY_BYTES));
  }

  mixHash(data: Uint8Array): void {
    this.h = this.crypto.sha256(this.h, data);
  }

  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, th, k] = this.hkdf(ikm, 3) as [Uint8Array, Uint8Array, Uint8Array];
    this.ck = ck;
    this.mixHash(th);
    this.cipher.initializeKey(k.subarray(0, AEAD_KEY_BYTES));
  }

  handshakeHash(): Uint8Array {
    return this.h;
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher.encryptWithAd(this.h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipher.decryptWithAd(this.h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Two CipherStates: [initiator → responder, responder → initiator]. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = this.hkdf(EMPTY, 2) as [Uint8Array, Uint8Array];
    return [new CipherState(this.crypto, k1.subarray(0, AEAD_KEY_BYTES)), new CipherState(this.crypto, k2.subarray(0, AEAD_KEY_BYTES))];
  }
}
