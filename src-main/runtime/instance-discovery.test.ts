import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiscoveryError, discoveryPath, execDeskHome, processAlive, readDiscovery, removeDiscovery, writeDiscovery, type DiscoveryRecord } from './instance-discovery.ts';

const record = (pid: number): DiscoveryRecord => ({
  schemaVersion: 1,
  pid,
  version: '0.0.0',
  startedAtMs: 1,
  controlUrl: 'ws://127.0.0.1:1/control',
  dashboardUrl: 'http://127.0.0.1:1/#token=t',
  token: 't',
  listenUrl: null,
});

test('written 0600 in a 0700 home, read back, removed only by its owner', () => {
  const base = mkdtempSync(join(tmpdir(), 'exec-desk-home-'));
  const home = join(base, 'home');
  try {
    assert.equal(execDeskHome({ EXEC_DESK_HOME: home }), home);
    assert.match(execDeskHome({}), /\.exec-desk$/);
    assert.throws(() => readDiscovery(home), (e: unknown) => e instanceof DiscoveryError && /no running exec-desk instance/.test(e.message));
    writeDiscovery(home, record(process.pid));
    assert.equal(statSync(discoveryPath(home)).mode & 0o777, 0o600);
    assert.equal(statSync(home).mode & 0o777, 0o700);
    assert.deepEqual(readDiscovery(home), record(process.pid));
    removeDiscovery(home, process.pid + 1);
    assert.ok(existsSync(discoveryPath(home)), 'another instance does not remove our file');
    removeDiscovery(home, process.pid);
    assert.ok(!existsSync(discoveryPath(home)));

    writeFileSync(discoveryPath(home), '{"schemaVersion":2}');
    assert.throws(() => readDiscovery(home), /not a valid discovery file: unsupported schemaVersion 2/);
    assert.equal(readFileSync(discoveryPath(home), 'utf8'), '{"schemaVersion":2}', 'a bad file is reported, not deleted');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('processAlive tells a live pid from an unused one', () => {
  assert.equal(processAlive(process.pid), true);
  assert.equal(processAlive(2 ** 22 + 12345), false);
});
