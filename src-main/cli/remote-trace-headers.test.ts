/**
 * Trace context on the remote executor's wire, differentially. 0.169.0 adds `traceparent` (and an
 * empty `tracestate` on registry requests) only when config.toml configures an OpenTelemetry
 * trace exporter (`[otel] trace_exporter`); the `TRACEPARENT`/`TRACESTATE` and `OTEL_*`
 * environment variables alone add nothing. exec-desk exports no traces, so with those variables
 * set both must send the same header names, in the same order, on `/register` and on the
 * rendezvous upgrade, and neither a trace header.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRegistry } from '../testkit/remote/fake-registry.ts';
import { execDeskBin } from '../testkit/server-process.ts';
import { launchReferenceWithAuth, referenceAvailable } from '../remote/auth/testing/reference-auth-launcher.ts';

const TRACE_ENV = {
  CODEX_API_KEY: 'sk-trace',
  TRACEPARENT: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  TRACESTATE: 'vendor=value',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
  OTEL_TRACES_EXPORTER: 'otlp',
  // and the two optional upgrade headers, so their place in the order is compared too
  OPENAI_CLUSTER: 'cluster-1',
  DD_SERVICE: 'svc',
};

const names = (headers: Array<[string, string]>) => headers.map(([name]) => name);

async function deskExecutor(registry: FakeRegistry, environmentId: string): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'exec-desk-trace-'));
  const child = spawn(process.execPath, [execDeskBin, '--remote', registry.baseUrl, '--environment-id', environmentId], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, CODEX_HOME: home, ...TRACE_ENV },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await registry.waitForExecutor(environmentId).catch((error: Error) => {
      throw new Error(`${error.message}; exec-desk stderr: ${stderr.slice(-600)}`);
    });
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(home, { recursive: true, force: true });
  }
}

test('TRACEPARENT and OTEL_* alone put no trace header on /register or the upgrade, like the reference', { skip: !referenceAvailable() && 'reference binary not installed', timeout: 60_000 }, async () => {
  const registry = await FakeRegistry.start();
  try {
    const ref = launchReferenceWithAuth({ registryUrl: registry.baseUrl, environmentId: 'ref-env', env: TRACE_ENV });
    try {
      await registry.waitForExecutor('ref-env');
    } finally {
      await ref.stop();
    }
    await deskExecutor(registry, 'desk-env');

    const [refRegister] = registry.registrations('ref-env');
    const [deskRegister] = registry.registrations('desk-env');
    const [refUpgrade] = registry.executorUpgrades('ref-env');
    const [deskUpgrade] = registry.executorUpgrades('desk-env');
    assert.deepEqual(names(deskRegister!.headers), names(refRegister!.headers));
    assert.deepEqual(names(deskUpgrade!.headers), names(refUpgrade!.headers));
    for (const request of [refRegister!, deskRegister!, refUpgrade!, deskUpgrade!]) {
      assert.ok(!names(request.headers).some((name) => name.startsWith('trace')), JSON.stringify(request.headers));
    }
  } finally {
    await registry.close();
  }
});
