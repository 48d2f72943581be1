#!/usr/bin/env node
// Runs every *.test.ts under src-main/ (and any paths given) with node's own test runner,
// through tsx because Node 20 cannot strip types. Node's runner prints the closing
// "# pass N / # fail N" lines that CI reads.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateProto } from './gen-proto.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

// The relay frame code is generated from proto/relay.proto (gitignored output).
generateProto({ ifStale: true });

const args = process.argv.slice(2);
const files = args.length > 0 ? args : collect(join(root, 'src-main'), []).sort();
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=900000', ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
