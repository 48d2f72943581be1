#!/usr/bin/env node
// Generates the static protobuf code for proto/relay.proto into src-main/gen/ (gitignored: it is
// a build output). `--if-stale` regenerates only when an output is missing or older than the
// .proto or this script; scripts/run-tests.mjs and the `preserve`/`pretypecheck` npm scripts use
// it, so a fresh checkout needs no manual step.
//
//   pbjs -t static-module -w esm --force-number -o src-main/gen/relay.js proto/relay.proto
//   pbts -o src-main/gen/relay.d.ts src-main/gen/relay.js
//
// `-w esm` (same wrapper as `es6`) emits `import $protobuf from "protobufjs/minimal.js"`, which
// tsx and electron-vite both load; `--force-number` types 64-bit fields as number (the schema has
// none today, so this only keeps future fields free of Long).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const proto = join(root, 'proto/relay.proto');
const outDir = join(root, 'src-main/gen');
const outJs = join(outDir, 'relay.js');
const outDts = join(outDir, 'relay.d.ts');
const self = fileURLToPath(import.meta.url);

function isStale() {
  if (!existsSync(outJs) || !existsSync(outDts)) return true;
  const newestInput = Math.max(statSync(proto).mtimeMs, statSync(self).mtimeMs);
  return Math.min(statSync(outJs).mtimeMs, statSync(outDts).mtimeMs) < newestInput;
}

function run(bin, args) {
  const require = createRequire(import.meta.url);
  const script = require.resolve(`protobufjs-cli/bin/${bin}`);
  const result = spawnSync(process.execPath, [script, ...args], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${bin} failed with exit code ${result.status}`);
}

export function generateProto({ ifStale = false } = {}) {
  if (ifStale && !isStale()) return false;
  mkdirSync(outDir, { recursive: true });
  run('pbjs', ['-t', 'static-module', '-w', 'esm', '--force-number', '-o', outJs, proto]);
  run('pbts', ['-o', outDts, outJs]);
  return true;
}

if (process.argv[1] === self) {
  try {
    generateProto({ ifStale: process.argv.includes('--if-stale') });
  } catch (error) {
    process.stderr.write(`gen-proto: ${error.message}\n`);
    process.exit(1);
  }
}
