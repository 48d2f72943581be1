import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProcessChange } from '../core/exec-server.ts';
import type { ProcessEvent, ProcessInfo, ProcessTable } from '../core/process/process-table.ts';
import { MAX_ARG_CHARS, MAX_ARGV_ENTRIES, ProcessSampler, decodeTail, displayArgv } from './process-sampler.ts';

/** A stand-in table: only `tail` is read by the sampler. */
function fakeTable(output: { bytes: Buffer }): ProcessTable {
  return { tail: (_id: string, max: number) => output.bytes.subarray(Math.max(0, output.bytes.length - max)) } as unknown as ProcessTable;
}

function info(patch: Partial<ProcessInfo> = {}): ProcessInfo {
  return { processId: 'p', pid: 1, argv: ['x'], cwd: '/', tty: false, state: 'running', exitCode: null, startedAtMs: 0, exitedAtMs: null, outputBytes: 0, ...patch };
}

test('output updates are sampled (one now, one trailing), state changes go out at once, tails are bounded', async () => {
  let clock = 1000;
  const published: any[] = [];
  const output = { bytes: Buffer.alloc(0) };
  const table = fakeTable(output);
  const sampler = new ProcessSampler({ tailBytes: 8, intervalMs: 50, now: () => clock, publish: (e) => published.push(e) });
  const change = (event: ProcessEvent, patch: Partial<ProcessInfo> = {}): ProcessChange => ({ sessionId: 's', table, info: info(patch), event });

  sampler.change(change('started'));
  assert.equal(published.length, 1);
  for (let i = 1; i <= 50; i++) {
    output.bytes = Buffer.concat([output.bytes, Buffer.from(`line${i}\n`)]);
    sampler.change(change('output', { outputBytes: output.bytes.length }));
  }
  assert.equal(published.length, 1, 'within the interval nothing more is published at once');
  clock += 50;
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(published.length, 2, 'one trailing update carries the latest output');
  const last = published[1].process;
  assert.equal(last.tail, '\nline50\n', 'the last 8 bytes');
  assert.ok(last.tail.length <= 8);
  assert.equal(last.outputBytes, output.bytes.length);

  sampler.change(change('output', { outputBytes: output.bytes.length }));
  sampler.change(change('exited', { state: 'exited', exitCode: 0, exitedAtMs: clock }));
  assert.equal(published.at(-1).process.state, 'exited', 'state changes are never held back');
  const count = published.length;
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(published.length, count, 'the pending output sample was folded into the state change');

  assert.deepEqual([...sampler.countsBySession()], [['s', 1]]);
  sampler.change(change('removed', { state: 'closed' }));
  assert.deepEqual(published.at(-1), { type: 'processRemoved', sessionId: 's', processId: 'p' });
  assert.deepEqual(sampler.list(), []);
  sampler.dispose();
});

test('a tail cut inside a UTF-8 character drops the torn bytes', () => {
  const text = Buffer.from('é€x');
  assert.equal(decodeTail(text.subarray(1)), '€x');
  assert.equal(decodeTail(text.subarray(3)), 'x');
  assert.equal(decodeTail(Buffer.from('plain')), 'plain');
});

test('argv is bounded for display', () => {
  assert.deepEqual(displayArgv(['sh', '-c', 'echo hi']), ['sh', '-c', 'echo hi']);
  const long = displayArgv(['bash', '-lc', 'x'.repeat(MAX_ARG_CHARS + 500)]);
  assert.equal(long[2], `${'x'.repeat(MAX_ARG_CHARS)}… (500 more characters)`);
  const many = displayArgv(Array.from({ length: MAX_ARGV_ENTRIES + 3 }, (_, i) => String(i)));
  assert.equal(many.length, MAX_ARGV_ENTRIES + 1);
  assert.equal(many.at(-1), '… (3 more arguments)');
});
