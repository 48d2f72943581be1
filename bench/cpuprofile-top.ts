/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. the exec-desk server started by
 * `bench/process-bench.ts --desk-node-args="--cpu-prof --cpu-prof-dir=DIR"`): self and inclusive
 * time per function (url:line), busiest first, idle excluded.
 *
 *   node --import tsx bench/cpuprofile-top.ts FILE.cpuprofile [--top N] [--from-ms A --to-ms B]
 *
 * --from-ms/--to-ms restrict the samples to a window (ms since the profile started), e.g. the
 * throughput phase only.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  process.stderr.write('usage: node --import tsx bench/cpuprofile-top.ts FILE.cpuprofile [--top N] [--from-ms A --to-ms B]\n');
  process.exit(2);
}
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const top = flag('--top', 30);
const fromMs = flag('--from-ms', 0);
const toMs = flag('--to-ms', Infinity);

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map<number, ProfileNode>();
const parentOf = new Map<number, number>();
for (const node of profile.nodes) {
  byId.set(node.id, node);
  for (const child of node.children ?? []) parentOf.set(child, node.id);
}

const label = (f: CallFrame) => {
  const where = f.url ? `${f.url.replace(/^file:\/\/\/work\/main\//, '').replace(/^file:\/\//, '')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let t = 0;
let busy = 0;
let idle = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i]! / 1000; // µs → ms
  t += dt;
  if (t < fromMs || t > toMs) continue;
  const leaf = byId.get(profile.samples[i]!)!;
  const name = leaf.callFrame.functionName;
  if (name === '(idle)') {
    idle += dt;
    continue;
  }
  busy += dt;
  self.set(label(leaf.callFrame), (self.get(label(leaf.callFrame)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let id: number | undefined = leaf.id; id !== undefined; id = parentOf.get(id)) {
    const l = label(byId.get(id)!.callFrame);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
  }
}

const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${v.toFixed(1).padStart(9)} ms ${((100 * v) / busy).toFixed(1).padStart(5)}%  ${name}\n`);
  }
};
process.stdout.write(`window ${fromMs}..${toMs === Infinity ? 'end' : toMs} ms of ${(t).toFixed(0)} ms: busy ${busy.toFixed(1)} ms, idle ${idle.toFixed(1)} ms\n`);
print('self time', self);
print('inclusive time', inclusive);
