/**
 * Noise transport records and the JSON-RPC byte stream inside them (remote-protocol.md §6,
 * §8.5, §8.6), for one stream and both directions. Pure state, no I/O: the relay layer carries
 * each record in one Data frame whose `seq` is the record's AEAD nonce.
 *
 * Sending: each JSON-RPC message is prefixed with its 4-byte big-endian length and cut into
 * records of at most 61440 plaintext bytes (the executor fills them to exactly that, except the
 * last one of each message).
 * Receiving: records are decrypted strictly in `seq` order (duplicates dropped, up to 64 ahead
 * buffered), their plaintexts concatenated, and complete messages handed out.
 */
import { AEAD_TAG_BYTES } from './crypto-backend.ts';
import { NoiseError, type CipherState } from './symmetric-state.ts';

/** Largest plaintext in one record (60 KiB). */
export const MAX_RECORD_PLAINTEXT_BYTES = 60 * 1024;
/** Largest ciphertext in one record (a Noise message). */
export const MAX_RECORD_CIPHERTEXT_BYTES = 65535;
/** Size of the JSON-RPC length prefix. */
export const MESSAGE_LENGTH_PREFIX_BYTES = 4;
/** JSON-RPC message length limits (the prefix value). */
export const MAX_JSONRPC_MESSAGE_BYTES = 64 * 1024 * 1024;
/** A record may arrive at most this many sequence numbers ahead of the next expected one. */
export const REORDER_WINDOW = 64;
export const MAX_PENDING_RECORDS = 64;
export const MAX_PENDING_CIPHERTEXT_BYTES = 1024 * 1024;
/** Sequences never wrap. */
export const MAX_SEQ = 0xffff_ffff;

const NO_AD = new Uint8Array(0);

/** A record or byte-stream failure: the stream must be reset. The message names the reason. */
export class TransportError extends Error {}

/**
 * One encrypted record. The ciphertext ‖ tag comes in pieces (`parts`) because the relay layer
 * copies them straight into its frame; `ciphertext` joins them for everyone else.
 */
export class SealedRecord {
  constructor(
    readonly seq: number,
    readonly parts: readonly Uint8Array[],
  ) {}

  get length(): number {
    let total = 0;
    for (const part of this.parts) total += part.length;
    return total;
  }

  get ciphertext(): Uint8Array {
    if (this.parts.length === 1) return this.parts[0]!;
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

export class NoiseTransport {
  private nextReceiveSeq = 0;
  private readonly pending = new Map<number, Uint8Array>();
  private pendingBytes = 0;
  /** Decrypted bytes not yet forming a whole message. */
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private expectedLength: number | null = null;

  constructor(
    private readonly sendCipher: CipherState,
    private readonly receiveCipher: CipherState,
  ) {}

  /** The `seq` of the next record this side sends. */
  get nextSendSeq(): number {
    return this.sendCipher.n;
  }

  /** Encrypts one record (any plaintext up to 60 KiB, empty included), given whole or in pieces. */
  sealRecord(plaintext: Uint8Array | readonly Uint8Array[]): SealedRecord {
    const parts = plaintext instanceof Uint8Array ? [plaintext] : plaintext;
    let length = 0;
    for (const part of parts) length += part.length;
    if (length > MAX_RECORD_PLAINTEXT_BYTES) throw new TransportError('Noise relay plaintext record exceeds maximum length');
    const seq = this.sendCipher.n;
    if (seq > MAX_SEQ) throw new TransportError('Noise relay sequence number exhausted');
    return new SealedRecord(seq, this.sendCipher.encryptPartsWithAd(NO_AD, parts));
  }

  /**
   * Frames and encrypts one serialized JSON-RPC message: records cut from prefix ‖ message, the
   * first one carrying the prefix as its own piece (the message itself is never copied here).
   */
  sealMessage(message: Uint8Array): SealedRecord[] {
    if (message.length === 0 || message.length > MAX_JSONRPC_MESSAGE_BYTES) {
      throw new TransportError('Noise relay JSON-RPC message has invalid length');
    }
    const prefix = new Uint8Array(MESSAGE_LENGTH_PREFIX_BYTES);
    new DataView(prefix.buffer).setUint32(0, message.length, false);
    const firstTake = MAX_RECORD_PLAINTEXT_BYTES - MESSAGE_LENGTH_PREFIX_BYTES;
    const records = [this.sealRecord([prefix, message.subarray(0, firstTake)])];
    for (let offset = firstTake; offset < message.length; offset += MAX_RECORD_PLAINTEXT_BYTES) {
      records.push(this.sealRecord(message.subarray(offset, offset + MAX_RECORD_PLAINTEXT_BYTES)));
    }
    return records;
  }

  /**
   * Takes one received record; returns the JSON-RPC messages that are now complete, in order.
   * Duplicates (below the next expected seq, or already buffered) are dropped silently.
   * Throws TransportError when the stream must be reset.
   */
  receiveRecord(seq: number, ciphertext: Uint8Array): Uint8Array[] {
    if (seq < this.nextReceiveSeq || this.pending.has(seq)) return [];
    if (seq - this.nextReceiveSeq > REORDER_WINDOW) throw new TransportError('Noise relay ciphertext exceeds reorder window');
    if (seq !== this.nextReceiveSeq) {
      if (this.pending.size >= MAX_PENDING_RECORDS || this.pendingBytes + ciphertext.length > MAX_PENDING_CIPHERTEXT_BYTES) {
        throw new TransportError('Noise relay pending ciphertext buffer is full');
      }
      this.pending.set(seq, ciphertext);
      this.pendingBytes += ciphertext.length;
      return [];
    }
    const messages: Uint8Array[] = [];
    this.open(ciphertext, messages);
    for (let next = this.pending.get(this.nextReceiveSeq); next; next = this.pending.get(this.nextReceiveSeq)) {
      this.pending.delete(this.nextReceiveSeq);
      this.pendingBytes -= next.length;
      this.open(next, messages);
    }
    return messages;
  }

  private open(ciphertext: Uint8Array, messages: Uint8Array[]): void {
    if (ciphertext.length > MAX_RECORD_CIPHERTEXT_BYTES) throw new TransportError('transport ciphertext is too large');
    if (ciphertext.length < AEAD_TAG_BYTES) throw new TransportError('transport ciphertext is too short');
    let plaintext: Uint8Array;
    try {
      plaintext = this.receiveCipher.decryptWithAd(new Uint8Array(0), ciphertext);
    } catch (error) {
      if (error instanceof NoiseError) throw new TransportError('Noise relay record decryption failed');
      throw error;
    }
    this.nextReceiveSeq++;
    if (plaintext.length > MAX_RECORD_PLAINTEXT_BYTES) throw new TransportError('Noise relay plaintext record exceeds maximum length');
    if (plaintext.length === 0) return;
    this.chunks.push(plaintext);
    this.buffered += plaintext.length;
    this.extract(messages);
  }

  private take(length: number): Uint8Array {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[0]!;
      const used = Math.min(chunk.length, length - filled);
      out.set(chunk.subarray(0, used), filled);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    this.buffered -= length;
    return out;
  }

  private extract(messages: Uint8Array[]): void {
    for (;;) {
      if (this.expectedLength === null) {
        if (this.buffered < MESSAGE_LENGTH_PREFIX_BYTES) return;
        const prefix = this.take(MESSAGE_LENGTH_PREFIX_BYTES);
        const length = new DataView(prefix.buffer).getUint32(0, false);
        if (length === 0 || length > MAX_JSONRPC_MESSAGE_BYTES) throw new TransportError('Noise relay JSON-RPC message has invalid length');
        this.expectedLength = length;
      }
      if (this.buffered < this.expectedLength) return;
      messages.push(this.take(this.expectedLength));
      this.expectedLength = null;
    }
  }
}
