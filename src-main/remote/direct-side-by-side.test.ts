/**
 * Side by side, the direct transport (remote-protocol.md §13): exec-desk's CLI
 * (`node bin/exec-desk.mjs --remote … --remote-transport direct --aws-sigv4 …`) and
 * `codex exec-server` 0.169.0 with the same flags run against FakeDirectRegistry on loopback,
 * with test AWS keys and no AWS files of the machine. Compared: the registration request
 * (method, path, header names in order, body, SigV4 shape), the upgrade's header names in order,
 * a normalized JSON-RPC transcript (initialize, `echo hi`, a dropped socket, the session resumed
 * on the next connection with the output produced meanwhile), what refused upgrades lead to
 * (409 → re-registration; 3xx/408/429/5xx → the same url again), and the
 * exit code and error text of fatal answers. Without the reference only exec-desk runs (its own
 * expectations still hold).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { diffLines } from '../conformance/diff.ts';
import { FakeDirectRegistry, type DirectRecordedRequest, type FakeDirectRegistryOptions } from '../testkit/remote/fake-direct-registry.ts';
import { errorBlock, startDirectExecutor, type DirectExecutorKind } from '../testkit/remote/direct-executors.ts';
import { referenceAvailable } from '../testkit/remote/reference.ts';
import { StreamTranscript } from '../testkit/remote/stream-transcript.ts';

const ENV_ID = 'env-direct-sbs';
const KINDS: DirectExecutorKind[] = referenceAvailable() ? ['exec-desk', 'reference'] : ['exec-desk'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cwd = pathToFileURL(process.cwd()).href;

function startParams(processId: string, script: string) {
  return { processId, argv: ['sh', '-c', script], cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, tty: false, arg0: null };
}

/** What must match across implementations about one request (values that vary per run left out). */
function requestFacts(request: DirectRecordedRequest) {
  const value = (name: string) => request.headers.find(([n]) => n === name)?.[1];
  return {
    method: request.method,
    path: request.url.split('?')[0],
    headerNames: request.rawHeaderNames,
    body: request.rawBody,
    contentType: value('content-type'),
    accept: value('accept'),
    contentLength: value('content-length'),
    signedHeaders: /SignedHeaders=([^,]+),/.exec(value('authorization') ?? '')?.[1],
    scope: /Credential=[^/]+\/\d{8}\/([^,]+),/.exec(value('authorization') ?? '')?.[1],
    securityToken: value('x-amz-security-token'),
    sigv4Problem: request.sigv4Problem,
  };
}

async function runScenario(kind: DirectExecutorKind) {
  const registry = await FakeDirectRegistry.start();
  const executor = startDirectExecutor(kind, { registryUrl: registry.baseUrl, environmentId: ENV_ID, env: { AWS_SESSION_TOKEN: 'sbs-session-token' } });
  const record = new StreamTranscript();
  try {
    const first = record.track(await registry.connection(0, 30_000), 'c1');
    const { sessionId } = await first.initialize();
    await first.call('process/start', startParams('p1', 'echo hi'));
    await first.waitForNotification('process/closed', (p) => p.processId === 'p1', 15_000);
    await first.call('process/start', startParams('p2', 'sleep 0.4; echo produced-while-away'));
    first.drop();
    const second = record.track(await registry.connection(1, 30_000), 'c2');
    await second.initialize('codex-environment', sessionId);
    await sleep(800);
    await second.call('process/read', { processId: 'p2', afterSeq: 0 });
    record.step(`registrations: ${registry.registrations().length}`);
    record.step(`same url after the drop: ${registry.upgrades[1]!.url === registry.upgrades[0]!.url}`);
    record.step(`executor frames all text: ${[first, second].every((peer) => peer.frames.every((f) => f.text))}`);
    return {
      register: requestFacts(registry.registrations()[0]!),
      upgrade: requestFacts(registry.upgrades[0]!),
      transcript: record.transcript('direct transport session', kind, [[process.cwd(), '<CWD>']]).lines,
    };
  } catch (error) {
    if (error instanceof Error) error.message += `\n${kind} stderr:\n${executor.stderr().slice(-3000)}`;
    throw error;
  } finally {
    assert.equal(await executor.stop(), 0, `${kind} exits 0 on SIGTERM`);
    await registry.close();
  }
}

async function fatalRun(kind: DirectExecutorKind, registry: FakeDirectRegistry) {
  const executor = startDirectExecutor(kind, { registryUrl: registry.baseUrl, environmentId: ENV_ID });
  const timer = setTimeout(() => executor.child.kill('SIGKILL'), 30_000);
  const code = await executor.exited;
  clearTimeout(timer);
  await executor.stop();
  return { code, error: errorBlock(executor.stderr()) };
}

const answer = (body: unknown, status = 200) => () => ({ status, body });
const registration = (patch: Record<string, unknown>) =>
  answer({ environment_id: ENV_ID, transport: 'direct_jsonrpc_v1', registration_id: 'reg-1', url: 'ws://127.0.0.1:1/direct', ...patch });

const FATAL_CASES: Array<[string, FakeDirectRegistryOptions, RegExp]> = [
  ['403 on the upgrade', { rejectUpgrades: () => 403 }, /^Error: failed to connect to exec-server websocket `ws:\/\/127\.0\.0\.1:\d+\/direct\/env-direct-sbs`: HTTP error: 403 Forbidden\n\nCaused by:\n {4}HTTP error: 403 Forbidden$/],
  ['404 on the upgrade', { rejectUpgrades: () => 404 }, /HTTP error: 404 Not Found$/],
  ['registration 503 registration_conflict', { intercept: answer({ error: { code: 'registration_conflict', message: 'busy' } }, 503) }, /^Error: environment registry request failed \(503 Service Unavailable, registration_conflict\): busy$/],
  ['registration 401', { intercept: answer({ error: { code: 'unauthorized', message: 'bad signature' } }, 401) }, /authentication failed \(401 Unauthorized\): bad signature$/],
  ['a non-loopback ws:// url', { intercept: registration({ url: 'ws://example.com/direct' }) }, /requires wss for non-loopback endpoints$/],
  ['an empty registration_id', { intercept: registration({ registration_id: '' }) }, /incomplete direct connection data$/],
  ['another transport', { intercept: registration({ transport: 'noise_hybrid_ik_v1' }) }, /unsupported direct transport `noise_hybrid_ik_v1`$/],
  ['no url', { intercept: answer({ environment_id: ENV_ID, transport: 'direct_jsonrpc_v1', registration_id: 'reg-1' }) }, /missing field `url` at line 1 column \d+$/],
];

describe('direct transport: exec-desk CLI vs codex exec-server', () => {
  test('registration, upgrade and a JSON-RPC session across a dropped socket', { timeout: 120_000 }, async () => {
    const runs = [];
    for (const kind of KINDS) runs.push(await runScenario(kind));
    const ours = runs[0]!;
    assert.deepEqual(ours.register.headerNames, ['content-type', 'x-amz-date', 'authorization', 'x-amz-security-token', 'accept', 'host', 'content-length']);
    assert.deepEqual(ours.upgrade.headerNames, ['Host', 'Connection', 'Upgrade', 'Sec-WebSocket-Version', 'Sec-WebSocket-Key', 'x-amz-security-token', 'authorization', 'x-amz-date']);
    const text = ours.transcript.join('\n');
    assert.match(text, /process "p1" .*hi\\n/);
    assert.match(text, /produced-while-away/);
    assert.match(text, /registrations: 1$/m);
    assert.match(text, /same url after the drop: true$/m);
    const theirs = runs[1];
    if (!theirs) return;
    assert.deepEqual(ours.register, theirs.register);
    assert.deepEqual(ours.upgrade, theirs.upgrade);
    assert.deepEqual(ours.transcript, theirs.transcript, diffLines(theirs.transcript, ours.transcript, ['reference', 'exec-desk']));
  });

  test('--aws-service and no session token: the same signed requests', { timeout: 60_000 }, async () => {
    const facts = [];
    for (const kind of KINDS) {
      const registry = await FakeDirectRegistry.start();
      const executor = startDirectExecutor(kind, { registryUrl: `${registry.baseUrl}/`, environmentId: ENV_ID, extraArgs: ['--aws-service', 'vpc-lattice-svcs'] });
      try {
        await registry.connection(0, 30_000);
        facts.push({ register: requestFacts(registry.registrations()[0]!), upgrade: requestFacts(registry.upgrades[0]!) });
      } finally {
        await executor.stop();
        await registry.close();
      }
    }
    assert.equal(facts[0]!.register.scope, 'us-east-1/vpc-lattice-svcs/aws4_request');
    assert.equal(facts[0]!.register.securityToken, undefined);
    assert.equal(facts[0]!.upgrade.signedHeaders, 'host;x-amz-date');
    if (facts[1]) assert.deepEqual(facts[0], facts[1]);
  });

  test('malformed messages are answered with id -1 and the connection stays up', { timeout: 60_000 }, async () => {
    const answers = [];
    for (const kind of KINDS) {
      const registry = await FakeDirectRegistry.start();
      const executor = startDirectExecutor(kind, { registryUrl: registry.baseUrl, environmentId: ENV_ID });
      try {
        const peer = await registry.connection(0, 30_000);
        await peer.initialize();
        peer.sendRaw('{not json');
        peer.sendRaw('[1,2]', true);
        peer.sendRaw('"text"');
        const after = await peer.request('process/read', { processId: 'none', afterSeq: 0 });
        const errors = peer.messages.filter((m) => m.id === -1).map((m) => JSON.stringify(m).replaceAll(String(registry.port), '<PORT>'));
        answers.push([...errors, JSON.stringify(after)]);
      } finally {
        await executor.stop();
        await registry.close();
      }
    }
    assert.equal(answers[0]!.length, 4);
    assert.match(answers[0]![0]!, /failed to parse websocket JSON-RPC message from direct exec-server websocket ws:\/\/127\.0\.0\.1:<PORT>\/direct\/env-direct-sbs: key must be a string at line 1 column 2/);
    if (answers[1]) assert.deepEqual(answers[0], answers[1]);
  });

  // What a refused upgrade leads to: [refusals in order, registrations, upgrade statuses, a new url dialled at the end]
  const REFUSALS: Array<[number[], number, boolean]> = [
    [[409], 2, true],
    [[503, 429], 1, false],
    [[408, 302], 1, false],
  ];
  for (const [refusals, registrations, newUrl] of REFUSALS) {
    test(`upgrade refused with ${refusals.join(', ')}: ${registrations > 1 ? 'registered again' : 'the same url retried'}`, { timeout: 60_000 }, async () => {
      const outcomes = [];
      for (const kind of KINDS) {
        const pending = [...refusals];
        const registry = await FakeDirectRegistry.start({ rejectUpgrades: () => pending.shift() });
        const executor = startDirectExecutor(kind, { registryUrl: registry.baseUrl, environmentId: ENV_ID });
        try {
          await registry.connection(0, 30_000);
          const upgrades = registry.upgrades;
          outcomes.push({ registrations: registry.registrations().length, upgrades: upgrades.map((u) => u.status), newUrl: upgrades.at(-1)!.url !== upgrades[0]!.url });
        } finally {
          await executor.stop();
          await registry.close();
        }
      }
      assert.deepEqual(outcomes[0], { registrations, upgrades: [...refusals, 101], newUrl });
      if (outcomes[1]) assert.deepEqual(outcomes[0], outcomes[1]);
    });
  }

  for (const [name, options, pattern] of FATAL_CASES) {
    test(`fatal: ${name} → exit 1 with the same error`, { timeout: 60_000 }, async () => {
      const registry = await FakeDirectRegistry.start(options);
      try {
        const runs = [];
        for (const kind of KINDS) runs.push(await fatalRun(kind, registry));
        assert.equal(runs[0]!.code, 1);
        assert.match(runs[0]!.error, pattern);
        if (runs[1]) assert.deepEqual(runs[0], runs[1]);
      } finally {
        await registry.close();
      }
    });
  }
});
