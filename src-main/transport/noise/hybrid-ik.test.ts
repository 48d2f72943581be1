import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeCryptoBackend } from './crypto-backend.ts';
import { nobleCryptoBackend } from './noble-backend.ts';
import {
  encodePublicKeyJson,
  generateIdentity,
  HandshakeRequestError,
  HybridIkInitiator,
  HybridIkResponder,
  NOISE_PROTOCOL_NAME,
  NOISE_SUITE,
  parsePublicKeyJson,
  publicKeyOf,
  RegistryAuthRejectedError,
  REGISTRY_AUTH_REJECTED_PAYLOAD,
  relayPrologue,
  type StreamBinding,
} from './hybrid-ik.ts';

const executor = generateIdentity();
const harness = generateIdentity(nobleCryptoBackend);
const binding: StreamBinding = { environmentId: 'env-1', registrationId: 'reg-1', streamId: '6f10db64-8ad7-4c57-981c-367033a13649' };

function handshake(authorization: string, responderBinding = binding) {
  const initiator = new HybridIkInitiator({ ...binding, identity: harness, executorKey: publicKeyOf(executor) });
  const responder = new HybridIkResponder({ ...responderBinding, identity: executor });
  const msg1 = initiator.writeRequest(authorization);
  return { initiator, responder, msg1 };
}

test('names and sizes of the suite', () => {
  assert.equal(NOISE_SUITE, 'Noise_hybridIK_X25519+MLKEM768_AESGCM_SHA256');
  assert.equal(NOISE_PROTOCOL_NAME, 'Noise_hybridIK_25519+MLKEM768_AESGCM_SHA256');
  assert.equal(REGISTRY_AUTH_REJECTED_PAYLOAD.length, 41);
});

test('the prologue is four u64-big-endian length-prefixed strings', () => {
  const prologue = relayPrologue({ environmentId: 'e', registrationId: '', streamId: 'sé' });
  const expected =
    '0000000000000020' +
    Buffer.from('codex-exec-server-relay-noise/v1').toString('hex') +
    '0000000000000001' +
    '65' +
    '0000000000000000' +
    '0000000000000003' +
    '73c3a9';
  assert.equal(Buffer.from(prologue).toString('hex'), expected);
});

test('public keys: registry JSON round trip and strict parsing', () => {
  const key = publicKeyOf(executor);
  const json = encodePublicKeyJson(key);
  assert.deepEqual(Object.keys(json), ['suite', 'x25519_public_key', 'mlkem768_public_key']);
  assert.equal(json.x25519_public_key.length, 44);
  assert.equal(json.mlkem768_public_key.length, 1580);
  assert.deepEqual(parsePublicKeyJson(JSON.parse(JSON.stringify(json))), key);
  const bad = (patch: Record<string, unknown>, message: RegExp) => assert.throws(() => parsePublicKeyJson({ ...json, ...patch }), message);
  bad({ suite: 'Noise_IK_25519_AESGCM_SHA256' }, /unsupported Noise channel suite/);
  bad({ x25519_public_key: Buffer.alloc(31).toString('base64') }, /invalid X25519 public key/);
  bad({ x25519_public_key: json.x25519_public_key.replace(/=$/, '') }, /invalid X25519 public key/);
  bad({ x25519_public_key: Buffer.alloc(32, 0xff).toString('base64url') + '=' }, /invalid X25519 public key/); // URL-safe alphabet
  bad({ x25519_public_key: Buffer.alloc(32, 0xff).toString('base64').replace(/.=$/, '9=') }, /invalid X25519 public key/); // non-canonical last char
  bad({ mlkem768_public_key: Buffer.alloc(1183).toString('base64') }, /invalid ML-KEM-768 public key length/);
  bad({ extra: 1 }, /invalid Noise channel public key/);
  assert.throws(() => parsePublicKeyJson({ suite: NOISE_SUITE, x25519_public_key: json.x25519_public_key }), /invalid Noise channel public key/);
  assert.throws(() => parsePublicKeyJson('x'), /invalid Noise channel public key/);
});

test('initiator and responder agree; msg1 is 3568 + authorization bytes, msg2 is 3424', () => {
  const authorization = 'hka-0123456789';
  const { initiator, responder, msg1 } = handshake(authorization);
  assert.equal(msg1.length, 3568 + authorization.length);
  const request = responder.readRequest(msg1);
  assert.equal(request.authorization, authorization);
  assert.deepEqual(request.harnessKey, publicKeyOf(harness));
  const { message, transport: executorSide } = responder.writeResponse();
  assert.equal(message.length, 3424);
  const harnessSide = initiator.readResponse(message);
  assert.deepEqual(initiator.handshakeHash, responder.handshakeHash);
  const out = harnessSide.sealMessage(new TextEncoder().encode('{"id":1,"method":"initialize"}'));
  assert.equal(Buffer.from(executorSide.receiveRecord(out[0]!.seq, out[0]!.ciphertext)[0]!).toString(), '{"id":1,"method":"initialize"}');
  const back = executorSide.sealMessage(new TextEncoder().encode('{"id":1,"result":{}}'));
  assert.equal(Buffer.from(harnessSide.receiveRecord(back[0]!.seq, back[0]!.ciphertext)[0]!).toString(), '{"id":1,"result":{}}');
});

test('the prologue binds the stream: another stream id, registration or environment fails msg1', () => {
  for (const other of [
    { ...binding, streamId: 'other' },
    { ...binding, registrationId: 'reg-2' },
    { ...binding, environmentId: 'env-2' },
  ]) {
    const { responder, msg1 } = handshake('a', other);
    assert.throws(() => responder.readRequest(msg1), (e: Error) => e instanceof HandshakeRequestError && e.reason === 'handshake_request');
  }
});

test('authorization: empty and 4096 bytes accepted, 4097 bytes and non-UTF-8 refused', () => {
  assert.equal(handshake('').responder.readRequest(handshake('').msg1).authorization, '');
  const max = 'é'.repeat(2048);
  const ok = handshake(max);
  assert.equal(ok.responder.readRequest(ok.msg1).authorization, max);
  const long = handshake('x'.repeat(4097));
  assert.throws(() => long.responder.readRequest(long.msg1), (e: Error) => e instanceof HandshakeRequestError && e.reason === 'authorization_too_long');
  // a harness that puts raw bytes in the payload
  const initiator = new HybridIkInitiator({ ...binding, identity: harness, executorKey: publicKeyOf(executor) });
  const raw = (initiator as unknown as { handshake: { writeMessage(p: Uint8Array): Uint8Array } }).handshake.writeMessage(Uint8Array.of(0xff, 0xfe));
  const responder = new HybridIkResponder({ ...binding, identity: executor });
  assert.throws(() => responder.readRequest(raw), (e: Error) => e instanceof HandshakeRequestError && e.reason === 'authorization_not_utf8');
});

test('msg2 payload: the 7.3 marker and any other non-empty payload fail the harness side', () => {
  const rejected = handshake('a');
  rejected.responder.readRequest(rejected.msg1);
  const marker = rejected.responder.writeResponse(new TextEncoder().encode(REGISTRY_AUTH_REJECTED_PAYLOAD)).message;
  assert.equal(marker.length, 3465);
  assert.throws(() => rejected.initiator.readResponse(marker), RegistryAuthRejectedError);
  const other = handshake('a');
  other.responder.readRequest(other.msg1);
  assert.throws(() => other.initiator.readResponse(other.responder.writeResponse(Uint8Array.of(1)).message), /handshake response payload must be empty/);
});

test('the harness refuses a msg2 from a responder with other static keys', () => {
  const { msg1 } = handshake('a');
  const impostor = new HybridIkResponder({ ...binding, identity: generateIdentity(nodeCryptoBackend) });
  assert.throws(() => impostor.readRequest(msg1));
});
