/**
 * The primitives the Noise code needs, behind one small interface so the implementation can be
 * swapped: node:crypto under plain Node (fast: OpenSSL), @noble where node:crypto lacks something
 * (see `noble-backend.ts`). ML-KEM-768 comes from @noble/post-quantum in every backend: Node 20
 * has no ML-KEM.
 *
 * Inside Electron the main process runs Node on BoringSSL. The suite needs only X25519,
 * AES-256-GCM, SHA-256 and HMAC, which BoringSSL's node:crypto has (STACK.md: it lacks
 * ChaCha20-Poly1305, which this suite does not use), so `nodeCryptoBackend` should work there
 * too; if a primitive turns out missing, pass `nobleCryptoBackend` to the handshake instead —
 * nothing else changes.
 *
 * All keys and outputs are raw bytes: X25519 keys are 32 bytes, AEAD output is ciphertext ‖ tag.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';

export const X25519_KEY_BYTES = 32;
export const MLKEM768_PUBLIC_KEY_BYTES = 1184;
export const MLKEM768_SECRET_KEY_BYTES = 2400;
export const MLKEM768_CIPHERTEXT_BYTES = 1088;
export const MLKEM768_SHARED_SECRET_BYTES = 32;
export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;
export const HASH_BYTES = 32;

export interface X25519KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

export interface KemKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface KemEncapsulation {
  cipherText: Uint8Array;
  sharedSecret: Uint8Array;
}

export interface CryptoBackend {
  readonly name: string;
  randomBytes(length: number): Uint8Array;
  sha256(...parts: Uint8Array[]): Uint8Array;
  hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array;
  x25519Generate(): X25519KeyPair;
  x25519PublicKey(privateKey: Uint8Array): Uint8Array;
  /** Throws on a bad public key or an all-zero shared secret (a low-order point). */
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** AES-256-GCM, 16-byte tag appended. */
  aesGcmSeal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /**
   * The same seal over a plaintext given in pieces, returning ciphertext ‖ tag in pieces: the
   * transport hot path copies them straight into a relay frame, which saves two copies per record.
   */
  aesGcmSealParts(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: readonly Uint8Array[]): Uint8Array[];
  /** Null when authentication fails. */
  aesGcmOpen(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null;
  /** `seed` (64 bytes, d ‖ z) makes key generation deterministic (tests only). */
  mlkemGenerate(seed?: Uint8Array): KemKeyPair;
  /** Throws on a malformed public key. `randomness` (32 bytes) is for tests only. */
  mlkemEncapsulate(publicKey: Uint8Array, randomness?: Uint8Array): KemEncapsulation;
  /** Throws on a wrong-length ciphertext; a forged one yields an implicit-rejection secret. */
  mlkemDecapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

function aesGcmSealParts(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: readonly Uint8Array[]): Uint8Array[] {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES });
  cipher.setAAD(ad);
  const out: Uint8Array[] = [];
  for (const part of plaintext) if (part.length > 0) out.push(cipher.update(part));
  const final = cipher.final();
  if (final.length > 0) out.push(final);
  out.push(cipher.getAuthTag());
  return out;
}

/** DER wrappers: Node 20 cannot import raw X25519 keys. */
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function x25519PrivateKeyObject(raw: Uint8Array) {
  if (raw.length !== X25519_KEY_BYTES) throw new Error('invalid X25519 private key length');
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

function x25519PublicKeyObject(raw: Uint8Array) {
  if (raw.length !== X25519_KEY_BYTES) throw new Error('invalid X25519 public key length');
  return createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

function rawPublic(key: ReturnType<typeof createPublicKey>): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519_PREFIX.length));
}

function u8(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export const mlkem = {
  generate(seed?: Uint8Array): KemKeyPair {
    const { publicKey, secretKey } = ml_kem768.keygen(seed);
    return { publicKey, secretKey };
  },
  encapsulate(publicKey: Uint8Array, randomness?: Uint8Array): KemEncapsulation {
    if (publicKey.length !== MLKEM768_PUBLIC_KEY_BYTES) throw new Error('invalid ML-KEM-768 public key length');
    const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey, randomness);
    return { cipherText, sharedSecret };
  },
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
    if (cipherText.length !== MLKEM768_CIPHERTEXT_BYTES) throw new Error('invalid ML-KEM-768 ciphertext length');
    return ml_kem768.decapsulate(cipherText, secretKey);
  },
};

export const nodeCryptoBackend: CryptoBackend = {
  name: 'node:crypto',
  randomBytes: (length) => u8(randomBytes(length)),
  sha256(...parts) {
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part);
    return u8(hash.digest());
  },
  hmacSha256(key, ...parts) {
    const mac = createHmac('sha256', key);
    for (const part of parts) mac.update(part);
    return u8(mac.digest());
  },
  x25519Generate() {
    const { publicKey, privateKey } = generateKeyPairSync('x25519');
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    return { publicKey: rawPublic(publicKey), privateKey: new Uint8Array(der.subarray(PKCS8_X25519_PREFIX.length)) };
  },
  x25519PublicKey: (privateKey) => rawPublic(createPublicKey(x25519PrivateKeyObject(privateKey))),
  x25519(privateKey, publicKey) {
    // OpenSSL refuses an all-zero result ("failed during derivation").
    return u8(diffieHellman({ privateKey: x25519PrivateKeyObject(privateKey), publicKey: x25519PublicKeyObject(publicKey) }));
  },
  aesGcmSeal: (key, nonce, ad, plaintext) => u8(Buffer.concat(aesGcmSealParts(key, nonce, ad, [plaintext]))),
  aesGcmSealParts,
  aesGcmOpen(key, nonce, ad, ciphertext) {
    if (ciphertext.length < AEAD_TAG_BYTES) return null;
    const split = ciphertext.length - AEAD_TAG_BYTES;
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES });
    decipher.setAAD(ad);
    decipher.setAuthTag(ciphertext.subarray(split));
    const body = decipher.update(ciphertext.subarray(0, split));
    try {
      return u8(Buffer.concat([body, decipher.final()]));
    } catch {
      return null;
    }
  },
  mlkemGenerate: mlkem.generate,
  mlkemEncapsulate: mlkem.encapsulate,
  mlkemDecapsulate: mlkem.decapsulate,
};
