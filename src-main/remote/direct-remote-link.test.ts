/**
 * DirectRemoteLink on loopback against FakeDirectRegistry, with the real SigV4 provider and the
 * real ExecServer: the signed registration and upgrade, the registration answer checks (texts of
 * codex-cli 0.169.0), processes run through the socket, reconnects that keep sessions, and the
 * upgrade statuses that mean re-register / fatal / retry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ExecServer } from '../core/exec-server.ts';
import { silentLogger } from '../core/log.ts';
import type { RegistrationState } from '../control/contract.ts';
import { SigV4Provider } from './auth/sigv4-provider.ts';
import { DirectRemoteLink, createDirectLink } from './direct-remote-link.ts';
import { DIRECT_MAX_MESSAGE_BYTES } from './direct-socket.ts';
import { ManualClock } from '../testkit/remote/manual-clock.ts';
import { ApiKeyProvider } from './auth/api-key-provider.ts';
import { FakeDirectRegistry, type DirectPeer, type FakeDirectRegistryOptions } from '../testkit/remote/fake-direct-registry.ts';
import type { HttpAnswer } from '../testkit/remote/fake-registry.ts';

const ENV_ID = 'env-direct';
const cwd = pathToFileURL(process.cwd()).href;

function awsEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'exec-desk-direct-'));
  after.push(() => rmSync(home, { recursive: true, force: true }));
  return {
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_ACCESS_KEY_ID: 'AKIDDIRECTTEST',
    AWS_SECRET_ACCESS_KEY: 'direct/test+secret',
    ...extra,
  };
}
const after: Array<() => void> = [];

interface Setup {
  registry: FakeDirectRegistry;
  link: DirectRemoteLink;
  server: ExecServer;
  states: RegistrationState[];
  close(): Promise<void>;
}

async function waitForStatus(link: DirectRemoteLink, status: RegistrationState['status']): Promise<void> {
  if (link.state.status === status) return;
  await new Promise<void>((resolve) => {
    const off = link.subscribe((event) => {
      if (event.type === 'state' && event.state.status === status) {
        off();
        resolve();
      }
    });
  });
}

/** The next state (from now on) that satisfies `match`. */
function nextState(link: DirectRemoteLink, match: (state: RegistrationState) => boolean): Promise<RegistrationState> {
  return new Promise((resolve) => {
    const off = link.subscribe((event) => {
      if (event.type === 'state' && match(event.state)) {
        off();
        resolve(event.state);
      }
    });
  });
}

async function setup(options: FakeDirectRegistryOptions & { env?: Record<string, string>; clock?: ManualClock; random?: () => number } = {}): Promise<Setup> {
  const registry = await FakeDirectRegistry.start(options);
  const server = new ExecServer({ log: silentLogger });
  const auth = new SigV4Provider({ env: awsEnv(options.env), profile: null, region: 'us-east-1', service: null });
  const link = options.clock
    ? new DirectRemoteLink({ registryUrl: registry.baseUrl, environmentId: ENV_ID, auth, server, log: silentLogger, clock: options.clock, random: options.random })
    : createDirectLink({ registryUrl: registry.baseUrl, environmentId: ENV_ID, auth, server, log: silentLogger });
  const states: RegistrationState[] = [];
  link.subscribe((event) => {
    if (event.type === 'state') states.push(event.state);
  });
  link.start();
  return {
    registry,
    link,
    server,
    states,
    async close() {
      await link.stop();
      await server.shutdown();
      await registry.close();
      for (const f of after.splice(0)) f();
    },
  };
}

function startParams(processId: string, script: string) {
  return { processId, argv: ['sh', '-c', script], cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, tty: false, arg0: null };
}

function stdoutOf(peer: DirectPeer, processId: string): string {
  return peer.messages
    .filter((m) => m.method === 'process/output' && (m.params as any).processId === processId)
    .map((m) => Buffer.from((m.params as any).chunk, 'base64').toString('utf8'))
    .join('');
}

test('registers with a SigV4-signed POST …/direct/register and upgrades with signed headers in the binary\'s order', async () => {
  const s = await setup({ env: { AWS_SESSION_TOKEN: 'session-token-1' } });
  try {
    await s.registry.connection(0);
    const [register] = s.registry.registrations();
    assert.equal(register!.method, 'POST');
    assert.equal(register!.url, `/api/cloud/environment/${ENV_ID}/direct/register`);
    assert.equal(register!.rawBody, '{"transport":"direct_jsonrpc_v1"}');
    assert.deepEqual(register!.headers.map(([n]) => n), ['content-type', 'x-amz-date', 'authorization', 'x-amz-security-token', 'accept', 'host', 'content-length']);
    assert.equal(register!.sigv4Problem, null);
    const auth = register!.headers.find(([n]) => n === 'authorization')![1];
    assert.match(auth, /^AWS4-HMAC-SHA256 Credential=AKIDDIRECTTEST\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
    assert.equal(register!.headers.find(([n]) => n === 'x-amz-security-token')![1], 'session-token-1');

    const [upgrade] = s.registry.upgrades;
    assert.deepEqual(upgrade!.rawHeaderNames, ['Host', 'Connection', 'Upgrade', 'Sec-WebSocket-Version', 'Sec-WebSocket-Key', 'x-amz-security-token', 'authorization', 'x-amz-date']);
    assert.equal(upgrade!.sigv4Problem, null);
    assert.match(upgrade!.headers.find(([n]) => n === 'authorization')![1], /SignedHeaders=host;x-amz-date;x-amz-security-token, /);
    await waitForStatus(s.link, 'online');
    assert.equal(s.link.state.transport, 'direct');
    assert.match(s.link.state.registrationId ?? '', /^reg-/);
  } finally {
    await s.close();
  }
});

test('without a session token neither request carries x-amz-security-token', async () => {
  const s = await setup();
  try {
    await s.registry.connection(0);
    assert.ok(!s.registry.registrations()[0]!.headers.some(([n]) => n === 'x-amz-security-token'));
    assert.match(s.registry.registrations()[0]!.headers.find(([n]) => n === 'authorization')![1], /SignedHeaders=content-type;host;x-amz-date, /);
    assert.deepEqual(s.registry.upgrades[0]!.rawHeaderNames.slice(5), ['authorization', 'x-amz-date']);
  } finally {
    await s.close();
  }
});

test('a process runs through the direct socket: replies are text, binary requests are accepted, bad JSON is answered', async () => {
  const s = await setup();
  try {
    const peer = await s.registry.connection(0);
    const { sessionId } = await peer.initialize();
    const reply = peer.request('process/start', startParams('p1', 'echo hi'));
    // re-send as a binary frame: the executor accepts both kinds
    peer.send({ id: 'bin', method: 'process/start', params: startParams('p2', 'echo bin') }, { binary: true });
    assert.deepEqual((await reply).result, { processId: 'p1', sandboxType: 'none' });
    await peer.waitForNotification('process/closed', (p) => p.processId === 'p1');
    await peer.waitForNotification('process/closed', (p) => p.processId === 'p2');
    assert.equal(stdoutOf(peer, 'p1'), 'hi\n');
    assert.equal(stdoutOf(peer, 'p2'), 'bin\n');
    assert.ok(peer.frames.every((f) => f.text), 'every executor message is a text frame');
    peer.sendRaw('{not json');
    const parseError = await peer.waitFor((m) => m.id === -1);
    const shown = `ws://127.0.0.1:${s.registry.port}/direct/${ENV_ID}`;
    assert.equal(parseError.error?.message, `failed to parse websocket JSON-RPC message from direct exec-server websocket ${shown}: key must be a string at line 1 column 2`);
    const view = s.link.streams()[0]!;
    assert.equal(view.streamId, 'direct-1');
    assert.equal(view.state, 'open');
    await new Promise((r) => setTimeout(r, 400)); // the view's counters are published every 250 ms
    const updated = s.link.streams()[0]!;
    assert.equal(updated.sessionId, sessionId);
    assert.ok(updated.bytesIn > 0 && updated.bytesOut > 0);
  } finally {
    await s.close();
  }
});

test('after the registry drops the socket the link reconnects to the same url and the session resumes without lost output', async () => {
  const s = await setup();
  try {
    const first = await s.registry.connection(0);
    const { sessionId } = await first.initialize();
    await first.call('process/start', startParams('late', 'sleep 0.4; echo produced-while-away'));
    first.drop();
    const second = await s.registry.connection(1);
    assert.equal(s.registry.registrations().length, 1, 'a dropped socket does not re-register');
    assert.equal(second.upgrade.url, first.upgrade.url);
    const resumed = await second.initialize('codex-environment', sessionId);
    assert.equal(resumed.sessionId, sessionId);
    await new Promise((r) => setTimeout(r, 600));
    const read = await second.call('process/read', { processId: 'late', afterSeq: 0 });
    const text = read.chunks.map((c: any) => Buffer.from(c.chunk, 'base64').toString('utf8')).join('');
    assert.equal(text, 'produced-while-away\n');
    const views = s.link.streams();
    assert.deepEqual(views.map((v) => [v.streamId, v.state]), [['direct-1', 'closed'], ['direct-2', 'open']]);
    assert.equal(views[0]!.endReason, 'peer_close');
    const statuses = s.states.map((st) => st.status).filter((status, i, all) => status !== all[i - 1]);
    assert.deepEqual(statuses.slice(0, 5), ['registering', 'connecting', 'online', 'reconnecting', 'connecting']);
    const reconnecting = s.states.find((st) => st.status === 'reconnecting')!;
    assert.ok(reconnecting.nextAttemptAtMs !== null);
    assert.equal(s.link.state.status, 'online');
  } finally {
    await s.close();
  }
});

test('messages up to 16 MiB are served; a larger one drops the socket and the link reconnects (0.169.0: 15.9 MiB ok, 16.1 MiB dropped)', async () => {
  const s = await setup();
  try {
    const peer = await s.registry.connection(0);
    await peer.initialize();
    const padded = (id: number, total: number) => {
      const base = JSON.stringify({ id, method: 'process/read', params: { processId: 'none', afterSeq: 0, pad: '' } });
      return base.replace('"pad":""', `"pad":"${'x'.repeat(total - base.length)}"`);
    };
    peer.sendRaw(padded(7, DIRECT_MAX_MESSAGE_BYTES));
    const reply = await peer.waitFor((m) => m.id === 7);
    assert.equal(reply.error?.code, -32600, 'a 16 MiB message reaches the processor');
    peer.sendRaw(padded(8, DIRECT_MAX_MESSAGE_BYTES + 1));
    await peer.closed;
    await s.registry.connection(1);
    assert.ok(!peer.messages.some((m) => m.id === 8));
    assert.equal(s.link.streams()[0]!.endReason, 'read_error');
  } finally {
    await s.close();
  }
});

test('retry delays follow the registration retry formula and start over after a successful connection', async () => {
  const clock = new ManualClock();
  const refusals = [503, 503, 503, 503];
  const s = await setup({ clock, random: () => 0, rejectUpgrades: () => refusals.shift() });
  try {
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const state = s.link.state.status === 'reconnecting' ? s.link.state : await nextState(s.link, (st) => st.status === 'reconnecting');
      delays.push(state.nextAttemptAtMs! - clock.now());
      const connecting = nextState(s.link, (st) => st.status === 'connecting');
      clock.advance(delays.at(-1)!);
      await connecting;
    }
    assert.deepEqual(delays, [500, 1_000, 2_000, 4_000]);
    const peer = await s.registry.connection(0);
    const reconnecting = nextState(s.link, (st) => st.status === 'reconnecting');
    peer.drop();
    const after = await reconnecting;
    assert.equal(after.nextAttemptAtMs! - clock.now(), 500, 'the attempt count starts over after a connection');
  } finally {
    await s.close();
  }
});

test('an upgrade that gets no answer times out and is retried on the same url', async () => {
  const dials: number[] = [];
  const silent = createNetServer((socket) => {
    dials.push(Date.now());
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as AddressInfo).port;
  const registry = await FakeDirectRegistry.start({
    intercept: () => ({ status: 200, body: { environment_id: ENV_ID, transport: 'direct_jsonrpc_v1', registration_id: 'r1', url: `ws://127.0.0.1:${port}/silent` } }),
  });
  const server = new ExecServer({ log: silentLogger });
  const auth = new SigV4Provider({ env: awsEnv(), profile: null, region: 'us-east-1', service: null });
  const link = new DirectRemoteLink({ registryUrl: registry.baseUrl, environmentId: ENV_ID, auth, server, handshakeTimeoutMs: 150 });
  try {
    const retrying = nextState(link, (st) => st.status === 'reconnecting');
    link.start();
    const state = await retrying;
    assert.match(state.lastError ?? '', /timed out/i);
    while (dials.length < 2) await new Promise((r) => setTimeout(r, 50));
    assert.equal(registry.registrations().length, 1);
  } finally {
    await link.stop();
    await server.shutdown();
    await registry.close();
    silent.close();
    for (const f of after.splice(0)) f();
  }
});

test('409 on the upgrade: registers again and dials the new url', async () => {
  let refused = 0;
  const s = await setup({ rejectUpgrades: () => (refused++ === 0 ? 409 : undefined) });
  try {
    const peer = await s.registry.connection(0);
    assert.equal(s.registry.registrations().length, 2);
    assert.deepEqual(s.registry.upgrades.map((u) => u.status), [409, 101]);
    assert.notEqual(s.registry.upgrades[0]!.url, peer.upgrade.url);
  } finally {
    await s.close();
  }
});

test('503, 408 and 429 on the upgrade are retried on the same url', async () => {
  const statuses = [503, 408, 429];
  const s = await setup({ rejectUpgrades: () => statuses.shift() });
  try {
    await s.registry.connection(0, 20_000);
    assert.deepEqual(s.registry.upgrades.map((u) => u.status), [503, 408, 429, 101]);
    assert.equal(new Set(s.registry.upgrades.map((u) => u.url)).size, 1);
    assert.equal(s.registry.registrations().length, 1);
  } finally {
    await s.close();
  }
});

test('403 on the upgrade is fatal with the binary\'s text (url without its query)', async () => {
  const s = await setup({ rejectUpgrades: () => 403 });
  try {
    const outcome = await s.link.fatal;
    const shown = `ws://127.0.0.1:${s.registry.port}/direct/${ENV_ID}`;
    assert.equal(outcome.code, 1);
    assert.equal(outcome.message, `Error: failed to connect to exec-server websocket \`${shown}\`: HTTP error: 403 Forbidden\n\nCaused by:\n    HTTP error: 403 Forbidden`);
    assert.equal(s.link.state.status, 'auth_needed');
    assert.equal(s.registry.upgrades.length, 1);
  } finally {
    await s.close();
  }
});

const REGISTRATION_FAILURES: Array<[string, HttpAnswer, string]> = [
  ['empty registration_id', { status: 200, body: { environment_id: ENV_ID, transport: 'direct_jsonrpc_v1', registration_id: '', url: 'ws://127.0.0.1:1/x' } }, 'exec-server protocol error: environment registry returned incomplete direct connection data'],
  ['empty url', { status: 200, body: { environment_id: ENV_ID, transport: 'direct_jsonrpc_v1', registration_id: 'r', url: '' } }, 'exec-server protocol error: environment registry returned incomplete direct connection data'],
  ['empty environment_id', { status: 200, body: { environment_id: '', transport: 'direct_jsonrpc_v1', registration_id: 'r', url: 'ws://127.0.0.1:1/x' } }, 'exec-server protocol error: environment registry returned a different environment id'],
  ['other transport (checked before emptiness)', { status: 200, body: { environment_id: ENV_ID, transport: 'noise', registration_id: '', url: '' } }, 'exec-server protocol error: environment registry returned unsupported direct transport `noise`'],
  ['non-loopback ws://', { status: 200, body: { environment_id: ENV_ID, transport: 'direct_jsonrpc_v1', registration_id: 'r', url: 'ws://example.com/x' } }, 'environment registry configuration error: remote transport requires wss for non-loopback endpoints'],
  ['http:// url', { status: 200, body: { environment_id: ENV_ID, transport: 'direct_jsonrpc_v1', registration_id: 'r', url: 'http://127.0.0.1:1/x' } }, 'environment registry configuration error: remote transport requires wss for non-loopback endpoints'],
  ['relative url', { status: 200, body: { environment_id: ENV_ID, transport: 'direct_jsonrpc_v1', registration_id: 'r', url: 'not a url' } }, 'environment registry configuration error: invalid remote endpoint URL: relative URL without a base'],
  // serde's column is the end of the object: 85 characters here (76 with the id `E` on the binary)
  ['missing url', { status: 200, body: { environment_id: ENV_ID, transport: 'direct_jsonrpc_v1', registration_id: 'r' } }, 'failed to serialize or deserialize exec-server JSON: missing field `url` at line 1 column 85'],
  ['503 registration_conflict (not retried in direct mode)', { status: 503, body: { error: { code: 'registration_conflict', message: 'busy' } } }, 'environment registry request failed (503 Service Unavailable, registration_conflict): busy'],
  ['403', { status: 403, body: { error: { code: 'forbidden', message: 'nope' } } }, 'environment registry authentication error: environment registry authentication failed (403 Forbidden): nope'],
];

for (const [name, answer, message] of REGISTRATION_FAILURES) {
  test(`registration answer refused: ${name}`, async () => {
    const s = await setup({ intercept: () => answer });
    try {
      const outcome = await s.link.fatal;
      assert.equal(outcome.code, 1);
      // serde errors carry their text again as anyhow's cause, as 0.169.0 prints them
      const serde = /^failed to serialize or deserialize exec-server JSON: (.*)$/.exec(message);
      assert.equal(outcome.message, serde ? `Error: ${message}\n\nCaused by:\n    ${serde[1]}` : `Error: ${message}`);
      assert.equal(s.registry.requests.length, 1, 'nothing is retried');
      assert.equal(s.registry.upgrades.length, 0);
      assert.ok(s.link.state.status === 'error' || s.link.state.status === 'auth_needed');
    } finally {
      await s.close();
    }
  });
}

test('createDirectLink refuses a provider that cannot sign the upgrade', () => {
  const server = new ExecServer({ log: silentLogger });
  assert.throws(() => createDirectLink({ registryUrl: 'http://127.0.0.1:1', environmentId: 'e', auth: new ApiKeyProvider('sk-x'), server }), /needs --aws-sigv4/);
});

test('stop() drops the socket and ends in stopped; no reconnect follows', async () => {
  const s = await setup();
  try {
    const peer = await s.registry.connection(0);
    await s.link.stop();
    await peer.closed;
    assert.equal(s.link.state.status, 'stopped');
    await new Promise((r) => setTimeout(r, 900));
    assert.equal(s.registry.upgrades.length, 1);
  } finally {
    await s.close();
  }
});
