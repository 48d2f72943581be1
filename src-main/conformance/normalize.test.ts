/** Unit tests of the transcript normalizer and the line diff (no servers involved). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffLines } from './diff.ts';
import { normalizeRun, type RawConnection, type RawRun } from './normalize.ts';

const SID = '0b8f8a9e-7c4e-4a56-9d0b-1f2e3d4c5b6a';
const OTHER = '11111111-2222-4333-8444-555555555555';
const b64 = (s: string) => Buffer.from(s).toString('base64');

function conn(label: string, sent: unknown[], received: unknown[], extra: Partial<RawConnection> = {}): RawConnection {
  return {
    label,
    description: '/',
    sent: sent.map((message) => ({ type: 'json' as const, message })),
    received: received.map((m) => ({ text: JSON.stringify(m), binary: false })),
    closeCode: null,
    ...extra,
  };
}

function run(connections: RawConnection[], kind: RawRun['kind'] = 'reference'): ReturnType<typeof normalizeRun> {
  return normalizeRun({ scenario: 't', kind, steps: [], connections, paths: [['/tmp/conf-wd-x', '<WORKDIR>']] });
}

const init = (id: number, sid: string) => [{ id, method: 'initialize', params: { clientName: 'x' } }, { id, result: { sessionId: sid } }] as const;

test('session ids become consistent placeholders, paths and peer ports are erased', () => {
  const [req, res] = init(1, SID);
  const t = run([
    conn('c1', [req, { id: 2, method: 'initialize', params: { clientName: 'x', resumeSessionId: OTHER.toUpperCase() } }], [
      res,
      { error: { code: -32600, message: `unknown session id ${OTHER.toUpperCase()}` }, id: 2 },
      { error: { code: -32600, message: 'failed to parse ... websocket 127.0.0.1:54321: x /tmp/conf-wd-x/a' }, id: -1 },
    ]),
  ]);
  // Placeholders follow first appearance in rendering order: c1's sent frames come before its replies.
  assert.ok(t.lines.includes('c1 → {"id":2,"method":"initialize","params":{"clientName":"x","resumeSessionId":"<SID1>"}}'), t.lines.join('\n'));
  assert.ok(t.lines.includes('c1 ← {"id":1,"result":{"sessionId":"<SID2>"}}'));
  assert.ok(t.lines.includes('c1 ← {"error":{"code":-32600,"message":"unknown session id <SID1>"},"id":2}'));
  assert.ok(t.lines.some((l) => l.includes('127.0.0.1:<PORT>: x <WORKDIR>/a')));
});

test('process notifications fold into bytes per stream with seq facts; exited may overtake one output', () => {
  const [req, res] = init(1, SID);
  const out = (seq: number, text: string, stream = 'stdout') => ({ method: 'process/output', params: { processId: 'p', seq, stream, chunk: b64(text) } });
  const ok = run([
    conn('c1', [req, { id: 2, method: 'process/start', params: { processId: 'p' } }], [
      res,
      { id: 2, result: { processId: 'p', sandboxType: 'none' } },
      out(1, 'a'),
      out(2, 'e', 'stderr'),
      { method: 'process/exited', params: { processId: 'p', seq: 4, exitCode: 0, sandboxDenied: false } },
      out(3, 'b'),
      { method: 'process/closed', params: { processId: 'p', seq: 5 } },
    ]),
  ]);
  assert.ok(
    ok.lines.includes('c1 process "p" {"stdout":"ab","stderr":"e","exited":{"exitCode":0,"sandboxDenied":false},"closed":true,"firstSeq":1,"seq":"ok"}'),
    ok.lines.join('\n'),
  );
  const bad = run([
    conn('c1', [req], [res, out(1, 'a'), out(3, 'b'), { method: 'process/closed', params: { processId: 'p', seq: 4 } }, out(5, 'c')]),
  ]);
  const line = bad.lines.find((l) => l.startsWith('c1 process'))!;
  assert.match(line, /VIOLATION: .*gap between seq 1 and 3/);
  assert.match(line, /closed without exited/);
  assert.match(line, /process\/output after closed/);
  assert.match(line, /closed seq 4 is not the highest/);
  const swapped = run([conn('c1', [req], [res, out(2, 'b'), out(1, 'a')])]);
  assert.match(swapped.lines.find((l) => l.startsWith('c1 process'))!, /stdout seq 1 arrived after 2/);
});

test('process/read results fold chunks and express nextSeq as an anchor', () => {
  const [req, res] = init(1, SID);
  const t = run([
    conn('c1', [req, { id: 2, method: 'process/read', params: { processId: 'p', afterSeq: 0, maxBytes: 2 } }, { id: 3, method: 'process/read', params: { processId: 'p', afterSeq: 2 } }], [
      res,
      { method: 'process/output', params: { processId: 'p', seq: 1, stream: 'stdout', chunk: b64('x') } },
      { method: 'process/output', params: { processId: 'p', seq: 2, stream: 'stdout', chunk: b64('y') } },
      { method: 'process/exited', params: { processId: 'p', seq: 3, exitCode: 0, sandboxDenied: false } },
      { method: 'process/closed', params: { processId: 'p', seq: 4 } },
      { id: 2, result: { chunks: [{ seq: 1, stream: 'stdout', chunk: b64('x') }, { seq: 2, stream: 'stdout', chunk: b64('y') }], nextSeq: 3, exited: true } },
      { id: 3, result: { chunks: [], nextSeq: 5, exited: true } },
    ]),
  ]);
  assert.ok(t.lines.includes('c1 ← {"id":2,"result":{"chunks":{"stdout":"xy"},"nextSeq":"lastChunk+1","exited":true}}'), t.lines.join('\n'));
  assert.ok(t.lines.includes('c1 ← {"id":3,"result":{"chunks":{},"nextSeq":"closed+1","exited":true}}'));
  assert.ok(t.lines.includes('c1 → {"id":3,"method":"process/read","params":{"processId":"p","afterSeq":"<seq>"}}'));
});

test('a read chunk that contradicts the notification with the same seq is a violation', () => {
  const [req, res] = init(1, SID);
  const t = run([
    conn('c1', [req, { id: 2, method: 'process/read', params: { processId: 'p' } }], [
      res,
      { method: 'process/output', params: { processId: 'p', seq: 1, stream: 'stdout', chunk: b64('x') } },
      { id: 2, result: { chunks: [{ seq: 1, stream: 'stdout', chunk: b64('DIFFERENT') }], nextSeq: 2 } },
    ]),
  ]);
  assert.ok(t.lines.some((l) => l.includes('"seqInvariant":"VIOLATION: chunk seq 1 differs from the notification with that seq"')));
});

test('environmentInfo: volatile fields erased, capability flags reduced to names, values recorded', () => {
  const info = { executorVersion: '9.9.9', providerId: 'sha256:ab', cwd: 'file:///srv', userHomeDir: 'file:///root', prependPathDirs: ['file:///x'], capabilities: { b: true, a: false } };
  const t = run([conn('c1', [{ id: 1, method: 'environment/info' }, { id: 2, method: 'environment/info' }], [{ id: 1, result: info }, { id: 2, result: info }])]);
  assert.ok(t.lines.includes('c1 ← {"id":1,"result":{"executorVersion":"<VERSION>","providerId":"<PROVIDER_ID>","cwd":"file:///srv","userHomeDir":"<HOME_URI>","prependPathDirs":"<PREPEND_PATH_DIRS>","capabilities":{"keys":["a","b"]}}}'));
  assert.ok(t.lines.includes('c1 ← {"id":2,"result":"<environmentInfo as above>"}'));
  assert.deepEqual(t.recorded, ['recorded executorVersion "9.9.9"', 'recorded capabilities {"b":true,"a":false}']);
});

test('divergent connections are kept apart and checked only for exec-desk', () => {
  const divergence = { name: 'd', reason: 'r', checkExecDesk: (m: unknown[]) => (m.length === 1 ? null : 'wrong') };
  const connections = [conn('c1', [{ id: 1, method: 'x' }], [{ id: 1, result: {} }], { divergence }), conn('c2', [], [])];
  const ref = run(connections, 'reference');
  assert.ok(ref.lines[0]!.startsWith('c2 '));
  assert.equal(ref.divergences[0]!.problem, null);
  const desk = run([conn('c1', [], [], { divergence }), conn('c2', [], [])], 'exec-desk');
  assert.equal(desk.divergences[0]!.problem, 'wrong');
});

test('non-canonical received text is shown raw (e.g. integers beyond 2^53)', () => {
  const t = run([{ label: 'c1', description: '/', sent: [], received: [{ text: '{"id":9223372036854775807,"result":{}}', binary: false }], closeCode: 1006 }]);
  assert.ok(t.lines.some((l) => l.includes('[non-canonical text "{\\"id\\":9223372036854775807,\\"result\\":{}}"]')));
  assert.ok(t.lines.includes('c1 closed with code 1006'));
});

test('diffLines shows removed and added lines with context', () => {
  const d = diffLines(['a', 'b', 'c', 'd'], ['a', 'B', 'c', 'd', 'e'], ['ref', 'desk']);
  assert.match(d, /^--- ref\n\+\+\+ desk/);
  assert.match(d, /\n- b\n\+ B\n/);
  assert.match(d, /\n\+ e/);
});
