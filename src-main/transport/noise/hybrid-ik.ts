/**
 * The relay's Noise suite as codex-cli 0.169.0 runs it (remote-protocol.md §8):
 * `Noise_hybridIK_25519+MLKEM768_AESGCM_SHA256`, a prologue binding the environment, the
 * executor registration and the stream, the harness's registry authorization as msg1 payload,
 * and an empty msg2 payload (or the registry-rejection marker).
 *
 * Harness = initiator (knows the executor's static keys from the registry's `/connect`);
 * executor = responder (learns the harness keys from msg1 and has `/validate` authorize them).
 */
import { nodeCryptoBackend, MLKEM768_PUBLIC_KEY_BYTES, X25519_KEY_BYTES, type CryptoBackend, type KemKeyPair, type X25519KeyPair } from './crypto-backend.ts';
import { HandshakeState, PATTERN_HYBRID_IK, protocolName, type HandshakeOptions } from './handshake-state.ts';
import { NoiseError } from './symmetric-state.ts';
import { NoiseTransport } from './transport.ts';

/** The suite tag in registry JSON (`X25519`, where the protocol name says `25519`). */
export const NOISE_SUITE = 'Noise_hybridIK_X25519+MLKEM768_AESGCM_SHA256';
/** Hashed into the initial handshake state. */
export const NOISE_PROTOCOL_NAME = protocolName(PATTERN_HYBRID_IK);
/** Registry `security_profile`. */
export const SECURITY_PROFILE = 'noise_hybrid_ik_v1';
export const PROLOGUE_DOMAIN = 'codex-exec-server-relay-noise/v1';
/** msg2 payload when the registry rejected the executor's own credential during `/validate` (401). */
export const REGISTRY_AUTH_REJECTED_PAYLOAD = 'codex-registry-authentication-rejected/v1';
/** Largest harness authorization (msg1 payload) the executor accepts, in bytes. */
export const MAX_AUTHORIZATION_BYTES = 4096;

export interface NoiseIdentity {
  x25519: X25519KeyPair;
  mlkem: KemKeyPair;
}

export interface NoisePublicKey {
  x25519: Uint8Array;
  mlkem: Uint8Array;
}

/** `{suite, x25519_public_key, mlkem768_public_key}` as the registry carries it. */
export interface NoiseChannelPublicKeyJson {
  suite: string;
  x25519_public_key: string;
  mlkem768_public_key: string;
}

export function generateIdentity(crypto: CryptoBackend = nodeCryptoBackend): NoiseIdentity {
  return { x25519: crypto.x25519Generate(), mlkem: crypto.mlkemGenerate() };
}

export function publicKeyOf(identity: NoiseIdentity): NoisePublicKey {
  return { x25519: identity.x25519.publicKey, mlkem: identity.mlkem.publicKey };
}

export function encodePublicKeyJson(key: NoisePublicKey): NoiseChannelPublicKeyJson {
  return {
    suite: NOISE_SUITE,
    x25519_public_key: Buffer.from(key.x25519).toString('base64'),
    mlkem768_public_key: Buffer.from(key.mlkem).toString('base64'),
  };
}

/** Standard alphabet with padding, canonical (what Rust's base64 STANDARD engine accepts). */
function decodeBase64Strict(text: string): Uint8Array | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? new Uint8Array(bytes) : null;
}

/** Parses a registry key object; exactly the three members, the suite, and the key sizes. */
export function parsePublicKeyJson(value: unknown): NoisePublicKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new NoiseError('invalid Noise channel public key');
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  if (keys.join(',') !== 'mlkem768_public_key,suite,x25519_public_key') throw new NoiseError('invalid Noise channel public key');
  if (record.suite !== NOISE_SUITE) throw new NoiseError('unsupported Noise channel suite');
  const x25519 = typeof record.x25519_public_key === 'string' ? decodeBase64Strict(record.x25519_public_key) : null;
  if (!x25519 || x25519.length !== X25519_KEY_BYTES) throw new NoiseError('invalid X25519 public key');
  const mlkem = typeof record.mlkem768_public_key === 'string' ? decodeBase64Strict(record.mlkem768_public_key) : null;
  if (!mlkem || mlkem.length !== MLKEM768_PUBLIC_KEY_BYTES) throw new NoiseError('invalid ML-KEM-768 public key length');
  return { x25519, mlkem };
}

export interface StreamBinding {
  environmentId: string;
  registrationId: string;
  streamId: string;
}

/** L(d)‖d‖L(e)‖e‖L(r)‖r‖L(s)‖s with L = u64 big-endian byte length. */
export function relayPrologue(binding: StreamBinding): Uint8Array {
  const parts = [PROLOGUE_DOMAIN, binding.environmentId, binding.registrationId, binding.streamId].map((s) => Buffer.from(s, 'utf8'));
  const out = Buffer.alloc(parts.reduce((n, p) => n + 8 + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.writeBigUInt64BE(BigInt(part.length), offset);
    part.copy(out, offset + 8);
    offset += 8 + part.length;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

interface CommonOptions extends StreamBinding {
  identity: NoiseIdentity;
  crypto?: CryptoBackend;
  /** Test hooks: fixed ephemeral keys and KEM randomness. */
  testing?: Pick<HandshakeOptions, 'e' | 'kemRandomness'>;
}

export class RegistryAuthRejectedError extends NoiseError {
  constructor() {
    super('executor registry authentication rejected');
  }
}

/** The harness side: msg1 out, msg2 in. */
export class HybridIkInitiator {
  private readonly handshake: HandshakeState;

  constructor(options: CommonOptions & { executorKey: NoisePublicKey }) {
    this.handshake = new HandshakeState({
      crypto: options.crypto ?? nodeCryptoBackend,
      pattern: PATTERN_HYBRID_IK,
      initiator: true,
      prologue: relayPrologue(options),
      s: options.identity,
      rs: options.executorKey,
      ...options.testing,
    });
  }

  /** msg1, carrying the registry's `harness_key_authorization`. */
  writeRequest(authorization: string): Uint8Array {
    return this.handshake.writeMessage(new TextEncoder().encode(authorization));
  }

  /**
   * Reads msg2. Throws RegistryAuthRejectedError for the 7.3 marker, NoiseError for a crypto
   * failure or any other non-empty payload.
   */
  readResponse(message: Uint8Array): NoiseTransport {
    const payload = this.handshake.readMessage(message);
    if (payload.length > 0) {
      if (Buffer.from(payload).toString('latin1') === REGISTRY_AUTH_REJECTED_PAYLOAD) throw new RegistryAuthRejectedError();
      throw new NoiseError('handshake response payload must be empty');
    }
    const { send, receive } = this.handshake.completion;
    return new NoiseTransport(send, receive);
  }

  get handshakeHash(): Uint8Array {
    return this.handshake.handshakeHash;
  }
}

/** Why a msg1 was refused (the executor's failure reasons). */
export type RequestRejection = 'handshake_request' | 'authorization_too_long' | 'authorization_not_utf8';

export class HandshakeRequestError extends NoiseError {
  constructor(readonly reason: RequestRejection, message: string) {
    super(message);
  }
}

/** The executor side: msg1 in, msg2 out. */
export class HybridIkResponder {
  private readonly handshake: HandshakeState;

  constructor(options: CommonOptions) {
    this.handshake = new HandshakeState({
      crypto: options.crypto ?? nodeCryptoBackend,
      pattern: PATTERN_HYBRID_IK,
      initiator: false,
      prologue: relayPrologue(options),
      s: options.identity,
      ...options.testing,
    });
  }

  /** Reads msg1: the harness's static keys and its authorization (UTF-8, ≤ 4096 bytes). */
  readRequest(message: Uint8Array): { harnessKey: NoisePublicKey; authorization: string } {
    let payload: Uint8Array;
    try {
      payload = this.handshake.readMessage(message);
    } catch (error) {
      throw new HandshakeRequestError('handshake_request', (error as Error).message);
    }
    if (payload.length > MAX_AUTHORIZATION_BYTES) throw new HandshakeRequestError('authorization_too_long', 'handshake authorization is too long');
    let authorization: string;
    try {
      authorization = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(payload);
    } catch {
      throw new HandshakeRequestError('authorization_not_utf8', 'handshake authorization is not UTF-8');
    }
    const rs = this.handshake.remoteStatic!;
    return { harnessKey: { x25519: rs.x25519, mlkem: rs.mlkem! }, authorization };
  }

  /** msg2 (empty payload unless it is the registry-rejection marker) and the transport. */
  writeResponse(payload: Uint8Array = new Uint8Array(0)): { message: Uint8Array; transport: NoiseTransport } {
    const message = this.handshake.writeMessage(payload);
    const { send, receive } = this.handshake.completion;
    return { message, transport: new NoiseTransport(send, receive) };
  }

  get handshakeHash(): Uint8Array {
    return this.handshake.handshakeHash;
  }
}
