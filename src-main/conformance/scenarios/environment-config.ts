/**
 * Config and capability discovery scenarios (§10.3–§10.5): environmentConfig/read,
 * capabilityRoots/discoverV1 and capabilities/discoverV2.
 *
 * Both servers run with HOME (and, for some specs, CODEX_HOME) inside the spec's fixture directory,
 * so they read the same user config, trusted projects, Codex-home skills and plugin cache. Nothing
 * here may depend on /etc/codex (absent on the test hosts). Discovery roots for V1 live in the run's
 * workdir.
 *
 * Expected divergence: a restricting `sandbox` on discovery requests. The reference reads through its
 * Linux sandbox helper; exec-desk cannot enforce the policy and refuses the request.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Scenario, ServerSpec, TracedClient } from '../harness.ts';
import type { WireMessage } from '../normalize.ts';

function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, contents] of Object.entries(files)) {
    const path = join(root, rel);
    if (rel.endsWith('/')) {
      mkdirSync(path, { recursive: true });
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents);
  }
}

const uri = (path: string) => `file://${path}`;

/** HOME = <fixtures>/home, CODEX_HOME unset: the Codex home is ~/.codex. */
const homeSpec: ServerSpec = {
  key: 'environment-config',
  env: (fixtures) => ({ HOME: join(fixtures, 'home') }),
  setup: (fixtures) => {
    const user = `model = "user-model"
approval_policy = "never"
zeta = 1
alpha = "a\\tb\\"c'd"
ml = """
first
second"""
path = 'C:\\dir'
big = 1e300
when = 1979-05-27T07:32:00.5-07:00
"quoted key" = { "1" = 1, "0" = 0 }
[sandbox_workspace_write]
network_access = true
[tbl]
x = 1
nested = { a = 1, b = "two", c = [1, 2] }
arr = [1, "x", { k = 1 }]
[tbl.empty]
[[aot]]
n = 1
[[aot]]
n = 2
[aot.inner]
m = 3
[projects."${fixtures}/trusted"]
trust_level = "trusted"
[projects."${fixtures}/untrusted"]
trust_level = "untrusted"
[projects."${fixtures}/badproj"]
trust_level = "trusted"
[projects."${fixtures}/worktree-main"]
trust_level = "trusted"
`;
    writeTree(fixtures, {
      'home/.codex/config.toml': user,
      'trusted/.git/HEAD': 'ref: refs/heads/main\n',
      'trusted/.codex/config.toml': 'model = "project-root"\n[tbl]\ny = 2\n',
      'trusted/sub/.codex/config.toml': 'model = "project-sub"\nsandbox_mode = "read-only"\n',
      'trusted/sub/deep/': '',
      'trusted/sub/nocfg/.codex/': '',
      'untrusted/.codex/config.toml': 'model = "untrusted"\n',
      'badproj/.codex/config.toml': 'model = \n',
      'plain/': '',
      'worktree-main/.git/HEAD': 'ref: refs/heads/main\n',
      'worktree-main/.git/worktrees/wt/HEAD': 'x\n',
      'worktree-main/.git/worktrees/wt/commondir': '../..\n',
      'worktree-main/.git/worktrees/wt/gitdir': `${fixtures}/wt/.git\n`,
      'wt/.git': `gitdir: ${fixtures}/worktree-main/.git/worktrees/wt\n`,
      'wt/.codex/config.toml': 'model = "worktree"\n',
      // capabilities/discoverV2: user-level skills and an installed plugin
      'home/.codex/skills/u2/SKILL.md': '---\nname: u2\ndescription: user codex skill\n---\nbody\n',
      'home/.codex/skills/a1/SKILL.md': '---\nname: zed\ndescription: "quoted   desc"\nmetadata:\n  short-description: short one\n---\n',
      'home/.codex/skills/colon/SKILL.md': '---\nname: colon\ndescription: Build for AWS: ECS\n---\n',
      'home/.codex/skills/noname/SKILL.md': '---\ndescription: |\n  folded\n  lines\n---\n',
      'home/.codex/skills/nofm/SKILL.md': 'no front matter\n',
      'home/.codex/skills/nodesc/SKILL.md': '---\nname: nodesc\n---\n',
      'home/.codex/skills/meta/SKILL.md': '---\nname: meta\ndescription: has metadata\n---\n',
      'home/.codex/skills/meta/agents/openai.yaml':
        'interface:\n  display_name: Meta\ndependencies:\n  tools:\n    - type: mcp\n      value: srv\n      oauth:\n        callbackPort: 8080\n    - value: no-type\npolicy:\n  allow_implicit_invocation: false\n  products: [codex]\n',
      'home/.codex/skills/.system/sys/SKILL.md': '---\nname: sys\ndescription: system skill\n---\n',
      'home/.codex/skills/nsplug/.codex-plugin/plugin.json': '{"name":"nsp"}',
      'home/.codex/skills/nsplug/skills/inner/SKILL.md': '---\nname: inner\ndescription: namespaced\n---\n',
      'home/.agents/skills/ag/SKILL.md': '---\nname: ag\ndescription: agent skill\n---\n',
      'home/.codex/plugins/cache/mkt/plug/1.0.0/.codex-plugin/plugin.json': '{"name":"plug","version":"1.0.0"}',
      'home/.codex/plugins/cache/mkt/plug/1.0.0/.mcp.json': '{"mcpServers":{}}',
      'home/.codex/plugins/cache/mkt/plug/1.0.0/skills/ps/SKILL.md': '---\nname: ps\ndescription: plugin skill\n---\n',
      'home/.codex/plugins/cache/mkt/plug/0.9.0/.codex-plugin/plugin.json': '{"name":"plug"}',
      'home/.codex/plugins/cache/mkt/loc/local/.claude-plugin/plugin.json': '{"name":"locname"}',
      'home/.codex/plugins/cache/mkt/loc/zzz/.claude-plugin/plugin.json': '{"name":"zzz"}',
      'home/.codex/plugins/cache/mkt/remote/2.0.0/.codex-plugin/plugin.json': '{}',
      'home/.codex/plugins/cache/mkt/remote/.codex-remote-plugin-install.json': '{"schema_version":1,"remote_plugin_id":"rp-1"}',
      'home/.codex/plugins/cache/mkt/nomanifest/1/skills/x/SKILL.md': '---\nname: x\ndescription: x\n---\n',
    });
  },
};

/** CODEX_HOME set to an existing directory (canonicalized by the reference). */
const codexHomeSpec: ServerSpec = {
  key: 'environment-config-codex-home',
  env: (fixtures) => ({ HOME: join(fixtures, 'home'), CODEX_HOME: join(fixtures, 'custom-codex-home') + '/' }),
  setup: (fixtures) =>
    writeTree(fixtures, {
      'home/.codex/config.toml': 'model = "not-this-one"\n',
      'custom-codex-home/config.toml': 'model = "custom"\n[profiles.p]\nmodel = "in-profile"\n',
      'custom-codex-home/skills/cs/SKILL.md': '---\nname: cs\ndescription: custom home skill\n---\n',
    }),
};

/** CODEX_HOME names a directory that does not exist: both methods fail. */
const missingCodexHomeSpec: ServerSpec = {
  key: 'environment-config-missing-codex-home',
  env: (fixtures) => ({ HOME: join(fixtures, 'home'), CODEX_HOME: join(fixtures, 'missing') }),
  setup: (fixtures) => writeTree(fixtures, { 'home/': '' }),
};

async function read(c: TracedClient, cwd: string, configPaths: string[][], requirementsPaths: string[][] = []) {
  return c.request('environmentConfig/read', { cwd, configPaths, requirementsPaths });
}

const layers: Scenario = {
  name: 'environment-config/read-layers',
  spec: '§10.3',
  description:
    'environmentConfig/read: user layer, trusted project layers from the git root down to cwd, untrusted and worktree projects, key selection and TOML re-serialization',
  server: homeSpec,
  async run(ctx) {
    const f = ctx.server.fixtures;
    const c = await ctx.connect();
    await c.handshake();
    const all = [['model'], ['approval_policy'], ['sandbox_mode'], ['sandbox_workspace_write', 'network_access'], ['tbl']];
    await read(c, uri(`${f}/trusted/sub/deep`), all, [['allowed_sandbox_modes']]);
    await read(c, uri(`${f}/trusted/sub/nocfg`), all);
    await read(c, uri(`${f}/trusted`), [['tbl', 'nested', 'a'], ['tbl', 'missing'], ['alpha'], ['zeta']]);
    await read(c, uri(`${f}/untrusted`), [['model']]);
    await read(c, uri(`${f}/wt`), [['model']]);
    await read(c, uri(`${f}/plain`), [['nope']], [['nope']]);
    await read(c, uri(`${f}/does/not/exist`), [['model']]);
    await read(c, uri(`${f}/plain`), [['aot'], ['ml'], ['path'], ['big'], ['when'], ['quoted key'], ['model', 'deeper']]);
    await read(c, uri(`${f}/plain`), [['projects']]);
    await read(c, uri(`${f}/plain`), [['tbl', 'empty'], ['tbl', 'arr'], ['aot', 'n'], ['']]);
    await read(c, uri(`${f}/badproj`), [['model']]);
    await read(c, 'file:///', [['model']]);
  },
};

const params: Scenario = {
  name: 'environment-config/read-params',
  spec: '§10.3 §1.5',
  description: 'environmentConfig/read params: serde errors, empty path lists and segments, cwd URIs',
  server: homeSpec,
  async run(ctx) {
    const f = ctx.server.fixtures;
    const c = await ctx.connect();
    await c.handshake();
    const cwd = uri(`${f}/plain`);
    await c.request('environmentConfig/read', null);
    await c.request('environmentConfig/read', {});
    await c.request('environmentConfig/read', { cwd });
    await c.request('environmentConfig/read', { cwd, configPaths: [['model']] });
    await c.request('environmentConfig/read', { cwd, configPaths: null, requirementsPaths: [] });
    await c.request('environmentConfig/read', { cwd, configPaths: [], requirementsPaths: [] });
    await c.request('environmentConfig/read', { cwd, configPaths: [['model'], []], requirementsPaths: [] });
    await c.request('environmentConfig/read', { cwd, configPaths: [], requirementsPaths: [[]] });
    await c.request('environmentConfig/read', { cwd, configPaths: [[1]], requirementsPaths: [] });
    await c.request('environmentConfig/read', { cwd: '/abs', configPaths: [['model']], requirementsPaths: [] });
    await c.request('environmentConfig/read', { cwd: 'file:///C:/x', configPaths: [['model']], requirementsPaths: [] });
    await c.request('environmentConfig/read', { cwd: 'http://x/', configPaths: [['model']], requirementsPaths: [] });
    await c.request('environmentConfig/read', [cwd, [['model']], []]);
    await c.request('environmentConfig/read', { cwd, configPaths: [['model']], requirementsPaths: [], extra: true });
  },
};

const codexHome: Scenario = {
  name: 'environment-config/codex-home',
  spec: '§10.3 §10.5',
  description: 'CODEX_HOME set (trailing slash, canonicalized) and CODEX_HOME missing: environmentConfig/read and capabilities/discoverV2',
  server: codexHomeSpec,
  async run(ctx) {
    const f = ctx.server.fixtures;
    const c = await ctx.connect();
    await c.handshake();
    await read(c, uri(`${f}/home`), [['model'], ['profiles']]);
    await c.request('capabilities/discoverV2', { cwd: uri(f) });
  },
};

const missingCodexHome: Scenario = {
  name: 'environment-config/codex-home-missing',
  spec: '§10.3 §10.5',
  description: 'CODEX_HOME names a missing directory: -32603 from environmentConfig/read and capabilities/discoverV2',
  server: missingCodexHomeSpec,
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    await read(c, uri(ctx.server.fixtures), [['model']]);
    await c.request('capabilities/discoverV2', { cwd: uri(ctx.server.fixtures) });
  },
};

/** V1 roots, built in the run's workdir. */
function v1Tree(workdir: string): void {
  writeTree(workdir, {
    'p1/.codex-plugin/plugin.json': '{"name":"p1","mcpServers":"./mcp.json","apps":"./apps.json"}',
    'p1/mcp.json': '{"mcpServers":{}}',
    'p1/apps.json': '{"apps":[]}',
    'p1/.mcp.json': 'default-mcp',
    'p1/skills/b/SKILL.md': '---\nname: b\ndescription: bee\n---\n',
    'p1/skills/a/SKILL.md': '---\nname: a\n---\n',
    'p1/skills/a/agents/openai.yaml': 'interface:\n  short_description: short\n',
    'p1/nested/.claude-plugin/plugin.json': '{"name":"nested-claude"}',
    'p1/nested/.cursor-plugin/plugin.json': '{"name":"nested-cursor"}',
    'p1/nested/skills/n/SKILL.md': 'no front matter',
    'p1/.hidden/SKILL.md': 'hidden skill',
    'p1/x/y/z/w/v/u/SKILL.md': 'depth 6',
    'p1/x/y/z/w/v/u/t/SKILL.md': 'depth 7: not reached',
    'p1/skills/bin/SKILL.md': Buffer.from([0x61, 0xff, 0x62]),
    'p2/.claude-plugin/plugin.json': '{"name":"p2", "mcpServers": {"inline": {}}}',
    'p2/.mcp.json': 'not read: inline servers',
    'p3/.codex-plugin/plugin.json': 'not json',
    'p3/.mcp.json': 'mcp3',
    'p4/.codex-plugin/plugin.json': '{"mcpServers":"mcp.json","apps":"./../x"}',
    'p5/.codex-plugin/': '',
    'p5/.claude-plugin/plugin.json': '{"name":"fallback"}',
    'p6/.codex-plugin/plugin.json': '{"name":"p6"}',
    'p6/sub/skills/s/SKILL.md': 'inherits the p6 manifest',
    'file.txt': 'not a directory',
  });
}

const discoverV1: Scenario = {
  name: 'environment-config/discover-v1',
  spec: '§10.4',
  description:
    'capabilityRoots/discoverV1: plugin manifests (.codex/.claude/.cursor), mcp/apps files, skills and metadata, namespace manifests, warnings, per-root errors, params errors',
  server: homeSpec,
  async run(ctx) {
    v1Tree(ctx.workdir);
    const w = ctx.workdirUri;
    const c = await ctx.connect();
    await c.handshake();
    const root = (id: string, rel: string) => ({ id, path: `${w}/${rel}` });
    await c.request('capabilityRoots/discoverV1', { roots: [root('r1', 'p1')] });
    await c.request('capabilityRoots/discoverV1', {
      roots: [root('r2', 'p2'), root('r3', 'p3'), root('r4', 'p4'), root('r5', 'p5'), root('r6', 'p6'), root('sub', 'p6/sub')],
    });
    await c.request('capabilityRoots/discoverV1', {
      roots: [root('file', 'file.txt'), root('missing', 'nope'), { id: 'drive', path: 'file:///C:/x' }, root('', 'p2'), root('dup', 'p2'), root('dup', 'p2')],
    });
    await c.request('capabilityRoots/discoverV1', { roots: [] });
    await c.request('capabilityRoots/discoverV1', { roots: [{ id: 'x', path: `${w}/p2`, sandbox: null }] });
    await c.request('capabilityRoots/discoverV1', {
      roots: [{ id: 'x', path: `${w}/p2`, sandbox: { permissions: { type: 'disabled' }, windowsSandboxLevel: 'disabled' } }],
    });
    await c.request('capabilityRoots/discoverV1', { roots: Array.from({ length: 129 }, (_, i) => root(`r${i}`, 'p2')) });
    await c.request('capabilityRoots/discoverV1', null);
    await c.request('capabilityRoots/discoverV1', {});
    await c.request('capabilityRoots/discoverV1', { roots: [5] });
    await c.request('capabilityRoots/discoverV1', { roots: [{ id: 'x' }] });
    await c.request('capabilityRoots/discoverV1', { roots: [{ id: 'x', path: '/abs' }] });
    await c.request('capabilityRoots/discoverV1', { roots: [{ id: 'x', path: `${w}/p2`, sandbox: 5 }] });
  },
};

const discoverV2: Scenario = {
  name: 'environment-config/discover-v2',
  spec: '§10.5',
  description:
    'capabilities/discoverV2: installed plugins (active version, remote id), Codex-home and ~/.agents skills, front matter parsing, openai.yaml dependencies/policy, params errors',
  server: homeSpec,
  async run(ctx) {
    const c = await ctx.connect();
    await c.handshake();
    await c.request('capabilities/discoverV2', { cwd: uri(`${ctx.server.fixtures}/trusted`) });
    await c.request('capabilities/discoverV2', { cwd: 'file:///C:/x' });
    await c.request('capabilities/discoverV2', {
      cwd: ctx.workdirUri,
      sandbox: { permissions: { type: 'disabled' }, windowsSandboxLevel: 'disabled', cwd: ctx.workdirUri },
    });
    await c.request('capabilities/discoverV2', null);
    await c.request('capabilities/discoverV2', {});
    await c.request('capabilities/discoverV2', { cwd: '/x' });
    await c.request('capabilities/discoverV2', { cwd: ctx.workdirUri, sandbox: 5 });
    await c.request('capabilities/discoverV2', { cwd: ctx.workdirUri, sandbox: {} });
    await c.request('capabilities/discoverV2', { cwd: ctx.workdirUri, sandbox: { permissions: { type: 'disabled' }, cwd: ctx.workdirUri } });
  },
};

/** exec-desk's side of a restricting discovery sandbox: every request refused, mentioning the sandbox. */
function refusesRestrictedDiscovery(messages: WireMessage[]): string | null {
  for (const id of [2, 3]) {
    const reply = messages.find((m) => m.id === id && m.method === undefined);
    if (!reply) return `no reply to request ${id}`;
    if (!reply.error) return `request ${id} with a restricting sandbox was served instead of refused`;
    if (reply.error.code !== -32600 || !/sandbox/i.test(reply.error.message)) return `unexpected error ${JSON.stringify(reply.error)}`;
  }
  return null;
}

const restrictedSandbox: Scenario = {
  name: 'environment-config/discover-restricted-sandbox',
  spec: '§10.4 §10.5 §9',
  description: 'discovery with a restricting sandbox: the reference reads through its sandbox helper; exec-desk refuses (expected divergence)',
  server: homeSpec,
  async run(ctx) {
    v1Tree(ctx.workdir);
    const c = await ctx.connect({
      divergence: {
        name: 'discovery-sandbox-restricted',
        reason: 'the reference confines discovery reads in its Linux sandbox helper; exec-desk cannot enforce the policy and refuses the request',
        checkExecDesk: refusesRestrictedDiscovery,
      },
    });
    await c.handshake();
    const permissions = {
      type: 'managed',
      file_system: { type: 'restricted', entries: [{ path: { type: 'path', path: ctx.workdirUri }, access: 'read' }] },
      network: 'restricted',
    };
    await c.request('capabilityRoots/discoverV1', {
      roots: [{ id: 'r', path: `${ctx.workdirUri}/p2`, sandbox: { permissions, windowsSandboxLevel: 'disabled' } }],
    });
    await c.request('capabilities/discoverV2', { cwd: ctx.workdirUri, sandbox: { permissions, windowsSandboxLevel: 'disabled', cwd: ctx.workdirUri } });
  },
};

export const environmentConfigScenarios: Scenario[] = [layers, params, codexHome, missingCodexHome, discoverV1, discoverV2, restrictedSandbox];
