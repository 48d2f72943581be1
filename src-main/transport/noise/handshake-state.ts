/**
 * Noise HandshakeState (Noise spec rev. 34 §5.3) driven by token tables, with the hybrid KEM
 * tokens that codex-cli 0.169.0 uses (remote-protocol.md §8.4). The same machinery runs the
 * classical patterns (IK, XX, NN over 25519/AESGCM/SHA256), which is how it is tested against
 * the Noise spec independently of the hybrid pattern.
 *
 * Hybrid patterns (`hybrid: true`): every `e` and `s` carries an X25519 key followed by an
 * ML-KEM-768 key, each mixed separately;
 *   `ekem` — writer encapsulates to the peer's ephemeral ML-KEM key, sends ct in clear,
 *            MixHash(ct), MixKey(ss);
 *   `skem` — writer encapsulates to the peer's static ML-KEM key, EncryptAndHash(ct),
 *            MixKeyAndHash(ss); the reader decapsulates the decrypted ct.
 */
import type { CryptoBackend, KemKeyPair, X25519KeyPair } from './crypto-backend.ts';
import {
  AEAD_TAG_BYTES,
  MLKEM768_CIPHERTEXT_BYTES,
  MLKEM768_PUBLIC_KEY_BYTES,
  X25519_KEY_BYTES,
} from './crypto-backend.ts';
import { CipherState, NoiseError, SymmetricState } from './symmetric-state.ts';

export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'ekem' | 'skem';

export interface HandshakePattern {
  name: string;
  /** Pre-message keys of the initiator (known to the responder in advance), then of the responder. */
  initiatorPre: Array<'e' | 's'>;
  responderPre: Array<'e' | 's'>;
  /** Messages alternate, the first written by the initiator. */
  messages: Token[][];
  /** `e`/`s` carry X25519 + ML-KEM-768 keys; KEM tokens are allowed. */
  hybrid: boolean;
}

export const PATTERN_NN: HandshakePattern = { name: 'NN', initiatorPre: [], responderPre: [], messages: [['e'], ['e', 'ee']], hybrid: false };
export const PATTERN_IK: HandshakePattern = {
  name: 'IK',
  initiatorPre: [],
  responderPre: ['s'],
  messages: [
    ['e', 'es', 's', 'ss'],
    ['e', 'ee', 'se'],
  ],
  hybrid: false,
};
export const PATTERN_XX: HandshakePattern = {
  name: 'XX',
  initiatorPre: [],
  responderPre: [],
  messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']],
  hybrid: false,
};
/** codex-cli 0.169.0 (clatter 2.2 order; older source had the responder's tokens as e, ee, se, ekem, skem). */
export const PATTERN_HYBRID_IK: HandshakePattern = {
  name: 'hybridIK',
  initiatorPre: [],
  responderPre: ['s'],
  messages: [
    ['skem', 'e', 'es', 's', 'ss'],
    ['ekem', 'skem', 'e', 'ee', 'se'],
  ],
  hybrid: true,
};

/** `Noise_<pattern>_25519[+MLKEM768]_AESGCM_SHA256` */
export function protocolName(pattern: HandshakePattern): string {
  return `Noise_${pattern.name}_${pattern.hybrid ? '25519+MLKEM768' : '25519'}_AESGCM_SHA256`;
}

export const MAX_NOISE_MESSAGE_BYTES = 65535;

export interface LocalKeys {
  x25519: X25519KeyPair;
  /** Required in hybrid patterns. */
  mlkem?: KemKeyPair;
}

export interface RemoteKeys {
  x25519: Uint8Array;
  mlkem?: Uint8Array;
}

export interface HandshakeOptions {
  crypto: CryptoBackend;
  pattern: HandshakePattern;
  initiator: boolean;
  prologue: Uint8Array;
  /** Local static keys. */
  s?: LocalKeys;
  /** The peer's static keys when a pre-message carries them. */
  rs?: RemoteKeys;
  /** Fixed local ephemeral keys (test vectors only; normally generated on the `e` token). */
  e?: LocalKeys;
  /** The peer's ephemeral keys when a pre-message carries them. */
  re?: RemoteKeys;
  /** Fixed ML-KEM encapsulation randomness, called once per KEM token written (tests only). */
  kemRandomness?: () => Uint8Array;
}

export interface HandshakeResult {
  /** Encrypts what this side sends. */
  send: CipherState;
  /** Decrypts what this side receives. */
  receive: CipherState;
  handshakeHash: Uint8Array;
  remoteStatic: RemoteKeys | undefined;
}

/** Reads consecutive fields from a handshake message. */
class Cursor {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}
  take(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) throw new NoiseError('handshake message is too short');
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
  rest(): Uint8Array {
    const out = this.bytes.subarray(this.offset);
    this.offset = this.bytes.length;
    return out;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export class HandshakeState {
  private readonly crypto: CryptoBackend;
  private readonly pattern: HandshakePattern;
  private readonly initiator: boolean;
  private readonly symmetric: SymmetricState;
  private s: LocalKeys | undefined;
  private e: LocalKeys | undefined;
  private rs: RemoteKeys | undefined;
  private re: RemoteKeys | undefined;
  private readonly kemRandomness: (() => Uint8Array) | undefined;
  private messageIndex = 0;
  private result: HandshakeResult | null = null;

  constructor(options: HandshakeOptions) {
    this.crypto = options.crypto;
    this.pattern = options.pattern;
    this.initiator = options.initiator;
    this.s = options.s;
    this.e = options.e;
    this.rs = options.rs;
    this.re = options.re;
    this.kemRandomness = options.kemRandomness;
    if (this.pattern.hybrid && this.s && !this.s.mlkem) throw new NoiseError('hybrid pattern needs an ML-KEM static key');

    this.symmetric = new SymmetricState(this.crypto, protocolName(this.pattern));
    this.symmetric.mixHash(options.prologue);
    // Pre-messages: the initiator's keys first, then the responder's.
    const initiatorKeys = this.initiator ? { s: this.s && this.publicOf(this.s), e: this.e && this.publicOf(this.e) } : { s: this.rs, e: this.re };
    const responderKeys = this.initiator ? { s: this.rs, e: this.re } : { s: this.s && this.publicOf(this.s), e: this.e && this.publicOf(this.e) };
    for (const [tokens, keys] of [
      [this.pattern.initiatorPre, initiatorKeys],
      [this.pattern.responderPre, responderKeys],
    ] as const) {
      for (const token of tokens) {
        const key = keys[token];
        if (!key) throw new NoiseError(`missing pre-message key ${token}`);
        this.mixPublic(key);
      }
    }
  }

  private publicOf(keys: LocalKeys): RemoteKeys {
    return { x25519: keys.x25519.publicKey, mlkem: keys.mlkem?.publicKey };
  }

  private mixPublic(key: RemoteKeys): void {
    this.symmetric.mixHash(key.x25519);
    if (this.pattern.hybrid) {
      if (!key.mlkem) throw new NoiseError('hybrid pattern needs an ML-KEM key');
      this.symmetric.mixHash(key.mlkem);
    }
  }

  /** Whose turn it is. */
  get isMyTurn(): boolean {
    return (this.messageIndex % 2 === 0) === this.initiator;
  }

  get isComplete(): boolean {
    return this.result !== null;
  }

  /** The transport ciphers once the last message has been written or read. */
  get completion(): HandshakeResult {
    if (!this.result) throw new NoiseError('handshake is not complete');
    return this.result;
  }

  private nextTokens(writing: boolean): Token[] {
    if (this.result) throw new NoiseError('handshake is already complete');
    if (this.isMyTurn !== writing) throw new NoiseError(writing ? 'not our turn to write' : 'not our turn to read');
    return this.pattern.messages[this.messageIndex]!;
  }

  private dh(token: 'ee' | 'es' | 'se' | 'ss'): Uint8Array {
    // es = initiator e × responder s; se = initiator s × responder e.
    const [mine, theirs] = (() => {
      switch (token) {
        case 'ee':
          return [this.e, this.re];
        case 'ss':
          return [this.s, this.rs];
        case 'es':
          return this.initiator ? [this.e, this.rs] : [this.s, this.re];
        case 'se':
          return this.initiator ? [this.s, this.re] : [this.e, this.rs];
      }
    })();
    if (!mine || !theirs) throw new NoiseError(`missing key for ${token}`);
    return this.crypto.x25519(mine.x25519.privateKey, theirs.x25519);
  }

  private encapsulate(publicKey: Uint8Array | undefined) {
    if (!publicKey) throw new NoiseError('missing peer ML-KEM key');
    return this.crypto.mlkemEncapsulate(publicKey, this.kemRandomness?.());
  }

  writeMessage(payload: Uint8Array = new Uint8Array(0)): Uint8Array {
    const tokens = this.nextTokens(true);
    const out: Uint8Array[] = [];
    for (const token of tokens) {
      switch (token) {
        case 'e': {
          if (!this.e) {
            this.e = { x25519: this.crypto.x25519Generate() };
            if (this.pattern.hybrid) this.e.mlkem = this.crypto.mlkemGenerate();
          }
          out.push(this.e.x25519.publicKey);
          this.symmetric.mixHash(this.e.x25519.publicKey);
          if (this.pattern.hybrid) {
            out.push(this.e.mlkem!.publicKey);
            this.symmetric.mixHash(this.e.mlkem!.publicKey);
          }
          break;
        }
        case 's': {
          if (!this.s) throw new NoiseError('missing local static key');
          out.push(this.symmetric.encryptAndHash(this.s.x25519.publicKey));
          if (this.pattern.hybrid) out.push(this.symmetric.encryptAndHash(this.s.mlkem!.publicKey));
          break;
        }
        case 'ee':
        case 'es':
        case 'se':
        case 'ss':
          this.symmetric.mixKey(this.dh(token));
          break;
        case 'ekem': {
          const { cipherText, sharedSecret } = this.encapsulate(this.re?.mlkem);
          out.push(cipherText);
          this.symmetric.mixHash(cipherText);
          this.symmetric.mixKey(sharedSecret);
          break;
        }
        case 'skem': {
          const { cipherText, sharedSecret } = this.encapsulate(this.rs?.mlkem);
          out.push(this.symmetric.encryptAndHash(cipherText));
          this.symmetric.mixKeyAndHash(sharedSecret);
          break;
        }
      }
    }
    out.push(this.symmetric.encryptAndHash(payload));
    const message = concat(out);
    if (message.length > MAX_NOISE_MESSAGE_BYTES) throw new NoiseError('handshake message is too large');
    this.advance();
    return message;
  }

  /** Returns the decrypted payload. Throws NoiseError on any failure; the state is then unusable. */
  readMessage(message: Uint8Array): Uint8Array {
    const tokens = this.nextTokens(false);
    if (message.length > MAX_NOISE_MESSAGE_BYTES) throw new NoiseError('handshake message is too large');
    const cursor = new Cursor(message);
    const tagged = (length: number) => length + (this.symmetric.cipher.hasKey() ? AEAD_TAG_BYTES : 0);
    for (const token of tokens) {
      switch (token) {
        case 'e': {
          const x25519 = new Uint8Array(cursor.take(X25519_KEY_BYTES));
          this.symmetric.mixHash(x25519);
          this.re = { x25519 };
          if (this.pattern.hybrid) {
            this.re.mlkem = new Uint8Array(cursor.take(MLKEM768_PUBLIC_KEY_BYTES));
            this.symmetric.mixHash(this.re.mlkem);
          }
          break;
        }
        case 's': {
          const x25519 = this.symmetric.decryptAndHash(cursor.take(tagged(X25519_KEY_BYTES)));
          this.rs = { x25519: new Uint8Array(x25519) };
          if (this.pattern.hybrid) {
            this.rs.mlkem = new Uint8Array(this.symmetric.decryptAndHash(cursor.take(tagged(MLKEM768_PUBLIC_KEY_BYTES))));
          }
          break;
        }
        case 'ee':
        case 'es':
        case 'se':
        case 'ss':
          this.symmetric.mixKey(this.dh(token));
          break;
        case 'ekem': {
          if (!this.e?.mlkem) throw new NoiseError('missing local ephemeral ML-KEM key');
          const cipherText = cursor.take(MLKEM768_CIPHERTEXT_BYTES);
          this.symmetric.mixHash(cipherText);
          this.symmetric.mixKey(this.crypto.mlkemDecapsulate(cipherText, this.e.mlkem.secretKey));
          break;
        }
        case 'skem': {
          if (!this.s?.mlkem) throw new NoiseError('missing local static ML-KEM key');
          const cipherText = this.symmetric.decryptAndHash(cursor.take(tagged(MLKEM768_CIPHERTEXT_BYTES)));
          this.symmetric.mixKeyAndHash(this.crypto.mlkemDecapsulate(cipherText, this.s.mlkem.secretKey));
          break;
        }
      }
    }
    const payload = this.symmetric.decryptAndHash(cursor.rest());
    this.advance();
    return payload;
  }

  private advance(): void {
    this.messageIndex++;
    if (this.messageIndex < this.pattern.messages.length) return;
    const [initiatorToResponder, responderToInitiator] = this.symmetric.split();
    this.result = {
      send: this.initiator ? initiatorToResponder : responderToInitiator,
      receive: this.initiator ? responderToInitiator : initiatorToResponder,
      handshakeHash: this.symmetric.handshakeHash(),
      remoteStatic: this.rs,
    };
  }

  get handshakeHash(): Uint8Array {
    return this.symmetric.handshakeHash();
  }

  /** The peer's static keys, once received (or from the pre-message). */
  get remoteStatic(): RemoteKeys | undefined {
    return this.rs;
  }
}
