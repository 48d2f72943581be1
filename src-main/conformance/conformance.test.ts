/**
 * Conformance suite: every scenario runs twice on the reference `codex exec-server` (the normalized
 * transcripts must be identical — the harness's self-test for determinism), then once on exec-desk, whose
 * normalized transcript must equal the reference's first run. Expected divergences (sandboxing) are left
 * out of that comparison but exec-desk's side of them is checked by the scenario's own rule.
 *
 * Servers are shared per (kind, scenario server key); scenarios that need flags get their own. Long-timer
 * scenarios (`once`) run once per server, both servers in parallel, overlapping the rest of the suite.
 * Run one scenario by hand: node --import tsx src-main/conformance/run.ts <name> both
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { execDeskBin, referenceAvailable } from '../testkit/server-process.ts';
import { diffLines } from './diff.ts';
import { runScenario, ServerPool, type RunResult, type Scenario } from './harness.ts';
import { determinismView, renderTranscript } from './normalize.ts';
import { scenarios } from './scenarios/index.ts';

const pool = new ServerPool();
after(() => pool.stopAll());

const referenceSkip = referenceAvailable() ? false : 'reference binary node_modules/.bin/codex is not installed';
const execDeskSkip = referenceSkip || (existsSync(execDeskBin) ? false : 'bin/exec-desk.mjs does not exist yet: exec-desk comparison skipped');

/**
 * 0.169.0 itself now and then pushes `process/exited` after `process/closed` (seen in about one
 * full suite run of five, under load, on a process whose exit races its output's end). A reference
 * run showing that known race is run again (at most twice), so neither the determinism check nor
 * exec-desk's baseline hangs on it; any other difference still fails.
 */
const KNOWN_REFERENCE_RACE = 'VIOLATION: process/exited after closed';

async function referenceRun(s: Scenario): Promise<RunResult> {
  let run = await runScenario(s, 'reference', pool);
  for (let again = 0; again < 2 && run.transcript.lines.some((line) => line.includes(KNOWN_REFERENCE_RACE)); again++) {
    run = await runScenario(s, 'reference', pool);
  }
  return run;
}

const firstReferenceRuns = new Map<string, Promise<RunResult>>();
function firstReferenceRun(s: Scenario): Promise<RunResult> {
  let run = firstReferenceRuns.get(s.name);
  if (!run) {
    run = referenceRun(s);
    firstReferenceRuns.set(s.name, run);
  }
  return run;
}

const regularScenarios = scenarios.filter((s) => !s.once);
const onceScenarios = scenarios.filter((s) => s.once);

/**
 * Long-timer scenarios (`once`) run once per server, both servers in parallel. They are started before the
 * first test so that their ≈ 85 s overlap the rest of the suite (unless a test name filter is given: then they
 * start with their own test); their tests, last in this file, await them.
 */
const onceRuns = new Map<string, { reference: Promise<RunResult>; execDesk: Promise<RunResult> | undefined }>();
function onceRun(s: Scenario): { reference: Promise<RunResult>; execDesk: Promise<RunResult> | undefined } {
  let runs = onceRuns.get(s.name);
  if (!runs) {
    runs = { reference: runScenario(s, 'reference', pool), execDesk: execDeskSkip ? undefined : runScenario(s, 'exec-desk', pool) };
    runs.reference.catch(() => {});
    runs.execDesk?.catch(() => {});
    onceRuns.set(s.name, runs);
  }
  return runs;
}
const filtered = process.execArgv.some((a) => a.startsWith('--test-name-pattern') || a.startsWith('--test-skip-pattern') || a === '--test-only');
before(() => {
  if (!referenceSkip && !filtered) for (const s of onceScenarios) onceRun(s);
});

function assertSameLines(expected: string[], actual: string[], labels: [string, string], what: string): void {
  if (isDeepStrictEqual(actual, expected)) return;
  assert.deepStrictEqual(actual, expected, `${what}\n${diffLines(expected, actual, labels)}`);
}

function timeoutFor(s: Scenario, runs: number): number {
  return runs * ((s.timeoutMs ?? 8000) + 5000) + 20_000;
}

describe('conformance: the reference is deterministic under normalization', () => {
  for (const s of regularScenarios) {
    test(`${s.name} (${s.spec})`, { skip: referenceSkip, timeout: timeoutFor(s, 2) }, async () => {
      const first = await firstReferenceRun(s);
      assert.equal(first.error, undefined, `scenario failed on the reference: ${first.error}\n${renderTranscript(first.transcript)}`);
      const second = await referenceRun(s);
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
  for (const s of regularScenarios) {
    test(`${s.name} (${s.spec})`, { skip: execDeskSkip, timeout: timeoutFor(s, 2) }, async () => {
      const [reference, execDesk] = [await firstReferenceRun(s), await runScenario(s, 'exec-desk', pool)];
      assertMatches(s, reference, execDesk);
    });
  }
});

describe('conformance: long timers (once per server, both servers in parallel)', () => {
  for (const s of onceScenarios) {
    test(`${s.name} (${s.spec}) on the reference`, { skip: referenceSkip, timeout: timeoutFor(s, 1) }, async () => {
      const reference = await onceRun(s).reference;
      assert.equal(reference.error, undefined, `scenario failed on the reference: ${reference.error}\n${renderTranscript(reference.transcript)}`);
    });
    test(`${s.name} (${s.spec}) exec-desk matches the reference`, { skip: execDeskSkip, timeout: timeoutFor(s, 1) }, async () => {
      const runs = onceRun(s);
      const [reference, execDesk] = await Promise.all([runs.reference, runs.execDesk!]);
      assertMatches(s, reference, execDesk);
    });
  }
});

function assertMatches(s: Scenario, reference: RunResult, execDesk: RunResult): void {
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
}
