/**
 * runRemoteMode's own decisions with a fake link and provider (no network): exit codes and
 * messages, the start-up order, and what is cleaned up. The real link is exercised in
 * remote-mode.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger } from '../core/log.ts';
import type { RegistrationState } from '../control/contract.ts';
import { AuthError, type AuthProvider } from '../remote/auth/auth-provider.ts';
import type { RemoteLink, RemoteLinkEvent } from '../remote/remote-link-types.ts';
import type { NoiseRemoteLinkOptions } from '../remote/noise-remote-link.ts';
import { parseCli, type CliOutcome, type ServerOptions } from './options.ts';
import { redactUrl, runRemoteMode, type RemoteModeIo } from './remote-mode.ts';
import { SigV4Provider } from '../remote/auth/sigv4-provider.ts';
import { FakeDirectRegistry } from '../testkit/remote/fake-direct-registry.ts';

class FakeProvider implements AuthProvider {
  readonly method = 'api-key' as const;
  closed = false;
  checkedUrl: string | null = null;
  async headers() {
    return [['authorization', 'Bearer x']] as Array<[string, string]>;
  }
  async refreshAfterUnauthorized() {
    return false;
  }
  checkRegistryUrl(base: URL) {
    this.checkedUrl = base.href;
    if (base.hostname === 'refused.example') throw new AuthError('host refused');
  }
  close() {
    this.closed = true;
  }
}

class FakeLink implements RemoteLink {
  started = false;
  stopped = false;
  settle!: (value: { code: number; message: string }) => void;
  readonly fatal = new Promise<{ code: number; message: string }>((resolve) => (this.settle = resolve));
  listeners = new Set<(event: RemoteLinkEvent) => void>();
  constructor(readonly options: NoiseRemoteLinkOptions) {}
  get state(): RegistrationState {
    return { status: 'online' } as RegistrationState;
  }
  streams() {
    return [];
  }
  subscribe(listener: (event: RemoteLinkEvent) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  start() {
    this.started = true;
  }
  async stop() {
    this.stopped = true;
  }
  reconnectNow() {}
  resetStream() {
    return false;
  }
}

async function options(argv: string[]): Promise<ServerOptions> {
  const outcome: CliOutcome = await parseCli(argv, {});
  assert.equal(outcome.kind, 'run');
  return (outcome as Extract<CliOutcome, { kind: 'run' }>).options;
}

function harness(providerFactory: () => Promise<AuthProvider> = async () => new FakeProvider()) {
  const signals = new EventEmitter();
  let stderr = '';
  const links: FakeLink[] = [];
  const providers: AuthProvider[] = [];
  const stdin = new PassThrough();
  const io: RemoteModeIo = {
    env: {},
    stdin,
    stderr: { write: (text: string) => (stderr += text) },
    log: silentLogger,
    signals: signals as unknown as RemoteModeIo['signals'],
    createAuthProvider: async () => {
      const provider = await providerFactory();
      providers.push(provider);
      return provider;
    },
    createLink: (o) => {
      const link = new FakeLink(o);
      links.push(link);
      return link;
    },
  };
  return { io, signals, stdin, links, providers, stderr: () => stderr };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), 'condition not reached');
};

test('SIGTERM: stops the link, closes the provider, exits 0 silently', async () => {
  const h = harness();
  const done = runRemoteMode(await options(['--remote', 'http://127.0.0.1:1/api', '--environment-id', ' env ', '--name', 'n']), h.io);
  await until(() => h.links[0]?.started === true);
  const link = h.links[0]!;
  assert.equal(link.options.registryUrl, 'http://127.0.0.1:1/api');
  assert.equal(link.options.environmentId, ' env ', 'trimming is the link’s job');
  assert.equal(link.options.name, 'n');
  h.signals.emit('SIGTERM');
  assert.equal(await done, 0);
  assert.equal(link.stopped, true);
  assert.equal((h.providers[0] as FakeProvider).closed, true);
  assert.equal(h.stderr(), '');
});

test('a fatal link outcome is printed as given and becomes the exit code', async () => {
  const h = harness();
  const done = runRemoteMode(await options(['--remote', 'http://127.0.0.1:1/api', '--environment-id', 'e']), h.io);
  await until(() => h.links[0]?.started === true);
  h.links[0]!.settle({ code: 1, message: 'Error: environment registry request failed (400 Bad Request): no' });
  assert.equal(await done, 1);
  assert.equal(h.stderr(), 'Error: environment registry request failed (400 Bad Request): no\n');

  // A clean end reported by the link (e.g. the credential pipe closed while running): code 0, no text.
  const h2 = harness();
  const done2 = runRemoteMode(await options(['--remote', 'http://127.0.0.1:1/api', '--environment-id', 'e']), h2.io);
  await until(() => h2.links[0]?.started === true);
  h2.links[0]!.settle({ code: 0, message: '' });
  assert.equal(await done2, 0);
  assert.equal(h2.stderr(), '');
});

test('--exit-on-stdin-close: EOF exits 0', async () => {
  const h = harness();
  const done = runRemoteMode(await options(['--remote', 'http://127.0.0.1:1/api', '--environment-id', 'e', '--exit-on-stdin-close']), h.io);
  await until(() => h.links[0]?.started === true);
  h.stdin.end();
  assert.equal(await done, 0);
  assert.equal(h.links[0]!.stopped, true);
});

test('start-up order: credential, then the registry URL rule, then the forward URL; no link on failure', async () => {
  const noCredential = harness(async () => {
    throw new AuthError('no credential');
  });
  assert.equal(await runRemoteMode(await options(['--remote', 'not a url', '--environment-id', 'e']), noCredential.io), 1);
  assert.equal(noCredential.stderr(), 'Error: no credential\n');

  const badUrl = harness();
  assert.equal(await runRemoteMode(await options(['--remote', 'not a url', '--environment-id', 'e']), badUrl.io), 1);
  assert.equal(badUrl.stderr(), 'Error: invalid remote exec-server registration URL: relative URL without a base\n');
  assert.equal((badUrl.providers[0] as FakeProvider).closed, true);

  const refused = harness();
  assert.equal(await runRemoteMode(await options(['--remote', 'https://refused.example', '--environment-id', 'e']), refused.io), 1);
  assert.equal(refused.stderr(), 'Error: host refused\n');

  const badForward = harness();
  const argv = ['forward', '--remote', 'http://127.0.0.1:1/api', '--environment-id', 'e', '--connect', 'http://127.0.0.1:2'];
  assert.equal(await runRemoteMode(await options(argv), badForward.io), 1);
  assert.equal(badForward.stderr(), 'Error: failed to configure exec-server websocket: forward destination must be a ws:// or wss:// URL\n');

  for (const h of [noCredential, badUrl, refused, badForward]) assert.equal(h.links.length, 0);
});

test('forward: the link serves streams through the bridge, not the local ExecServer', async () => {
  const h = harness();
  const argv = ['forward', '--remote', 'http://127.0.0.1:1/api', '--environment-id', 'e', '--connect', 'ws://127.0.0.1:9'];
  const done = runRemoteMode(await options(argv), h.io);
  await until(() => h.links[0]?.started === true);
  const server = h.links[0]!.options.server as { serve: unknown; constructor: { name: string } };
  assert.notEqual(server.constructor.name, 'ExecServer');
  h.signals.emit('SIGINT');
  assert.equal(await done, 0);
});

test('--remote-transport direct runs the direct link (SigV4-signed), SIGTERM exits 0', async () => {
  const registry = await FakeDirectRegistry.start();
  const home = mkdtempSync(join(tmpdir(), 'exec-desk-direct-unit-'));
  try {
    const h = harness(async () => new SigV4Provider({ env: { HOME: home, AWS_ACCESS_KEY_ID: 'AKIDUNIT', AWS_SECRET_ACCESS_KEY: 's' }, profile: null, region: 'us-east-1', service: null }));
    delete h.io.createLink;
    const argv = ['--remote', registry.baseUrl, '--environment-id', 'e', '--remote-transport', 'direct', '--aws-sigv4', '--aws-region', 'us-east-1'];
    const done = runRemoteMode(await options(argv), h.io);
    const peer = await registry.connection(0);
    assert.match((await peer.initialize()).sessionId, /^[0-9a-f-]{36}$/);
    assert.equal(registry.registrations()[0]!.sigv4Problem, null);
    h.signals.emit('SIGTERM');
    assert.equal(await done, 0);
    await peer.closed;
    assert.equal(h.stderr(), '');
    assert.equal(h.providers[0]!.method, 'aws-sigv4');
  } finally {
    await registry.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('redactUrl drops userinfo and the query', () => {
  assert.equal(redactUrl(' https://user:secret@registry.example/api?sig=abc '), 'https://registry.example/api');
  assert.equal(redactUrl('not a url'), '<unparsable URL>');
});
