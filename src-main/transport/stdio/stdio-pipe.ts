/**
 * `--listen stdio`: one connection of newline-delimited JSON on stdin/stdout (local-protocol.md
 * §1.8). Blank lines are skipped, `\r\n` is accepted; a line over 64 MiB or one that is not
 * UTF-8 ends the connection, and so does EOF on stdin.
 */
import { isUtf8 } from 'node:buffer';
import type { Readable, Writable } from 'node:stream';
import type { MessagePipe, PipeCarrier } from '../../core/rpc/message-pipe.ts';

export const MAX_STDIO_LINE_BYTES = 64 * 1024 * 1024;
const NEWLINE = Buffer.from('\n');

export class StdioPipe implements MessagePipe {
  readonly parseErrorLabel = 'JSON-RPC message from exec-server stdio';
  readonly peer = 'stdio';
  readonly carrier: PipeCarrier = { kind: 'stdio' };
  private messageHandler: ((data: string) => void) | null = null;
  private readonly closeHandlers: Array<() => void> = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly maxLineBytes = MAX_STDIO_LINE_BYTES,
  ) {
    input.on('data', (chunk: Buffer) => this.consume(chunk));
    input.on('end', () => this.finish());
    input.on('error', () => this.finish());
    output.on('error', () => this.finish());
  }

  send(message: string | Buffer): void {
    if (this.ended) return;
    if (typeof message === 'string') this.output.write(message + '\n');
    else this.output.write(Buffer.concat([message, NEWLINE]));
  }

  onMessage(handler: (data: string) => void): void {
    this.messageHandler = handler;
  }

  onClose(handler: () => void): void {
    this.closeHandlers.push(handler);
  }

  close(): void {
    this.finish();
  }

  bufferedAmount(): number {
    return this.output.writableLength;
  }

  private consume(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1 && !this.ended; nl = chunk.indexOf(0x0a, start)) {
      this.pending.push(chunk.subarray(start, nl));
      this.pendingBytes += nl - start;
      start = nl + 1;
      this.emitLine();
    }
    if (this.ended || start >= chunk.length) return;
    this.pending.push(chunk.subarray(start));
    this.pendingBytes += chunk.length - start;
    if (this.pendingBytes > this.maxLineBytes) this.finish();
  }

  private emitLine(): void {
    const line = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (line.length > this.maxLineBytes) return this.finish();
    // As with an invalid text frame on a websocket, a line that is not UTF-8 ends the connection.
    if (!isUtf8(line)) return this.finish();
    let text = line.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') return;
    this.messageHandler?.(text);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.input.destroy();
    for (const handler of this.closeHandlers) handler();
  }
}
