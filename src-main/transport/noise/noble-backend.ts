/**
 * The same primitives as `nodeCryptoBackend`, in pure JavaScript from @noble. Two uses:
 * - tests: a second, independent implementation path to cross-check node:crypto (and the
 *   handshake) against;
 * - Electron: the drop-in if the main process's BoringSSL node:crypto lacks a primitive.
 *
 * @noble/curves, @noble/ciphers and @noble/hashes 2.4.0 are installed as dependencies of
 * @noble/post-quantum (pinned by the lockfile) and are not listed in package.json yet: add them
 * there before shipping this backend in the app.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { gcm } from '@noble/ciphers/aes.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { concatBytes, randomBytes } from '@noble/hashes/utils.js';
import { AEAD_TAG_BYTES, mlkem, type CryptoBackend } from './crypto-backend.ts';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export const nobleCryptoBackend: CryptoBackend = {
  name: '@noble',
  randomBytes: (length) => randomBytes(length),
  sha256: (...parts) => sha256(concat(parts)),
  hmacSha256: (key, ...parts) => hmac(sha256, key, concat(parts)),
  x25519Generate() {
    const { secretKey, publicKey } = x25519.keygen();
    return { privateKey: secretKey, publicKey };
  },
  x25519PublicKey: (privateKey) => x25519.getPublicKey(privateKey),
  x25519(privateKey, publicKey) {
    const shared = x25519.getSharedSecret(privateKey, publicKey);
    if (shared.every((b) => b === 0)) throw new Error('X25519 shared secret is all zeros');
    return shared;
  },
  aesGcmSeal: (key, nonce, ad, plaintext) => gcm(key, nonce, ad).encrypt(plaintext),
  aesGcmSealParts: (key, nonce, ad, plaintext) => [gcm(key, nonce, ad).encrypt(plaintext.length === 1 ? plaintext[0]! : concatBytes(...plaintext))],
  aesGcmOpen(key, nonce, ad, ciphertext) {
    if (ciphertext.length < AEAD_TAG_BYTES) return null;
    try {
      return gcm(key, nonce, ad).decrypt(ciphertext);
    } catch {
      return null;
    }
  },
  mlkemGenerate: mlkem.generate,
  mlkemEncapsulate: mlkem.encapsulate,
  mlkemDecapsulate: mlkem.decapsulate,
};
