#!/usr/bin/env node
// The one test command. Runs every *.test.ts under src-main/ and src-renderer/ and every *.spec.ts
// under e2e/ (or the paths given) with node's own test runner, through tsx because Node 20 cannot
// strip types. The browser specs (e2e/) are node:test files too, driving Playwright's library API
// rather than Playwright's own runner: one runner means one count, one timeout policy, TAP that CI
// already reads, shared helpers (testkit clients, real runtimes) without a second process tree.
// Before them the app is built when out/ is missing or older than its sources. Prints node's TAP, then ends with one line: "N passed, N failed".
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateProto } from './gen-proto.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const TEST_ROOTS = [
  ['src-main', '.test.ts'],
  ['src-renderer', '.test.ts'],
  ['e2e', '.spec.ts'],
];

/** Unit and integration tests sit beside their modules as *.test.ts; the browser and app specs are e2e/*.spec.ts. */
function collect(dir, suffix, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, suffix, out);
    else if (name.endsWith(suffix)) out.push(relative(root, path));
  }
  return out;
}

/** Newest modification time of any file under `dir` (0 when it does not exist). */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  const stat = statSync(dir);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    latest = Math.max(latest, newest(join(dir, name)));
  }
  return latest;
}

/** Builds main, preload and renderer (electron-vite) unless out/ is newer than every source; false if the build failed. */
function buildIfStale() {
  const outputs = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'].map((p) => join(root, p));
  const built = outputs.every((p) => existsSync(p)) ? Math.min(...outputs.map((p) => statSync(p).mtimeMs)) : 0;
  const sources = Math.max(
    ...['src-renderer', 'src-main', 'resources', 'electron.vite.config.ts', 'package.json'].map((p) => newest(join(root, p))),
  );
  if (built > sources) return true;
  console.log('# building the app (out/ is missing or older than its sources)');
  const result = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) {
    console.log('# the build failed: the browser tests will run against an old or missing out/ (counted as one failure)');
    return false;
  }
  return true;
}

// The relay frame code is generated from proto/relay.proto (gitignored output).
generateProto({ ifStale: true });

const args = process.argv.slice(2);
const files = args.length > 0 ? args : TEST_ROOTS.flatMap(([dir, suffix]) => collect(join(root, dir), suffix, [])).sort();
const buildFailed = files.some((f) => relative(root, resolve(root, f)).startsWith('e2e')) && !buildIfStale();

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=900000', '--test-reporter=tap', ...files],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);

// Pass the TAP through and read its closing counts (top-level "# pass N" lines).
const counts = { pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
let pending = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString('utf8');
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    const m = /^# (pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line);
    if (m) counts[m[1]] = Number(m[2]);
  }
});
child.on('close', (code, signal) => {
  const failed = counts.fail + counts.cancelled + (buildFailed ? 1 : 0);
  if (counts.skipped > 0 || counts.todo > 0) console.log(`# ${counts.skipped} skipped, ${counts.todo} todo (see the "# SKIP" lines for why)`);
  // A crashed runner with no failing test still counts as a failure.
  const runnerFailed = (code !== 0 || signal !== null) && failed === 0 ? 1 : 0;
  console.log(`${counts.pass} passed, ${failed + runnerFailed} failed`);
  process.exit(buildFailed ? 1 : (code ?? 1));
});
