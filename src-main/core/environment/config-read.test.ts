/**
 * Tests for config-read.ts with real temp dirs. The system config folder is a temp dir too (the
 * reference's is /etc/codex); expected layers, texts and cloudInsertionIndex values were observed
 * on the 0.169.0 binary with the same trees (under /etc/codex for the system cases).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CodexHost } from './codex-home.ts';
import { readEnvironmentConfig, type EnvironmentConfigReadResponse } from './config-read.ts';
import { RpcError } from '../rpc/errors.ts';

function fixture(files: Record<string, string>): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cfgread-')));
  for (const [rel, contents] of Object.entries(files)) {
    const path = join(root, rel.replaceAll('<R>', root));
    if (rel.endsWith('/')) mkdirSync(path, { recursive: true });
    else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, contents.replaceAll('<R>', root));
    }
  }
  return root;
}

function host(root: string, env: Record<string, string> = {}): CodexHost {
  return {
    env,
    homeDir: () => `${root}/home`,
    systemDir: `${root}/etc-codex`,
    cwd: () => root,
    hostname: async () => 'test-host',
  };
}

async function read(root: string, cwd: string, configPaths: string[][], requirementsPaths: string[][] = [], env: Record<string, string> = {}) {
  return readEnvironmentConfig({ cwd: `${root}/${cwd}`.replace(/\/$/, ''), configPaths, requirementsPaths }, host(root, env));
}

async function readError(root: string, cwd: string, env: Record<string, string> = {}): Promise<RpcError> {
  try {
    await read(root, cwd, [['model']], [], env);
  } catch (err) {
    assert.ok(err instanceof RpcError);
    return err;
  }
  assert.fail('expected an error');
}

function layerSummary(r: EnvironmentConfigReadResponse, root: string) {
  return r.config.layers.map((l) => [l.source.replaceAll(root, '<R>'), l.toml]);
}

const PROJECT = {
  'proj/.codex/config.toml': 'model = "proj-root"\n',
  'proj/sub/.codex/config.toml': 'model = "proj-sub"\n',
  'proj/sub/deep/.codex/config.toml': 'model = "deep"\n',
};

function userConfig(trusted: Array<[string, 'trusted' | 'untrusted']>, extra = ''): string {
  return `model = "user"\n${extra}${trusted.map(([dir, level]) => `[projects."<R>/${dir}"]\ntrust_level = "${level}"\n`).join('')}`;
}

test('user layer, selected keys in document order, response shape', async (t) => {
  const root = fixture({
    'home/.codex/config.toml': 'model = "user-model"\napproval_policy = "never"\n[sandbox_workspace_write]\nnetwork_access = true\n',
    'proj/': '',
  });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const r = await read(root, 'proj', [['sandbox_workspace_write', 'network_access'], ['approval_policy'], ['model']], [['allowed_sandbox_modes']]);
  assert.deepEqual(r, {
    userHomeDir: `file://${root}/home`,
    codexHomeDir: `file://${root}/home/.codex`,
    hostname: 'test-host',
    config: {
      layers: [
        {
          source: `user (${root}/home/.codex/config.toml)`,
          baseDir: `file://${root}/home/.codex`,
          toml: 'model = "user-model"\napproval_policy = "never"\n\n[sandbox_workspace_write]\nnetwork_access = true\n',
        },
      ],
      cloudInsertionIndex: 0,
    },
    requirements: { layers: [], cloudInsertionIndex: 0 },
  });
  // nothing selected: the layer is left out; a missing last key keeps its (empty) parent table
  assert.deepEqual((await read(root, 'proj', [['nope']])).config.layers, []);
  assert.equal((await read(root, 'proj', [['sandbox_workspace_write', 'nope']])).config.layers[0]!.toml, '[sandbox_workspace_write]\n');
  assert.equal((await read(root, 'proj', [['model', 'deeper']])).config.layers[0]!.toml, 'model = "user-model"\n');
});

test('project layers: git root to cwd when the repository root is trusted', async (t) => {
  const root = fixture({ ...PROJECT, 'proj/.git/HEAD': 'ref: refs/heads/main\n', 'home/.codex/config.toml': userConfig([['proj', 'trusted']]) });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.deepEqual(layerSummary(await read(root, 'proj/sub/deep', [['model']]), root), [
    ['user (<R>/home/.codex/config.toml)', 'model = "user"\n'],
    ['project (<R>/proj/.codex/config.toml)', 'model = "proj-root"\n'],
    ['project (<R>/proj/sub/.codex/config.toml)', 'model = "proj-sub"\n'],
    ['project (<R>/proj/sub/deep/.codex/config.toml)', 'model = "deep"\n'],
  ]);
  const layer = (await read(root, 'proj', [['model']])).config.layers[1]!;
  assert.equal(layer.baseDir, `file://${root}/proj/.codex`);
});

test('trust: only the directory itself, the project root or the git root count', async (t) => {
  // no repository: the project root is cwd, so a trusted ancestor does not help
  const plain = fixture({ ...PROJECT, 'home/.codex/config.toml': userConfig([['proj', 'trusted']]) });
  // an empty .git directory is no marker (a HEAD inside makes one)
  const emptyGit = fixture({ ...PROJECT, 'proj/.git/': '', 'home/.codex/config.toml': userConfig([['proj', 'trusted']]) });
  // a trusted subdirectory inside a repository whose root is untrusted
  const subTrusted = fixture({ ...PROJECT, 'proj/.git/HEAD': 'x\n', 'home/.codex/config.toml': userConfig([['proj', 'untrusted'], ['proj/sub', 'trusted']]) });
  t.after(() => [plain, emptyGit, subTrusted].forEach((r) => rmSync(r, { recursive: true, force: true })));
  assert.deepEqual(layerSummary(await read(plain, 'proj/sub', [['model']]), plain), [['user (<R>/home/.codex/config.toml)', 'model = "user"\n']]);
  assert.deepEqual(layerSummary(await read(plain, 'proj', [['model']]), plain).length, 2);
  assert.deepEqual(layerSummary(await read(emptyGit, 'proj/sub', [['model']]), emptyGit).length, 1);
  assert.deepEqual(layerSummary(await read(subTrusted, 'proj/sub/deep', [['model']]), subTrusted), [
    ['user (<R>/home/.codex/config.toml)', 'model = "user"\n'],
    ['project (<R>/proj/sub/.codex/config.toml)', 'model = "proj-sub"\n'],
  ]);
});

test('trust keys: the canonical path and the path as given; markers from the config', async (t) => {
  const root = fixture({ ...PROJECT, 'proj/.hg/': '', 'home/.codex/config.toml': userConfig([['proj', 'trusted']], 'project_root_markers = [".hg"]\n') });
  symlinkSync(`${root}/proj`, `${root}/link`);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal((await read(root, 'proj/sub', [['model']])).config.layers.length, 3);
  const viaLink = layerSummary(await read(root, 'link', [['model']]), root);
  assert.deepEqual(viaLink[1], ['project (<R>/link/.codex/config.toml)', 'model = "proj-root"\n']);
});

test('git worktrees resolve to their main checkout for trust', async (t) => {
  const root = fixture({
    ...PROJECT,
    'main/.git/HEAD': 'x\n',
    'main/.git/worktrees/wt/commondir': '../..\n',
    'main/.git/worktrees/wt/gitdir': '<R>/proj/.git\n',
    'proj/.git': 'gitdir: <R>/main/.git/worktrees/wt\n',
    'home/.codex/config.toml': userConfig([['main', 'trusted']]),
  });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal((await read(root, 'proj/sub', [['model']])).config.layers.length, 3);
});

test('system, legacy managed config and requirements layers', async (t) => {
  const root = fixture({
    ...PROJECT,
    'home/.codex/config.toml': userConfig([['proj', 'trusted']], 'approval_policy = "never"\n'),
    'etc-codex/config.toml': 'model = "system"\n',
    'etc-codex/requirements.toml': 'allowed_sandbox_modes = ["read-only"]\nx = 1\n',
    'etc-codex/managed_config.toml': 'model = "managed"\napprovals_reviewer = "guardian_subagent"\napproval_policy = "on-request"\nsandbox_mode = "workspace-write"\n',
  });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const r = await read(root, 'proj', [['model'], ['approval_policy'], ['sandbox_mode']], [['allowed_sandbox_modes'], ['allowed_approval_policies'], ['allowed_approvals_reviewers'], ['x']]);
  assert.deepEqual(layerSummary(r, root), [
    ['system (<R>/etc-codex/config.toml)', 'model = "system"\n'],
    ['user (<R>/home/.codex/config.toml)', 'model = "user"\napproval_policy = "never"\n'],
    ['project (<R>/proj/.codex/config.toml)', 'model = "proj-root"\n'],
    ['legacy managed_config.toml (<R>/etc-codex/managed_config.toml)', 'model = "managed"\napproval_policy = "on-request"\nsandbox_mode = "workspace-write"\n'],
  ]);
  assert.equal(r.config.cloudInsertionIndex, 1);
  assert.equal(r.config.layers[0]!.baseDir, `file://${root}/etc-codex`);
  assert.deepEqual(r.requirements, {
    layers: [
      { source: `${root}/etc-codex/requirements.toml`, baseDir: `file://${root}/etc-codex`, toml: 'allowed_sandbox_modes = ["read-only"]\nx = 1\n' },
      {
        source: `${root}/etc-codex/managed_config.toml`,
        baseDir: `file://${root}/etc-codex`,
        toml: 'allowed_approval_policies = ["on-request"]\nallowed_approvals_reviewers = ["auto_review", "user"]\nallowed_sandbox_modes = ["read-only", "workspace-write"]\n',
      },
    ],
    cloudInsertionIndex: 1,
  });
  // a system layer with nothing selected is left out, and the index counts returned layers
  const other = await read(root, 'proj', [['approval_policy']]);
  assert.equal(other.config.cloudInsertionIndex, 0);
});

test('load errors carry the reference texts', async (t) => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ 'home/.codex/config.toml': 'model = \n' }, 'failed to load executor-local config: <R>/home/.codex/config.toml:1:9: string values must be quoted, expected literal string'],
    [{ 'home/.codex/config.toml/': '' }, 'failed to load executor-local config: Failed to read config file <R>/home/.codex/config.toml: path `<R>/home/.codex/config.toml` is not a file'],
    [{ 'home/.codex/config.toml': 'projects = 5\n' }, 'failed to load executor-local config: invalid type: integer `5`, expected a map\nin `projects`\n'],
    [
      { 'home/.codex/config.toml': '[projects."/x"]\ntrust_level = "bogus"\n' },
      'failed to load executor-local config: unknown variant `bogus`, expected `trusted` or `untrusted`\nin `projects./x.trust_level`\n',
    ],
    [{ 'home/.codex/config.toml': 'projects."/x".trust_level = 5\n' }, 'failed to load executor-local config: invalid type: unit variant, expected string only\nin `projects./x.trust_level`\n'],
    [{ 'home/.codex/config.toml': 'projects."/x" = []\n' }, 'failed to load executor-local config: invalid length 0, expected struct ProjectConfig with 1 element\nin `projects./x`\n'],
    [{ 'home/.codex/config.toml': 'project_root_markers = [".hg", 5]\n' }, 'failed to load executor-local config: project_root_markers must be an array of strings'],
    [
      { 'home/.codex/config.toml': userConfig([['proj', 'trusted']]), 'proj/.codex/config.toml': 'model = \n' },
      'failed to load executor-local config: Error parsing project config file <R>/proj/.codex/config.toml: TOML parse error at line 1, column 9\n  |\n1 | model = \n  |         ^\nstring values must be quoted, expected literal string\n',
    ],
    [
      { 'etc-codex/managed_config.toml': 'approval_policy = "bogus"\n' },
      'failed to load executor-local config: Failed to parse config requirements as TOML: unknown variant `bogus`, expected one of `untrusted`, `on-failure`, `on-request`, `granular`, `never`\nin `approval_policy`\n',
    ],
    [{ 'etc-codex/managed_config.toml/': '' }, 'failed to load executor-local config: path `<R>/etc-codex/managed_config.toml` is not a file'],
    [
      { 'etc-codex/requirements.toml': 'x = \n' },
      'failed to load executor-local config: failed to parse requirements layer <R>/etc-codex/requirements.toml: TOML parse error at line 1, column 5\n  |\n1 | x = \n  |     ^\nstring values must be quoted, expected literal string\n',
    ],
    // the system config is read before the managed config's requirements are checked
    [
      { 'etc-codex/config.toml': 'x = \n', 'etc-codex/managed_config.toml': 'sandbox_mode = 5\n' },
      'failed to load executor-local config: <R>/etc-codex/config.toml:1:5: string values must be quoted, expected literal string',
    ],
  ];
  for (const [files, expected] of cases) {
    const root = fixture({ 'proj/': '', ...files });
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const err = await readError(root, 'proj');
    assert.equal(err.code, -32603);
    assert.equal(err.message, expected.replaceAll('<R>', root));
  }
  // an untrusted project's unparsable config is ignored
  const untrusted = fixture({ 'proj/.codex/config.toml': 'model = \n' });
  t.after(() => rmSync(untrusted, { recursive: true, force: true }));
  assert.deepEqual((await read(untrusted, 'proj', [['model']])).config.layers, []);
  // non-UTF-8 config
  const bad = fixture({ 'proj/': '', 'home/.codex/': '' });
  t.after(() => rmSync(bad, { recursive: true, force: true }));
  writeFileSync(`${bad}/home/.codex/config.toml`, Buffer.from([0x61, 0x20, 0x3d, 0x20, 0x22, 0xff, 0x22, 0x0a]));
  assert.equal(
    (await readError(bad, 'proj')).message,
    `failed to load executor-local config: Failed to read config file ${bad}/home/.codex/config.toml: invalid utf-8 sequence of 1 bytes from index 5`,
  );
});

test('CODEX_HOME: canonicalized when set, must be an existing directory', async (t) => {
  const root = fixture({ 'custom/config.toml': 'model = "custom"\n', 'home/.codex/config.toml': 'model = "default"\n', 'proj/': '' });
  symlinkSync(`${root}/custom`, `${root}/custom-link`);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const viaLink = await read(root, 'proj', [['model']], [], { CODEX_HOME: `${root}/custom-link/` });
  assert.equal(viaLink.codexHomeDir, `file://${root}/custom`);
  assert.equal(viaLink.config.layers[0]!.toml, 'model = "custom"\n');
  assert.equal((await read(root, 'proj', [['model']], [], { CODEX_HOME: 'custom' })).codexHomeDir, `file://${root}/custom`);
  assert.equal((await read(root, 'proj', [['model']], [], { CODEX_HOME: '' })).codexHomeDir, `file://${root}/home/.codex`);
  const missing = await readError(root, 'proj', { CODEX_HOME: `${root}/nope` });
  assert.equal(missing.code, -32603);
  assert.equal(missing.message, `failed to find Codex home: CODEX_HOME points to "${root}/nope", but that path does not exist`);
  assert.equal(
    (await readError(root, 'proj', { CODEX_HOME: `${root}/custom/config.toml` })).message,
    `failed to find Codex home: CODEX_HOME points to "${root}/custom/config.toml", but that path is not a directory`,
  );
});
