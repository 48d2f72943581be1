/**
 * Runs conformance scenarios by hand and prints their normalized transcripts.
 *
 *   node --import tsx src-main/conformance/run.ts <scenario-name|prefix|all> [reference|exec-desk|both] [--raw-diff]
 *
 * With `both`, prints each transcript and a diff (reference → exec-desk). With `--twice`, runs the chosen
 * kind twice and diffs the runs (the determinism self-test).
 */
import { existsSync } from 'node:fs';
import { diffLines } from './diff.ts';
import { runScenario, ServerPool, type ServerKind } from './harness.ts';
import { determinismView, renderTranscript } from './normalize.ts';
import { findScenarios, scenarios } from './scenarios/index.ts';
import { execDeskBin } from '../testkit/server-process.ts';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const [pattern, which = 'reference'] = args.filter((a) => !a.startsWith('--'));

if (!pattern) {
  console.log('usage: run.ts <scenario|prefix|all> [reference|exec-desk|both] [--twice]\n\nscenarios:');
  for (const s of scenarios) console.log(`  ${s.name.padEnd(40)} ${s.spec.padEnd(12)} ${s.description}`);
  process.exit(2);
}
const chosen = pattern === 'all' ? scenarios : findScenarios(pattern);
if (chosen.length === 0) {
  console.error(`no scenario matches ${pattern}`);
  process.exit(2);
}
if (!['reference', 'exec-desk', 'both'].includes(which)) {
  console.error(`unknown target ${which}`);
  process.exit(2);
}
if (which !== 'reference' && !existsSync(execDeskBin)) {
  console.error(`${execDeskBin} does not exist yet`);
  process.exit(2);
}

const pool = new ServerPool();
let failures = 0;
try {
  for (const s of chosen) {
    const kinds: ServerKind[] = which === 'both' ? ['reference', 'exec-desk'] : [which as ServerKind];
    const results = [];
    // Long-timer scenarios run on both servers at once (each takes ≈ 85 s).
    const parallel = s.once ? new Map(kinds.map((kind) => [kind, runScenario(s, kind, pool)] as const)) : undefined;
    for (const kind of kinds) {
      const r = await (parallel?.get(kind) ?? runScenario(s, kind, pool));
      console.log(renderTranscript(r.transcript));
      console.log(`# (${r.durationMs} ms${r.error ? `, error: ${r.error}` : ''})\n`);
      results.push(r);
      if (flags.has('--twice')) {
        const again = await runScenario(s, kind, pool);
        const a = determinismView(r.transcript);
        const b = determinismView(again.transcript);
        if (JSON.stringify(a) === JSON.stringify(b)) console.log(`# second run on ${kind}: identical (${again.durationMs} ms)\n`);
        else {
          failures++;
          console.log(`# second run on ${kind} DIFFERS:\n${diffLines(a, b, ['run 1', 'run 2'])}\n`);
        }
      }
    }
    if (results.length === 2) {
      const [ref, desk] = results as [(typeof results)[0], (typeof results)[0]];
      if (JSON.stringify(ref.transcript.lines) === JSON.stringify(desk.transcript.lines)) console.log('# transcripts equal\n');
      else {
        failures++;
        console.log(`# transcripts DIFFER:\n${diffLines(ref.transcript.lines, desk.transcript.lines, ['reference', 'exec-desk'])}\n`);
      }
      for (const d of desk.transcript.divergences) if (d.problem) console.log(`# divergence ${d.name}: ${d.problem}`);
    }
  }
} finally {
  await pool.stopAll();
}
process.exit(failures > 0 ? 1 : 0);
