/** Test support: `crypto_box_seal` of a task id to an Agent Identity key (the inverse of sealed-box.ts). */
import type { KeyObject } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { boxKey, sealNonce, x25519FromEd25519 } from '../sealed-box.ts';

export function sealTaskId(taskId: string, key: KeyObject): string {
  const { publicKey } = x25519FromEd25519(key);
  const ephemeralSecret = x25519.utils.randomSecretKey();
  const ephemeralPublic = x25519.getPublicKey(ephemeralSecret);
  const box = xsalsa20poly1305(boxKey(ephemeralSecret, publicKey), sealNonce(ephemeralPublic, publicKey)).encrypt(new TextEncoder().encode(taskId));
  return Buffer.concat([ephemeralPublic, box]).toString('base64');
}
