/**
 * Tests for capability-discovery.ts (capabilityRoots/discoverV1) on real temp trees. The expected
 * results are what the 0.169.0 binary returned for the same trees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PathUri } from '../protocol/path-uri.ts';
import { discoverCapabilityRoots, walkTree } from './capability-discovery.ts';

function fixture(files: Record<string, string | Buffer>): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'capdisc-')));
  for (const [rel, contents] of Object.entries(files)) {
    const path = join(root, rel);
    if (rel.endsWith('/')) mkdirSync(path, { recursive: true });
    else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, contents);
    }
  }
  return root;
}

const file = (root: string, rel: string, contents: string) => ({ path: `file://${root}/${rel}`, contents });

async function discover(root: string, ...rels: Array<[string, string]>) {
  const result = await discoverCapabilityRoots(rels.map(([id, rel]) => ({ id, path: PathUri.parse(`file://${root}/${rel}`) })));
  return result.roots;
}

test('a plugin root: manifest, declared mcp/apps files, skills sorted by URI, namespace manifests', async (t) => {
  const m1 = '{"name":"p1","mcpServers":"./mcp.json","apps":"./apps.json"}';
  const root = fixture({
    'p1/.codex-plugin/plugin.json': m1,
    'p1/mcp.json': '{"mcpServers":{}}',
    'p1/apps.json': '{"apps":[]}',
    'p1/.mcp.json': 'default-mcp',
    'p1/skills/b/SKILL.md': 'b',
    'p1/skills/a/SKILL.md': 'a',
    'p1/skills/a/agents/openai.yaml': 'meta',
    'p1/nested/.claude-plugin/plugin.json': '{"name":"nested-claude"}',
    'p1/nested/.cursor-plugin/plugin.json': '{"name":"nested-cursor"}',
    'p1/.hidden/SKILL.md': 'hidden',
    'p1/SKILL.md': 'root',
    'p1/x/y/z/w/v/u/SKILL.md': 'depth 6',
    'p1/x/y/z/w/v/u/t/SKILL.md': 'depth 7',
    'p1/skills/bin/SKILL.md': Buffer.from([0x61, 0xff, 0x62]),
    'p2/.claude-plugin/plugin.json': '{"name":"p2"}',
  });
  symlinkSync(`${root}/p2`, `${root}/p1/link-to-p2`);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const [r1] = await discover(root, ['r1', 'p1']);
  assert.deepEqual(r1, {
    id: 'r1',
    path: `file://${root}/p1`,
    plugin: {
      manifest: file(root, 'p1/.codex-plugin/plugin.json', m1),
      mcpConfig: file(root, 'p1/mcp.json', '{"mcpServers":{}}'),
      appsConfig: file(root, 'p1/apps.json', '{"apps":[]}'),
    },
    skills: [
      { instructions: file(root, 'p1/.hidden/SKILL.md', 'hidden'), metadata: null },
      { instructions: file(root, 'p1/SKILL.md', 'root'), metadata: null },
      { instructions: file(root, 'p1/skills/a/SKILL.md', 'a'), metadata: file(root, 'p1/skills/a/agents/openai.yaml', 'meta') },
      { instructions: file(root, 'p1/skills/b/SKILL.md', 'b'), metadata: null },
      { instructions: file(root, 'p1/x/y/z/w/v/u/SKILL.md', 'depth 6'), metadata: null },
    ],
    namespaceManifests: [
      file(root, 'p1/.codex-plugin/plugin.json', m1),
      file(root, 'p1/link-to-p2/.claude-plugin/plugin.json', '{"name":"p2"}'),
      file(root, 'p1/nested/.claude-plugin/plugin.json', '{"name":"nested-claude"}'),
    ],
    warnings: [`capability file file://${root}/p1/skills/bin/SKILL.md is not UTF-8: invalid utf-8 sequence of 1 bytes from index 1`],
    error: null,
  });
});

test('manifest fallbacks, default and inline MCP, ignored declarations, ancestor manifests', async (t) => {
  const root = fixture({
    'inline/.claude-plugin/plugin.json': '{"mcpServers": {"s": {}}}',
    'inline/.mcp.json': 'not read',
    'notjson/.codex-plugin/plugin.json': 'not json',
    'notjson/.mcp.json': 'mcp',
    'bad/.codex-plugin/plugin.json': '{"mcpServers":"mcp.json","apps":"./../x"}',
    'fallback/.codex-plugin/': '',
    'fallback/.cursor-plugin/plugin.json': '{"name":"cursor"}',
    'parent/.codex-plugin/plugin.json': '{"name":"parent"}',
    'parent/sub/skills/s/SKILL.md': 's',
    'dirmanifest/.codex-plugin/plugin.json/': '',
  });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const [inline, notjson, bad, fallback, sub, dirmanifest] = await discover(
    root,
    ['i', 'inline'],
    ['n', 'notjson'],
    ['b', 'bad'],
    ['f', 'fallback'],
    ['s', 'parent/sub'],
    ['d', 'dirmanifest'],
  );
  assert.equal(inline!.plugin!.mcpConfig, null);
  assert.deepEqual(notjson!.plugin!.mcpConfig, file(root, 'notjson/.mcp.json', 'mcp'));
  assert.deepEqual(bad!.warnings, [
    `ignoring mcpServers in file://${root}/bad/.codex-plugin/plugin.json: path must start with \`./\``,
    `ignoring apps in file://${root}/bad/.codex-plugin/plugin.json: path must remain below the capability root`,
  ]);
  assert.equal(bad!.plugin!.mcpConfig, null);
  assert.deepEqual(fallback!.plugin!.manifest, file(root, 'fallback/.cursor-plugin/plugin.json', '{"name":"cursor"}'));
  assert.equal(sub!.plugin, null);
  assert.deepEqual(sub!.namespaceManifests, [file(root, 'parent/.codex-plugin/plugin.json', '{"name":"parent"}')]);
  assert.equal(sub!.skills.length, 1);
  assert.equal(dirmanifest!.plugin, null);
});

test('per-root errors are strings, not JSON-RPC errors', async (t) => {
  const root = fixture({ 'file.txt': 'x' });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const roots = await discoverCapabilityRoots([
    { id: 'f', path: PathUri.parse(`file://${root}/file.txt`) },
    { id: 'm', path: PathUri.parse(`file://${root}/nope`) },
    { id: 'w', path: PathUri.parse('file:///C:/x') },
  ]);
  assert.deepEqual(
    roots.roots.map((r) => r.error),
    [
      `capability root file://${root}/file.txt is not a directory`,
      `failed to inspect capability root file://${root}/nope: No such file or directory (os error 2)`,
      "failed to inspect capability root file:///C:/x: 'file:///C:/x' is invalid on 'linux'",
    ],
  );
  assert.deepEqual(roots.roots[1], {
    id: 'm',
    path: `file://${root}/nope`,
    plugin: null,
    skills: [],
    namespaceManifests: [],
    warnings: [],
    error: roots.roots[1]!.error,
  });
});

test('files over 1 MiB are skipped with a warning', async (t) => {
  const root = fixture({ 'skills/big/SKILL.md': Buffer.alloc(1024 * 1024 + 1, 97), 'skills/ok/SKILL.md': Buffer.alloc(1024 * 1024, 98) });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const roots = await discoverCapabilityRoots([{ id: 'r', path: PathUri.parse(`file://${root}`) }]);
  assert.deepEqual(roots.roots[0]!.warnings, [`capability file file://${root}/skills/big/SKILL.md exceeds the 1048576-byte limit`]);
  assert.equal(roots.roots[0]!.skills.length, 1);
});

test('walk: breadth first, sorted, symlinked directories once, file links skipped', async (t) => {
  const root = fixture({ 'b/file': '', 'a/x/deep': '', 'c': '' });
  symlinkSync(root, `${root}/a/loop`);
  symlinkSync(`${root}/c`, `${root}/c-link`);
  symlinkSync(`${root}/nowhere`, `${root}/dangling`);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const walk = await walkTree(root, { maxDepth: 6, maxDirectories: 100, maxEntries: 100, followDirectorySymlinks: true });
  assert.deepEqual(
    walk.entries.map((e) => `${e.kind} ${e.path.slice(root.length)}`),
    ['directory /a', 'directory /b', 'file /c', 'directory /a/loop', 'directory /a/x', 'file /b/file', 'file /a/x/deep'],
  );
  const capped = await walkTree(root, { maxDepth: 0, maxDirectories: 100, maxEntries: 2, followDirectorySymlinks: false });
  assert.equal(capped.truncated, true);
  assert.equal(capped.entries.length, 2);
});
