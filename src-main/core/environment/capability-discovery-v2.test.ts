/**
 * Tests for capability-discovery-v2.ts on real temp trees (the system folder is a temp dir, the
 * reference's is /etc/codex). Expected values are what the 0.169.0 binary returned for the same trees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CodexHost } from './codex-home.ts';
import { discoverCapabilitiesV2 } from './capability-discovery-v2.ts';
import { RpcError } from '../rpc/errors.ts';

function fixture(files: Record<string, string>): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'capv2-')));
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

function host(root: string, env: Record<string, string> = {}): CodexHost {
  return { env, homeDir: () => `${root}/home`, systemDir: `${root}/etc-codex`, cwd: () => root, hostname: async () => null };
}

const skill = (name: string, description: string) => `---\nname: ${name}\ndescription: ${description}\n---\n`;

test('standalone skill roots in order, parsed front matter, one warning per location with problems', async (t) => {
  const root = fixture({
    'home/.codex/skills/u2/SKILL.md': skill('u2', 'user codex skill'),
    'home/.codex/skills/a1/SKILL.md': '---\nname: zed\ndescription: "quoted desc"\nmetadata:\n  short-description: short one\n---\n',
    'home/.codex/skills/nofm/SKILL.md': 'no front matter\n',
    'home/.codex/skills/nodesc/SKILL.md': '---\nname: nodesc\n---\n',
    'home/.codex/skills/.system/sys/SKILL.md': skill('sys', 'system'),
    'home/.codex/skills/meta/SKILL.md': skill('meta', 'has metadata'),
    'home/.codex/skills/meta/agents/openai.yaml': 'dependencies:\n  tools:\n    - type: mcp\n      value: srv\npolicy:\n  allow_implicit_invocation: false\n',
    'home/.codex/skills/nsplug/.codex-plugin/plugin.json': '{"name":"nsp"}',
    'home/.codex/skills/nsplug/skills/inner/SKILL.md': skill('inner', 'namespaced'),
    'home/.agents/skills/ag/SKILL.md': skill('ag', 'agent skill'),
    'etc-codex/skills/es/SKILL.md': skill('es', 'etc skill'),
  });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const r = await discoverCapabilitiesV2(host(root));
  const codexRoot = { id: 'codex-home-skills', path: `file://${root}/home/.codex/skills` };
  assert.deepEqual(r.plugins, []);
  assert.deepEqual(
    r.skills.map((s) => [s.name, s.description, s.shortDescription, s.path.slice(`file://${root}`.length), s.discoveryRoot?.id]),
    [
      ['sys', 'system', null, '/home/.codex/skills/.system/sys/SKILL.md', 'codex-home-skills'],
      ['zed', 'quoted desc', 'short one', '/home/.codex/skills/a1/SKILL.md', 'codex-home-skills'],
      ['meta', 'has metadata', null, '/home/.codex/skills/meta/SKILL.md', 'codex-home-skills'],
      ['nsp:inner', 'namespaced', null, '/home/.codex/skills/nsplug/skills/inner/SKILL.md', 'codex-home-skills'],
      ['u2', 'user codex skill', null, '/home/.codex/skills/u2/SKILL.md', 'codex-home-skills'],
      ['ag', 'agent skill', null, '/home/.agents/skills/ag/SKILL.md', 'user-agent-skills'],
      ['es', 'etc skill', null, '/etc-codex/skills/es/SKILL.md', 'system-skills'],
    ],
  );
  assert.deepEqual(r.skills[0]!.discoveryRoot, codexRoot);
  assert.deepEqual(r.skills[2], {
    name: 'meta',
    description: 'has metadata',
    shortDescription: null,
    path: `file://${root}/home/.codex/skills/meta/SKILL.md`,
    discoveryRoot: codexRoot,
    dependencies: { tools: [{ type: 'mcp', value: 'srv', description: null, transport: null, command: null, url: null, oauthCallbackPort: null }] },
    policy: { allowImplicitInvocation: false, products: [] },
  });
  assert.deepEqual(r.warnings, ['some capability metadata could not be loaded; discovery may be incomplete']);
});

test('installed plugins: active version, remote id, namespaced skills, invalid packages', async (t) => {
  const cache = 'home/.codex/plugins/cache';
  const root = fixture({
    [`${cache}/mkt/plug/1.0.0/.codex-plugin/plugin.json`]: '{"name":"plug","version":"1.0.0"}',
    [`${cache}/mkt/plug/1.0.0/skills/ps/SKILL.md`]: skill('ps', 'plugin skill'),
    [`${cache}/mkt/plug/0.9.0/.codex-plugin/plugin.json`]: '{"name":"old"}',
    [`${cache}/mkt/semver/9.0.0/.codex-plugin/plugin.json`]: '{"name":"nine"}',
    [`${cache}/mkt/semver/10.0.0/.codex-plugin/plugin.json`]: '{"name":"ten"}',
    [`${cache}/mkt/loc/local/.claude-plugin/plugin.json`]: '{"name":"locname"}',
    [`${cache}/mkt/loc/zzz/.claude-plugin/plugin.json`]: '{"name":"zzz"}',
    [`${cache}/mkt/remote/1/.codex-plugin/plugin.json`]: '{}',
    [`${cache}/mkt/remote/.codex-remote-plugin-install.json`]: '{"schema_version":1,"remote_plugin_id":"  rp-1  "}',
    [`${cache}/mkt/nomanifest/1/skills/x/SKILL.md`]: skill('x', 'x'),
    [`${cache}/mkt/name5/1/.codex-plugin/plugin.json`]: '{"name":5}',
    [`${cache}/m.x/dotted/1/.codex-plugin/plugin.json`]: '{"name":"dotted"}',
    [`${cache}/mkt/bad name/1/.codex-plugin/plugin.json`]: '{"name":"bad"}',
    [`${cache}/mkt/badschema/1/.codex-plugin/plugin.json`]: '{"name":"bs"}',
    [`${cache}/mkt/badschema/.codex-remote-plugin-install.json`]: '{"schema_version":2,"remote_plugin_id":"x"}',
  });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const r = await discoverCapabilitiesV2(host(root));
  assert.deepEqual(
    r.plugins.map((p) => [p.id, p.displayName, p.version, p.remotePluginId, p.skills.map((s) => s.name)]),
    [
      ['badschema@mkt', 'bs', '1', null, []],
      ['loc@mkt', 'locname', 'local', null, []],
      ['plug@mkt', 'plug', '1.0.0', null, ['plug:ps']],
      ['remote@mkt', '1', '1', 'rp-1', []],
      ['semver@mkt', 'ten', '10.0.0', null, []],
    ],
  );
  const plug = r.plugins[2]!;
  assert.equal(plug.root, `file://${root}/${cache}/mkt/plug/1.0.0`);
  assert.deepEqual(plug.files.manifest, { path: `${plug.root}/.codex-plugin/plugin.json`, contents: '{"name":"plug","version":"1.0.0"}' });
  assert.deepEqual(plug.skills[0], {
    name: 'plug:ps',
    description: 'plugin skill',
    shortDescription: null,
    path: `${plug.root}/skills/ps/SKILL.md`,
    dependencies: null,
    policy: null,
  });
  assert.deepEqual(r.warnings, [
    'some capability locations could not be resolved; discovery may be incomplete',
    'some capability metadata could not be loaded; discovery may be incomplete',
    'some capability metadata could not be loaded; discovery may be incomplete',
  ]);
});

test('CODEX_HOME that does not exist is a -32603 error', async (t) => {
  const root = fixture({ 'home/': '' });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  await assert.rejects(discoverCapabilitiesV2(host(root, { CODEX_HOME: `${root}/missing` })), (err: unknown) => {
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, -32603);
    assert.equal(err.message, `CODEX_HOME points to "${root}/missing", but that path does not exist`);
    return true;
  });
  assert.deepEqual(await discoverCapabilitiesV2(host(root)), { plugins: [], skills: [], warnings: [] });
});
