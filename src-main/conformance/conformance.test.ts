/**
 * Conformance suite: every scenario runs twice on the reference `codex exec-server` (the normalized
 * transcripts must be identical — the harness's self-test for determinism), then once on exec-desk, whose
 * normalized transcript must equal the reference's first run. Expected divergences (sandboxing) are left
 * out of that comparison but exec-desk's side of them is checked by the scenario's own rule.
 *
 * Servers are shared per (kind, scenario server key); scenarios that need flags get their own.
 * Run one scenario by hand: node --import tsx src-main/conformance/run.ts <name> both
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { after, describe, test } from 'node:test';
import { execDeskBin, referenceAvailable } from '../testkit/server-process.ts';
import { diffLines } from './diff.ts';
import { runScenario, ServerPool, type RunResult, type Scenario } from './harness.ts';
import { determinismView, renderTranscript } from './normalize.ts';
import { scenarios } from './scenarios/index.ts';

const pool = new ServerPool();
after(() => pool.stopAll());

const referenceSkip = referenceAvailable() ? false : 'reference binary node_modules/.bin/codex is not installed';
const execDeskSkip = referenceSkip || (existsSync(execDeskBin) ? false : 'bin/exec-desk.mjs does not exist yet: exec-desk comparison skipped');

const firstReferenceRuns = new Map<string, Promise<RunResult>>();
function firstReferenceRun(s: Scenario): Promise<RunResult> {
  let run = firstReferenceRuns.get(s.name);
  if (!run) {
    run = runScenario(s, 'reference', pool);
    firstReferenceRuns.set(s.name, run);
  }
  return run;
}

function assertSameLines(expected: string[], actual: string[], labels: [string, string], what: string): void {
  if (isDeepStrictEqual(actual, expected)) return;
  assert.deepStrictEqual(actual, expected, `${what}\n${diffLines(expected, actual, labels)}`);
}

function timeoutFor(s: Scenario, runs: number): number {
  return runs * ((s.timeoutMs ?? 8000) + 5000) + 20_000;
}

describe('conformance: the reference is deterministic under normalization', () => {
  for (const s of scenarios) {
    test(`${s.name} (${s.spec})`, { skip: referenceSkip, timeout: timeoutFor(s, 2) }, async () => {
      const first = await firstReferenceRun(s);
      assert.equal(first.error, undefined, `scenario failed on the reference: ${first.error}\n${renderTranscript(first.transcript)}`);
      const second = await runScenario(s, 'reference', pool);
      assert.equal(second.error, undefined, `scenario failed on the reference (run 2): ${second.error}`);
      assertSameLines(
        determinismView(first.transcript),
        determinismView(second.transcript),
        ['reference run 1', 'reference run 2'],
        `${s.name}: two runs on the reference gave different normalized transcripts`,
      );
    });
  }
});

describe('conformance: exec-desk matches the reference', () => {
  for (const s of scenarios) {
    test(`${s.name} (${s.spec})`, { skip: execDeskSkip, timeout: timeoutFor(s, 2) }, async () => {
      const [reference, execDesk] = [await firstReferenceRun(s), await runScenario(s, 'exec-desk', pool)];
      assert.equal(reference.error, undefined, `scenario failed on the reference: ${reference.error}`);
      assertSameLines(
        reference.transcript.lines,
        execDesk.transcript.lines,
        ['reference', 'exec-desk'],
        `${s.name}: exec-desk's normalized transcript differs from the reference's`,
      );
      assert.deepStrictEqual(
        execDesk.transcript.divergences.map((d) => d.name),
        reference.transcript.divergences.map((d) => d.name),
        'the same expected divergences are present',
      );
      for (const d of execDesk.transcript.divergences) {
        assert.equal(d.problem, null, `expected divergence ${d.name}: exec-desk did not do what it should\n${d.lines.join('\n')}`);
      }
    });
  }
});
