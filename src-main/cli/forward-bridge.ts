/**
 * `exec-desk forward --connect <ws URL>` (remote-protocol.md §14): instead of serving an
 * authenticated relay stream itself, the executor opens a NEW WebSocket to an existing
 * exec-server for every stream and pipes the decrypted JSON-RPC messages both ways, one message
 * per WebSocket text frame. When either side ends, the other is dropped.
 *
 * It plugs into the remote link through the link's `server.serve(pipe)` hook, so the link does
 * not know whether a stream is served locally or forwarded.
 */
import WebSocket from 'ws';
import type { Logger } from '../core/log.ts';
import type { MessagePipe } from '../core/rpc/message-pipe.ts';

/** The reference's prefix for a bad `--connect` (printed as `Error: <prefix>: <reason>`, exit 1). */
export const FORWARD_URL_ERROR_PREFIX = 'failed to configure exec-server websocket';
export const FORWARD_SCHEME_REASON = 'forward destination must be a ws:// or wss:// URL';
/** Largest message accepted from the destination (the relay splits big messages itself). */
const MAX_DESTINATION_MESSAGE_BYTES = 256 * 1024 * 1024;

export class ForwardUrlError extends Error {
  constructor(reason: string) {
    super(`${FORWARD_URL_ERROR_PREFIX}: ${reason}`);
    this.name = 'ForwardUrlError';
  }
}

/**
 * Parses `--connect` with the reference's acceptance and reasons: WHATWG parsing (Node's URL),
 * with the Rust `url` crate's wording for the failures a person is likely to type.
 */
export function parseForwardUrl(text: string): URL {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text)) throw new ForwardUrlError('relative URL without a base');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ForwardUrlError(parseFailureReason(text));
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new ForwardUrlError(FORWARD_SCHEME_REASON);
  return url;
}

function parseFailureReason(text: string): string {
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(text)?.[1];
  if (authority === undefined || authority === '') return 'empty host';
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) return 'invalid IPv6 address';
    const port = hostPort.slice(close + 1);
    return port === '' || /^:\d{0,5}$/.test(port) ? 'invalid IPv6 address' : 'invalid port number';
  }
  const colon = hostPort.lastIndexOf(':');
  if (colon >= 0) {
    const port = hostPort.slice(colon + 1);
    if (!/^\d*$/.test(port) || Number(port) > 65535) return 'invalid port number';
    if (colon === 0) return 'empty host';
  }
  return 'invalid international domain name';
}

/** Pipes one relay stream to a fresh WebSocket connection to `destination`. */
export function bridgeToExecServer(stream: MessagePipe, destination: URL, log: Logger): void {
  const socket = new WebSocket(destination, { perMessageDeflate: false, maxPayload: MAX_DESTINATION_MESSAGE_BYTES });
  /** Messages from the harness that arrived before the destination accepted the connection. */
  const early: Array<string | Buffer> = [];
  let ended = false;
  const end = (why: string) => {
    if (ended) return;
    ended = true;
    log.debug('forwarded stream ended', { peer: stream.peer, why });
    socket.terminate();
    stream.close();
  };

  stream.onMessage((data) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(data, { binary: false });
    else if (socket.readyState === WebSocket.CONNECTING) early.push(data);
  });
  stream.onClose(() => end('relay stream closed'));
  socket.on('open', () => {
    for (const data of early.splice(0)) socket.send(data, { binary: false });
  });
  socket.on('message', (data, isBinary) => {
    const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    stream.send(isBinary ? buffer : buffer.toString('utf8'));
  });
  socket.on('unexpected-response', (_request, response) => {
    log.warn('forward destination refused the connection', { status: response.statusCode });
    end(`HTTP ${response.statusCode}`);
  });
  socket.on('error', (error) => {
    log.warn('forward destination connection failed', { error: error.message });
    end('destination error');
  });
  socket.on('close', () => end('destination closed'));
}

/** What the remote link's `server` hook needs: every stream is bridged, none is served here. */
export function forwardingServer(destination: URL, log: Logger) {
  return {
    serve(pipe: MessagePipe): { readonly attachedSession: null; readonly queuedMessages: number } {
      bridgeToExecServer(pipe, destination, log);
      return { attachedSession: null, queuedMessages: 0 };
    },
  };
}
