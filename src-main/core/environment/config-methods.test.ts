/**
 * Tests for config-methods.ts: params decoding with the reference's serde texts, the sandbox policy
 * for discovery, and the wiring through a real exec-desk server (HOME in a temp dir).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MethodSpec, RequestContext } from '../rpc/method-table.ts';
import { RpcError } from '../rpc/errors.ts';
import { configMethodsFor } from './config-methods.ts';
import type { CodexHost } from './codex-home.ts';
import { RpcClient } from '../../testkit/rpc-client.ts';
import { startServer } from '../../testkit/server-process.ts';

function specs(root: string): Map<string, MethodSpec> {
  const host: CodexHost = { env: {}, homeDir: () => `${root}/home`, systemDir: `${root}/etc-codex`, cwd: () => root, hostname: async () => 'h' };
  return new Map(configMethodsFor(() => host));
}

async function call(spec: MethodSpec, params: unknown): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  try {
    const decoded = spec.decode(params);
    return { result: await spec.handle(decoded, {} as RequestContext) };
  } catch (err) {
    if (err instanceof RpcError) return { error: { code: err.code, message: err.message } };
    throw err;
  }
}

test('environmentConfig/read params: serde texts and the two path checks', async (t) => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cfgmeth-')));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const read = specs(root).get('environmentConfig/read')!;
  const cwd = `file://${root}`;
  const cases: Array<[unknown, number, string]> = [
    [null, -32602, 'invalid type: null, expected struct EnvironmentConfigReadParams'],
    [{}, -32602, 'missing field `cwd`'],
    [{ cwd }, -32602, 'missing field `configPaths`'],
    [{ cwd, configPaths: [['model']] }, -32602, 'missing field `requirementsPaths`'],
    [{ cwd, configPaths: null, requirementsPaths: [] }, -32602, 'invalid type: null, expected a sequence'],
    [{ cwd, configPaths: [], requirementsPaths: [] }, -32602, 'at least one config or requirements path is required'],
    [{ cwd, configPaths: [['model'], []], requirementsPaths: [] }, -32602, 'TOML paths must contain at least one key segment'],
    [{ cwd, configPaths: [[1]], requirementsPaths: [] }, -32602, 'invalid type: number, expected a string'],
    [{ cwd: '/abs', configPaths: [['m']], requirementsPaths: [] }, -32602, 'invalid URI: relative URL without a base'],
    [{ cwd: 'file:///C:/x', configPaths: [['m']], requirementsPaths: [] }, -32602, "'file:///C:/x' is invalid on 'linux'"],
  ];
  for (const [params, code, message] of cases) assert.deepEqual((await call(read, params)).error, { code, message }, JSON.stringify(params));
  const ok = await call(read, [cwd, [['model']], []]);
  assert.deepEqual(ok.result, {
    userHomeDir: `file://${root}/home`,
    codexHomeDir: `file://${root}/home/.codex`,
    hostname: 'h',
    config: { layers: [], cloudInsertionIndex: 0 },
    requirements: { layers: [], cloudInsertionIndex: 0 },
  });
});

test('discovery params and sandbox policy: non-restricting runs, restricting is refused', async (t) => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cfgmeth-')));
  mkdirSync(`${root}/p/skills/a`, { recursive: true });
  writeFileSync(`${root}/p/skills/a/SKILL.md`, 'x');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const methods = specs(root);
  const v1 = methods.get('capabilityRoots/discoverV1')!;
  const v2 = methods.get('capabilities/discoverV2')!;
  const path = `file://${root}/p`;
  const disabled = { permissions: { type: 'disabled' }, windowsSandboxLevel: 'disabled' };
  const restricted = {
    permissions: { type: 'managed', file_system: { type: 'restricted', entries: [{ path: { type: 'path', path }, access: 'read' }] }, network: 'restricted' },
    windowsSandboxLevel: 'disabled',
  };
  assert.deepEqual((await call(v1, null)).error, { code: -32602, message: 'invalid type: null, expected struct WireCapabilityRootsDiscoverParams' });
  assert.deepEqual((await call(v1, { roots: [5] })).error, { code: -32602, message: 'invalid type: number, expected struct WireCapabilityRootDiscoverRequest' });
  assert.deepEqual((await call(v1, { roots: [{ id: 'x', path, sandbox: 5 }] })).error, {
    code: -32602,
    message: 'invalid type: number, expected struct WireFileSystemSandboxContext',
  });
  assert.deepEqual((await call(v1, { roots: Array.from({ length: 129 }, (_, i) => ({ id: `r${i}`, path })) })).error, {
    code: -32600,
    message: 'capability root discovery accepts at most 128 roots',
  });
  const served = (await call(v1, { roots: [{ id: 'x', path, sandbox: disabled }] })).result as { roots: Array<{ skills: unknown[] }> };
  assert.equal(served.roots[0]!.skills.length, 1);
  const refused = await call(v1, { roots: [{ id: 'x', path, sandbox: restricted }] });
  assert.equal(refused.error?.code, -32600);
  assert.match(refused.error!.message, /cannot enforce the requested sandbox/);

  assert.deepEqual((await call(v2, {})).error, { code: -32602, message: 'missing field `cwd`' });
  assert.deepEqual((await call(v2, { cwd: path, sandbox: 5 })).error, { code: -32602, message: 'invalid type: number, expected struct FileSystemSandboxContext' });
  assert.deepEqual((await call(v2, { cwd: path, sandbox: disabled })).error, { code: -32602, message: 'missing field `cwd`' });
  assert.deepEqual((await call(v2, [path])).result, { plugins: [], skills: [], warnings: [] });
  assert.deepEqual((await call(v2, { cwd: path, sandbox: { ...disabled, cwd: path } })).result, { plugins: [], skills: [], warnings: [] });
  const v2refused = await call(v2, { cwd: path, sandbox: { ...restricted, cwd: path } });
  assert.equal(v2refused.error?.code, -32600);
});

test('served by the exec-desk server with HOME from its environment', async (t) => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cfgmeth-')));
  mkdirSync(`${root}/home/.codex/skills/s`, { recursive: true });
  writeFileSync(`${root}/home/.codex/config.toml`, 'model = "served"\n');
  writeFileSync(`${root}/home/.codex/skills/s/SKILL.md`, '---\nname: s\ndescription: served skill\n---\n');
  const server = await startServer('exec-desk', { env: { PATH: process.env.PATH, HOME: `${root}/home` }, cwd: root });
  t.after(async () => {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  });
  const client = await RpcClient.connect(server.url);
  t.after(() => client.terminate());
  await client.handshake();
  const read = await client.call('environmentConfig/read', { cwd: `file://${root}`, configPaths: [['model']], requirementsPaths: [] });
  assert.equal(read.config.layers[0].toml, 'model = "served"\n');
  const v2 = await client.call('capabilities/discoverV2', { cwd: `file://${root}` });
  assert.deepEqual(
    v2.skills.map((s: { name: string }) => s.name),
    ['s'],
  );
});
