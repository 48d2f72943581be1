/**
 * The token machinery is checked against straight-line models of the Noise spec written
 * directly on @noble primitives (no SymmetricState, no token tables, noble's own HKDF): an
 * independent implementation path, so an error in one would show up as a byte difference.
 * Both crypto backends must produce identical messages and interoperate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { x25519 } from '@noble/curves/ed25519.js';
import { gcm } from '@noble/ciphers/aes.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { nodeCryptoBackend, type CryptoBackend } from './crypto-backend.ts';
import { nobleCryptoBackend } from './noble-backend.ts';
import {
  HandshakeState,
  PATTERN_HYBRID_IK,
  PATTERN_IK,
  PATTERN_NN,
  PATTERN_XX,
  protocolName,
  type LocalKeys,
} from './handshake-state.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const utf8 = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const seedKey = (label: string) => sha256(utf8(label));
const x25519Keys = (label: string): LocalKeys['x25519'] => {
  const privateKey = seedKey(label);
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
};
const kemKeys = (label: string) => {
  const { publicKey, secretKey } = ml_kem768.keygen(cat(seedKey(label + '/d'), seedKey(label + '/z')));
  return { publicKey, secretKey };
};
const nonce = (n: number) => {
  const out = new Uint8Array(12);
  new DataView(out.buffer).setBigUint64(4, BigInt(n));
  return out;
};
const EMPTY = new Uint8Array(0);

/** A minimal symmetric state written straight from the spec, on noble. */
class Model {
  h: Uint8Array;
  ck: Uint8Array;
  k: Uint8Array | null = null;
  n = 0;
  constructor(name: string, prologue: Uint8Array) {
    const bytes = utf8(name);
    this.h = bytes.length <= 32 ? cat(bytes, new Uint8Array(32 - bytes.length)) : sha256(bytes);
    this.ck = this.h;
    this.mixHash(prologue);
  }
  mixHash(d: Uint8Array) {
    this.h = sha256(cat(this.h, d));
  }
  mixKey(ikm: Uint8Array) {
    const okm = hkdf(sha256, ikm, this.ck, undefined, 64);
    this.ck = okm.slice(0, 32);
    this.k = okm.slice(32, 64);
    this.n = 0;
  }
  mixKeyAndHash(ikm: Uint8Array) {
    const okm = hkdf(sha256, ikm, this.ck, undefined, 96);
    this.ck = okm.slice(0, 32);
    this.mixHash(okm.slice(32, 64));
    this.k = okm.slice(64, 96);
    this.n = 0;
  }
  encryptAndHash(p: Uint8Array) {
    const c = this.k ? gcm(this.k, nonce(this.n++), this.h).encrypt(p) : p;
    this.mixHash(c);
    return c;
  }
  split(): [Uint8Array, Uint8Array] {
    const okm = hkdf(sha256, EMPTY, this.ck, undefined, 64);
    return [okm.slice(0, 32), okm.slice(32, 64)];
  }
}

const backends: CryptoBackend[] = [nodeCryptoBackend, nobleCryptoBackend];

test('protocol names', () => {
  assert.equal(protocolName(PATTERN_IK), 'Noise_IK_25519_AESGCM_SHA256');
  assert.equal(protocolName(PATTERN_HYBRID_IK), 'Noise_hybridIK_25519+MLKEM768_AESGCM_SHA256');
});

test('Noise_IK_25519_AESGCM_SHA256 matches the straight-line model, both backends', () => {
  const prologue = utf8('John Galt');
  const is = x25519Keys('init static'),
    ie = x25519Keys('init ephemeral'),
    rs = x25519Keys('resp static'),
    re = x25519Keys('resp ephemeral');
  const p1 = utf8('Ludwig von Mises'),
    p2 = utf8('Murray Rothbard');

  // model: <- s ; -> e, es, s, ss ; <- e, ee, se
  const m = new Model('Noise_IK_25519_AESGCM_SHA256', prologue);
  m.mixHash(rs.publicKey);
  m.mixHash(ie.publicKey);
  m.mixKey(x25519.getSharedSecret(ie.privateKey, rs.publicKey));
  const sCipher = m.encryptAndHash(is.publicKey);
  m.mixKey(x25519.getSharedSecret(is.privateKey, rs.publicKey));
  const msg1 = cat(ie.publicKey, sCipher, m.encryptAndHash(p1));
  m.mixHash(re.publicKey);
  m.mixKey(x25519.getSharedSecret(re.privateKey, ie.publicKey));
  m.mixKey(x25519.getSharedSecret(re.privateKey, is.publicKey));
  const msg2 = cat(re.publicKey, m.encryptAndHash(p2));
  const [k1, k2] = m.split();

  for (const crypto of backends) {
    const initiator = new HandshakeState({ crypto, pattern: PATTERN_IK, initiator: true, prologue, s: { x25519: is }, e: { x25519: ie }, rs: { x25519: rs.publicKey } });
    const responder = new HandshakeState({ crypto, pattern: PATTERN_IK, initiator: false, prologue, s: { x25519: rs }, e: { x25519: re } });
    const w1 = initiator.writeMessage(p1);
    assert.equal(hex(w1), hex(msg1), crypto.name);
    assert.equal(hex(responder.readMessage(w1)), hex(p1));
    const w2 = responder.writeMessage(p2);
    assert.equal(hex(w2), hex(msg2), crypto.name);
    assert.equal(hex(initiator.readMessage(w2)), hex(p2));
    assert.equal(hex(initiator.handshakeHash), hex(m.h));
    assert.equal(hex(responder.completion.remoteStatic!.x25519), hex(is.publicKey));
    // transport: k1 initiator→responder, k2 responder→initiator, nonces from 0
    const t = utf8('transport');
    const c = initiator.completion.send.encryptWithAd(EMPTY, t);
    assert.equal(hex(c), hex(gcm(k1, nonce(0), EMPTY).encrypt(t)));
    assert.equal(hex(responder.completion.receive.decryptWithAd(EMPTY, c)), hex(t));
    const back = responder.completion.send.encryptWithAd(EMPTY, t);
    assert.equal(hex(back), hex(gcm(k2, nonce(0), EMPTY).encrypt(t)));
    assert.equal(hex(initiator.completion.receive.decryptWithAd(EMPTY, back)), hex(t));
  }
});

test('Noise_XX and Noise_NN match the straight-line model', () => {
  const prologue = utf8('');
  const is = x25519Keys('xx is'),
    ie = x25519Keys('xx ie'),
    rs = x25519Keys('xx rs'),
    re = x25519Keys('xx re');
  // XX: -> e ; <- e, ee, s, es ; -> s, se
  const m = new Model('Noise_XX_25519_AESGCM_SHA256', prologue);
  m.mixHash(ie.publicKey);
  const msg1 = cat(ie.publicKey, m.encryptAndHash(utf8('a')));
  m.mixHash(re.publicKey);
  m.mixKey(x25519.getSharedSecret(ie.privateKey, re.publicKey));
  const rsCipher = m.encryptAndHash(rs.publicKey);
  m.mixKey(x25519.getSharedSecret(ie.privateKey, rs.publicKey));
  const msg2 = cat(re.publicKey, rsCipher, m.encryptAndHash(utf8('bb')));
  const isCipher = m.encryptAndHash(is.publicKey);
  m.mixKey(x25519.getSharedSecret(is.privateKey, re.publicKey));
  const msg3 = cat(isCipher, m.encryptAndHash(utf8('')));

  const initiator = new HandshakeState({ crypto: nodeCryptoBackend, pattern: PATTERN_XX, initiator: true, prologue, s: { x25519: is }, e: { x25519: ie } });
  const responder = new HandshakeState({ crypto: nobleCryptoBackend, pattern: PATTERN_XX, initiator: false, prologue, s: { x25519: rs }, e: { x25519: re } });
  const w1 = initiator.writeMessage(utf8('a'));
  assert.equal(hex(w1), hex(msg1));
  responder.readMessage(w1);
  const w2 = responder.writeMessage(utf8('bb'));
  assert.equal(hex(w2), hex(msg2));
  initiator.readMessage(w2);
  const w3 = initiator.writeMessage();
  assert.equal(hex(w3), hex(msg3));
  responder.readMessage(w3);
  assert.equal(hex(responder.handshakeHash), hex(m.h));
  assert.equal(hex(responder.completion.remoteStatic!.x25519), hex(is.publicKey));

  // NN: short name (≤ 32 bytes) is zero-padded, not hashed
  const n = new Model('Noise_NN_25519_AESGCM_SHA256', utf8('p'));
  n.mixHash(ie.publicKey);
  const nn1 = cat(ie.publicKey, n.encryptAndHash(EMPTY));
  const nnI = new HandshakeState({ crypto: nodeCryptoBackend, pattern: PATTERN_NN, initiator: true, prologue: utf8('p'), e: { x25519: ie } });
  assert.equal(hex(nnI.writeMessage()), hex(nn1));
});

test('hybridIK matches the straight-line model of remote-protocol.md §8.4, both backends', () => {
  const prologue = utf8('a prologue');
  const is = { x25519: x25519Keys('h is'), mlkem: kemKeys('h is') };
  const ie = { x25519: x25519Keys('h ie'), mlkem: kemKeys('h ie') };
  const rs = { x25519: x25519Keys('h rs'), mlkem: kemKeys('h rs') };
  const re = { x25519: x25519Keys('h re'), mlkem: kemKeys('h re') };
  const randomness = [seedKey('kem 1'), seedKey('kem 2'), seedKey('kem 3')];
  const authorization = utf8('harness-key-authorization');

  const m = new Model('Noise_hybridIK_25519+MLKEM768_AESGCM_SHA256', prologue);
  m.mixHash(rs.x25519.publicKey);
  m.mixHash(rs.mlkem.publicKey);
  // msg1: skem, e, es, s, ss
  const skem1 = ml_kem768.encapsulate(rs.mlkem.publicKey, randomness[0]);
  const skem1c = m.encryptAndHash(skem1.cipherText); // no key yet: clear
  m.mixKeyAndHash(skem1.sharedSecret);
  m.mixHash(ie.x25519.publicKey);
  m.mixHash(ie.mlkem.publicKey);
  m.mixKey(x25519.getSharedSecret(ie.x25519.privateKey, rs.x25519.publicKey));
  const sx = m.encryptAndHash(is.x25519.publicKey);
  const sk = m.encryptAndHash(is.mlkem.publicKey);
  m.mixKey(x25519.getSharedSecret(is.x25519.privateKey, rs.x25519.publicKey));
  const msg1 = cat(skem1c, ie.x25519.publicKey, ie.mlkem.publicKey, sx, sk, m.encryptAndHash(authorization));
  assert.equal(msg1.length, 3568 + authorization.length);
  // msg2: ekem, skem, e, ee, se
  const ekem = ml_kem768.encapsulate(ie.mlkem.publicKey, randomness[1]);
  m.mixHash(ekem.cipherText);
  m.mixKey(ekem.sharedSecret);
  const skem2 = ml_kem768.encapsulate(is.mlkem.publicKey, randomness[2]);
  const skem2c = m.encryptAndHash(skem2.cipherText);
  m.mixKeyAndHash(skem2.sharedSecret);
  m.mixHash(re.x25519.publicKey);
  m.mixHash(re.mlkem.publicKey);
  m.mixKey(x25519.getSharedSecret(re.x25519.privateKey, ie.x25519.publicKey));
  m.mixKey(x25519.getSharedSecret(re.x25519.privateKey, is.x25519.publicKey));
  const msg2 = cat(ekem.cipherText, skem2c, re.x25519.publicKey, re.mlkem.publicKey, m.encryptAndHash(EMPTY));
  assert.equal(msg2.length, 3424);
  const [k1, k2] = m.split();

  for (const crypto of backends) {
    let i = 0;
    const initiator = new HandshakeState({
      crypto,
      pattern: PATTERN_HYBRID_IK,
      initiator: true,
      prologue,
      s: is,
      e: ie,
      rs: { x25519: rs.x25519.publicKey, mlkem: rs.mlkem.publicKey },
      kemRandomness: () => randomness[0]!,
    });
    const responder = new HandshakeState({
      crypto,
      pattern: PATTERN_HYBRID_IK,
      initiator: false,
      prologue,
      s: rs,
      e: re,
      kemRandomness: () => randomness[1 + i++]!,
    });
    const w1 = initiator.writeMessage(authorization);
    assert.equal(hex(w1), hex(msg1), crypto.name);
    assert.equal(hex(responder.readMessage(w1)), hex(authorization));
    assert.equal(hex(responder.remoteStatic!.mlkem!), hex(is.mlkem.publicKey));
    const w2 = responder.writeMessage();
    assert.equal(hex(w2), hex(msg2), crypto.name);
    assert.equal(initiator.readMessage(w2).length, 0);
    assert.equal(hex(initiator.handshakeHash), hex(m.h));
    assert.equal(hex(responder.handshakeHash), hex(m.h));
    const t = utf8('{"id":1}');
    assert.equal(hex(initiator.completion.send.encryptWithAd(EMPTY, t)), hex(gcm(k1, nonce(0), EMPTY).encrypt(t)));
    assert.equal(hex(responder.completion.send.encryptWithAd(EMPTY, t)), hex(gcm(k2, nonce(0), EMPTY).encrypt(t)));
  }
});

test('hybridIK interoperates across backends with fresh random keys', () => {
  for (const [a, b] of [
    [nodeCryptoBackend, nobleCryptoBackend],
    [nobleCryptoBackend, nodeCryptoBackend],
  ] as const) {
    const is = { x25519: a.x25519Generate(), mlkem: a.mlkemGenerate() };
    const rs = { x25519: b.x25519Generate(), mlkem: b.mlkemGenerate() };
    const initiator = new HandshakeState({ crypto: a, pattern: PATTERN_HYBRID_IK, initiator: true, prologue: EMPTY, s: is, rs: { x25519: rs.x25519.publicKey, mlkem: rs.mlkem.publicKey } });
    const responder = new HandshakeState({ crypto: b, pattern: PATTERN_HYBRID_IK, initiator: false, prologue: EMPTY, s: rs });
    responder.readMessage(initiator.writeMessage(utf8('x')));
    initiator.readMessage(responder.writeMessage());
    const c = initiator.completion.send.encryptWithAd(EMPTY, utf8('hello'));
    assert.equal(Buffer.from(responder.completion.receive.decryptWithAd(EMPTY, c)).toString(), 'hello');
  }
});

test('any flipped bit, a different prologue or the wrong responder key fails the handshake', () => {
  const crypto = nodeCryptoBackend;
  const is = { x25519: crypto.x25519Generate(), mlkem: crypto.mlkemGenerate() };
  const rs = { x25519: crypto.x25519Generate(), mlkem: crypto.mlkemGenerate() };
  const other = { x25519: crypto.x25519Generate(), mlkem: crypto.mlkemGenerate() };
  const make = (prologue: Uint8Array, responderKeys = rs) => ({
    initiator: new HandshakeState({ crypto, pattern: PATTERN_HYBRID_IK, initiator: true, prologue: EMPTY, s: is, rs: { x25519: rs.x25519.publicKey, mlkem: rs.mlkem.publicKey } }),
    responder: new HandshakeState({ crypto, pattern: PATTERN_HYBRID_IK, initiator: false, prologue, s: responderKeys }),
  });
  const base = make(EMPTY).initiator.writeMessage(utf8('auth'));
  // flip one bit in each region: skem ct, e (x25519, mlkem), s, payload
  for (const offset of [0, 1088, 1088 + 32 + 5, 2304 + 10, 3400, base.length - 1]) {
    const { initiator, responder } = make(EMPTY);
    const msg = initiator.writeMessage(utf8('auth'));
    msg[offset]! ^= 0x01;
    assert.throws(() => responder.readMessage(msg), `offset ${offset}`);
  }
  assert.throws(() => make(utf8('other')).responder.readMessage(base));
  assert.throws(() => make(EMPTY, other).responder.readMessage(base));
  assert.throws(() => make(EMPTY).responder.readMessage(base.subarray(0, 3000)));
  // turn order is enforced
  const { initiator, responder } = make(EMPTY);
  assert.throws(() => responder.writeMessage());
  assert.throws(() => initiator.readMessage(base));
});
