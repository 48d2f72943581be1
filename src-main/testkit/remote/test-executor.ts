/**
 * A test-only Noise executor: registers a fresh identity with a registry, opens the rendezvous
 * WebSocket and serves every authenticated stream with exec-desk's ExecServer through
 * NoiseRelayHost. It is the minimum around the relay host needed to prove the responder against
 * the real harness; it is NOT the product's remote link (no auth providers, retry, keepalive or
 * reconnect — see src-main/remote/).
 *
 * By hand: `node --import tsx src-main/testkit/remote/test-executor.ts <registry base URL> <environment id> [token]`
 */
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { ExecServer } from '../../core/exec-server.ts';
import { createLogger, silentLogger, type Logger } from '../../core/log.ts';
import { MAX_RELAY_WEBSOCKET_MESSAGE_BYTES } from '../../transport/relay/frame-codec.ts';
import { NoiseRelayHost, type HarnessValidationResult, type RelayHostLimits } from '../../transport/relay/noise-relay-host.ts';
import {
  encodePublicKeyJson,
  generateIdentity,
  publicKeyOf,
  SECURITY_PROFILE,
  type NoiseIdentity,
} from '../../transport/noise/hybrid-ik.ts';

export interface TestExecutorOptions {
  registryUrl: string;
  environmentId: string;
  token?: string;
  server?: ExecServer;
  log?: Logger;
  limits?: Partial<RelayHostLimits>;
}

export class TestExecutor {
  private constructor(
    readonly socket: WebSocket,
    readonly host: NoiseRelayHost,
    readonly server: ExecServer,
    readonly identity: NoiseIdentity,
    readonly registrationId: string,
    private readonly ownsServer: boolean,
  ) {}

  static async start(options: TestExecutorOptions): Promise<TestExecutor> {
    const log = options.log ?? silentLogger;
    const identity = generateIdentity();
    const base = options.registryUrl.trim().replace(/\/+$/, '');
    const endpoint = (name: string) => `${base}/cloud/environment/${options.environmentId}/${name}`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;

    const registered = await fetch(endpoint('register'), {
      method: 'POST',
      headers,
      redirect: 'manual',
      body: JSON.stringify({ security_profile: SECURITY_PROFILE, executor_public_key: encodePublicKeyJson(publicKeyOf(identity)) }),
    });
    if (!registered.ok) throw new Error(`registration failed: HTTP ${registered.status} ${await registered.text()}`);
    const registration = (await registered.json()) as { url: string; executor_registration_id: string };

    const socket = await new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(registration.url, { perMessageDeflate: false, maxPayload: MAX_RELAY_WEBSOCKET_MESSAGE_BYTES });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
    const server = options.server ?? new ExecServer({ log });
    const host = new NoiseRelayHost({
      identity,
      environmentId: options.environmentId,
      registrationId: registration.executor_registration_id,
      send: (frame) => {
        if (socket.readyState === socket.OPEN) socket.send(frame, { binary: true });
      },
      bufferedAmount: () => socket.bufferedAmount,
      validate: async (request, signal): Promise<HarnessValidationResult> => {
        const response = await fetch(endpoint('validate'), {
          method: 'POST',
          headers,
          redirect: 'manual',
          signal,
          body: JSON.stringify({
            executor_registration_id: registration.executor_registration_id,
            harness_public_key: encodePublicKeyJson(request.harnessKey),
            harness_key_authorization: request.authorization,
          }),
        });
        if (response.status === 401) return 'registry_auth_rejected';
        if (!response.ok) return 'invalid';
        const body = (await response.json().catch(() => ({}))) as { valid?: unknown };
        return body.valid === true ? 'valid' : 'invalid';
      },
      serve: (pipe) => server.serve(pipe),
      log,
      limits: options.limits,
    });
    socket.on('message', (data, isBinary) => {
      const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      host.handleMessage(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), isBinary);
    });
    // Like 0.169.0: an oversized message or any error drops the socket; no close frame.
    socket.on('error', () => socket.terminate());
    socket.on('close', () => host.close());
    return new TestExecutor(socket, host, server, identity, registration.executor_registration_id, options.server === undefined);
  }

  async stop(): Promise<void> {
    this.socket.terminate();
    this.host.close();
    if (this.ownsServer) await this.server.shutdown();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [registryUrl, environmentId, token] = process.argv.slice(2);
  if (!registryUrl || !environmentId) {
    process.stderr.write('usage: test-executor.ts <registry base URL> <environment id> [token]\n');
    process.exit(2);
  }
  const executor = await TestExecutor.start({ registryUrl, environmentId, token, log: createLogger() });
  process.stderr.write(`serving ${environmentId} (registration ${executor.registrationId})\n`);
  executor.socket.on('close', () => process.exit(1));
  const stop = () => void executor.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
