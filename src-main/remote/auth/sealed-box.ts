/**
 * Opening a libsodium sealed box (`crypto_box_seal`) addressed to the X25519 form of the Agent
 * Identity Ed25519 key: how the task registration may return `encrypted_task_id`
 * (remote-protocol.md §3.7 [source]). Layout: ephemeral X25519 public key (32) || XSalsa20-Poly1305
 * box with key HSalsa20(X25519(sk, epk), 0) and nonce BLAKE2b-192(epk || pk).
 */
import type { KeyObject } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hsalsa, xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { blake2b } from '@noble/hashes/blake2.js';

const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]); // "expand 32-byte k"

function words(bytes: Uint8Array): Uint32Array {
  const out = new Uint32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

function bytes(words32: Uint32Array): Uint8Array {
  const out = new Uint8Array(words32.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < words32.length; i++) view.setUint32(i * 4, words32[i]!, true);
  return out;
}

/** `crypto_box_beforenm`: HSalsa20 of the X25519 shared secret with a zero input. */
export function boxKey(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const shared = x25519.getSharedSecret(secretKey, publicKey);
  const out = new Uint32Array(8);
  hsalsa(SIGMA, words(shared), new Uint32Array(4), out);
  return bytes(out);
}

export function sealNonce(ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): Uint8Array {
  const input = new Uint8Array(64);
  input.set(ephemeralPublic, 0);
  input.set(recipientPublic, 32);
  return blake2b(input, { dkLen: 24 });
}

/** The X25519 key pair that corresponds to an Ed25519 private key. */
export function x25519FromEd25519(key: KeyObject): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const seed = Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
  const secretKey = ed25519.utils.toMontgomerySecret(seed);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/** The UTF-8 task id inside a base64 sealed box, or null when it does not open. */
export function openTaskIdBox(sealedBase64: string, key: KeyObject): string | null {
  try {
    const sealed = Buffer.from(sealedBase64, 'base64');
    if (sealed.length < 32 + 16) return null;
    const { secretKey, publicKey } = x25519FromEd25519(key);
    const ephemeral = sealed.subarray(0, 32);
    const plain = xsalsa20poly1305(boxKey(secretKey, ephemeral), sealNonce(ephemeral, publicKey)).decrypt(sealed.subarray(32));
    return new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch {
    return null;
  }
}
