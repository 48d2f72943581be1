import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendLog, applyEvent, MAX_LOG_ENTRIES } from './reducer.ts';
import { logFixture, processFixture, sessionFixture, snapshotFixture, streamFixture } from './test-fixtures.ts';

test('replaces the listener, registration and settings wholesale', () => {
  const before = snapshotFixture();
  const listener = { ...before.listener, status: 'stopped' as const, url: null };
  const after = applyEvent(before, { type: 'listener', listener });
  assert.deepEqual(after.listener, listener);
  assert.equal(before.listener.status, 'listening', 'the old snapshot is not mutated');

  const registration = { ...before.registration, status: 'online' as const, onlineSinceMs: 5 };
  assert.equal(applyEvent(before, { type: 'registration', registration }).registration.status, 'online');
  const settings = { ...before.settings, closeToTray: false };
  assert.equal(applyEvent(before, { type: 'settings', settings }).settings.closeToTray, false);
});

test('upserts sessions by id, keeping order, and removes them', () => {
  let s = snapshotFixture();
  s = applyEvent(s, { type: 'session', session: sessionFixture('a') });
  s = applyEvent(s, { type: 'session', session: sessionFixture('b') });
  s = applyEvent(s, { type: 'session', session: sessionFixture('a', { state: 'detached', carrier: null, expiresAtMs: 9_000 }) });
  assert.deepEqual(s.sessions.map((x) => [x.sessionId, x.state]), [['a', 'detached'], ['b', 'attached']]);
  assert.equal(s.sessions[0]?.expiresAtMs, 9_000);
  s = applyEvent(s, { type: 'sessionRemoved', sessionId: 'a' });
  assert.deepEqual(s.sessions.map((x) => x.sessionId), ['b']);
  s = applyEvent(s, { type: 'sessionRemoved', sessionId: 'unknown' });
  assert.deepEqual(s.sessions.map((x) => x.sessionId), ['b']);
});

test('keys processes by session and process id together', () => {
  let s = snapshotFixture();
  s = applyEvent(s, { type: 'process', process: processFixture('s1', 'p') });
  s = applyEvent(s, { type: 'process', process: processFixture('s2', 'p') });
  s = applyEvent(s, { type: 'process', process: processFixture('s1', 'p', { state: 'exited', exitCode: 3, tail: 'bye' }) });
  assert.equal(s.processes.length, 2);
  assert.deepEqual(s.processes[0], processFixture('s1', 'p', { state: 'exited', exitCode: 3, tail: 'bye' }));
  assert.equal(s.processes[1]?.state, 'running');
  s = applyEvent(s, { type: 'processRemoved', sessionId: 's2', processId: 'p' });
  assert.deepEqual(s.processes.map((p) => p.sessionId), ['s1']);
});

test('upserts and removes streams', () => {
  let s = snapshotFixture();
  s = applyEvent(s, { type: 'stream', stream: streamFixture('1', { state: 'handshaking' }) });
  s = applyEvent(s, { type: 'stream', stream: streamFixture('1', { state: 'open', bytesIn: 10 }) });
  assert.deepEqual(s.streams, [streamFixture('1', { state: 'open', bytesIn: 10 })]);
  s = applyEvent(s, { type: 'streamRemoved', streamId: '1' });
  assert.deepEqual(s.streams, []);
});

test('appends logs once each, by seq, and bounds them', () => {
  let s = snapshotFixture({ logs: [logFixture(1), logFixture(2)] });
  const same = applyEvent(s, { type: 'log', entry: logFixture(2) });
  assert.equal(same, s, 'an entry already present changes nothing');
  s = applyEvent(s, { type: 'log', entry: logFixture(3) });
  assert.deepEqual(s.logs.map((l) => l.seq), [1, 2, 3]);

  let logs = [logFixture(0)];
  for (let i = 1; i <= MAX_LOG_ENTRIES + 5; i++) logs = appendLog(logs, logFixture(i));
  assert.equal(logs.length, MAX_LOG_ENTRIES);
  assert.equal(logs[0]?.seq, 6);
  assert.equal(logs.at(-1)?.seq, MAX_LOG_ENTRIES + 5);
});

test('ignores event types it does not know', () => {
  const s = snapshotFixture();
  const unknown = { type: 'fromTheFuture' } as unknown as Parameters<typeof applyEvent>[1];
  assert.equal(applyEvent(s, unknown), s);
});
