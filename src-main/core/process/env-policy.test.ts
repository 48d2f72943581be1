import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildChildEnv, matchesEnvPattern, type EnvPolicy } from './env-policy.ts';
import { referenceAvailable, startServer } from '../../testkit/server-process.ts';
import { RpcClient } from '../../testkit/rpc-client.ts';

const serverEnv = {
  PATH: '/usr/bin:/bin',
  HOME: '/root',
  home: '/lower-home',
  LOGNAME: 'root',
  USER: 'root',
  USERNAME: 'root',
  SHELL: '/bin/zsh',
  TMPDIR: '/t',
  TEMP: '/t',
  TMP: '/t',
  LANG: 'C.UTF-8',
  LC_ALL: 'C',
  LC_CTYPE: 'C',
  LC_MESSAGES: 'C',
  LANGUAGE: 'en',
  TERM: 'xterm',
  EDITOR: 'vi',
  MY_KEY: '1',
  my_key_lower: '1',
  KEYBOARD: '1',
  MONKEY: '1',
  API_TOKEN: '1',
  Secret_thing: '1',
  PASSWORD: '1',
  FOO1: 'a',
  FOO2: 'b',
  foo3: 'c',
  BAR: 'd',
  CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE: 'false',
  UNSET: undefined,
};

const policy = (p: Partial<EnvPolicy>): EnvPolicy => ({ inherit: 'all', ignoreDefaultExcludes: false, exclude: [], set: {}, includeOnly: [], ...p });
const names = (env: Record<string, string>) => Object.keys(env).sort();
const build = (env: Record<string, string>, p: EnvPolicy | null) => ({ ...buildChildEnv(env, p, serverEnv) });

test('without a policy env is the whole environment, minus the stdin-close variable', () => {
  assert.deepEqual(build({ A: '1', MY_KEY: 'k', CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE: '1' }, null), { A: '1', MY_KEY: 'k' });
  assert.deepEqual(build({}, null), {});
  // The result is a fresh object.
  const env = { A: '1' };
  const out = buildChildEnv(env, null, serverEnv);
  out.B = '2';
  assert.deepEqual(env, { A: '1' });
});

test('inherit all drops *KEY* *SECRET* *TOKEN* case-insensitively unless ignoreDefaultExcludes', () => {
  const all = build({}, policy({}));
  for (const gone of ['MY_KEY', 'my_key_lower', 'KEYBOARD', 'MONKEY', 'API_TOKEN', 'Secret_thing', 'CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE', 'UNSET']) {
    assert.equal(gone in all, false, gone);
  }
  for (const kept of ['PASSWORD', 'PATH', 'TERM', 'foo3', 'home']) assert.equal(kept in all, true, kept);
  const everything = build({}, policy({ ignoreDefaultExcludes: true }));
  assert.deepEqual(names(everything), Object.keys(serverEnv).filter((k) => k !== 'UNSET' && k !== 'CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE').sort());
});

test('inherit core keeps exactly the core names, case-insensitively', () => {
  assert.deepEqual(names(build({}, policy({ inherit: 'core' }))), ['HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'LOGNAME', 'PATH', 'SHELL', 'TEMP', 'TMP', 'TMPDIR', 'USER', 'home']);
  assert.deepEqual(build({ A: '1' }, policy({ inherit: 'none' })), { A: '1' });
  assert.deepEqual(build({}, policy({ inherit: 'none' })), {});
});

test('exclude patterns: * and ? only, case-insensitive, whole-name; brackets and braces are literal', () => {
  assert.deepEqual(names(build({}, policy({ exclude: ['*'] }))), []);
  const noFoo = build({}, policy({ exclude: ['foo*'] }));
  assert.equal(['FOO1', 'FOO2', 'foo3'].some((k) => k in noFoo), false);
  const q = build({}, policy({ exclude: ['FOO?', 'BA[RX]', '{EDITOR,TERM}', '[abc'] }));
  assert.equal('FOO1' in q || 'foo3' in q, false);
  assert.equal(q.BAR, 'd');
  assert.equal(q.EDITOR, 'vi');
  assert.equal(q.TERM, 'xterm');
  assert.equal(matchesEnvPattern('PATH', 'PATHEXT'), false);
  assert.equal(matchesEnvPattern('*PATH', 'LD_LIBRARY_PATH'), true);
  assert.equal(matchesEnvPattern('a*b*c', 'aXXbYYbZZc'), true);
  assert.equal(matchesEnvPattern('a*b*c', 'aXXbYYbZZ'), false);
  assert.equal(matchesEnvPattern('?', ''), false);
  assert.equal(matchesEnvPattern('', ''), true);
  assert.equal(matchesEnvPattern('**', ''), true);
  assert.equal(matchesEnvPattern('FOO\\1', 'FOO1'), false);
  assert.equal(matchesEnvPattern('*'.repeat(40) + 'x', 'a'.repeat(200)), false); // no blow-up
});

test('order: excludes, then set, then includeOnly, then env on top', () => {
  // set is added after the excludes (default and explicit) ...
  assert.deepEqual(build({}, policy({ inherit: 'none', set: { X_TOKEN: '1' } })), { X_TOKEN: '1' });
  const r = build({ ENVV: '1', FOO2: 'fromenv' }, policy({ exclude: ['FOO*', 'S*', 'E*'], set: { SETV: '1', FOO1: 'fromset' } }));
  assert.equal(r.FOO1, 'fromset');
  assert.equal(r.FOO2, 'fromenv');
  assert.equal(r.SETV, '1');
  assert.equal(r.ENVV, '1');
  assert.equal('EDITOR' in r || 'SHELL' in r, false);
  // ... includeOnly filters set too, but never env ...
  assert.deepEqual(build({ ENVV: '1', FOOENV: '2' }, policy({ includeOnly: ['foo*'], set: { SETV: '1', FOOSET: '2' } })), {
    FOO1: 'a',
    FOO2: 'b',
    foo3: 'c',
    FOOSET: '2',
    ENVV: '1',
    FOOENV: '2',
  });
  // ... env wins over set, and the stdin-close variable is gone even from set.
  assert.equal(build({ BAR: 'env' }, policy({ set: { BAR: 'set' } })).BAR, 'env');
  assert.equal(build({}, policy({ set: { BAR: 'set', CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE: '2' } })).BAR, 'set');
  assert.equal('CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE' in build({}, policy({ set: { CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE: '2' } })), false);
  assert.deepEqual(names(build({}, policy({ includeOnly: [''] }))), []);
});

test('odd names survive: __proto__, empty, with =', () => {
  const env = JSON.parse('{"__proto__":"p","":"e","A=B":"c"}') as Record<string, string>;
  const out = buildChildEnv(env, null, serverEnv);
  assert.deepEqual(Object.keys(out).sort(), ['', 'A=B', '__proto__']);
  assert.equal(out['__proto__'], 'p');
});

test('matches the reference binary on a battery of policies', { skip: !referenceAvailable() }, async () => {
  const controlled: Record<string, string> = {};
  for (const [k, v] of Object.entries(serverEnv)) if (v !== undefined) controlled[k] = v;
  controlled.CODEX_HOME = process.env.CODEX_HOME ?? `${process.env.HOME}/.codex`;
  const server = await startServer('reference', { env: controlled });
  const client = await RpcClient.connect(server.url);
  try {
    await client.handshake('env-policy-test');
    let n = 0;
    const childEnv = async (env: Record<string, string>, envPolicy: EnvPolicy | null): Promise<Record<string, string>> => {
      const processId = `env${n++}`;
      const reply = await client.request('process/start', { processId, argv: ['/usr/bin/env', '-0'], cwd: 'file:///', env, envPolicy, tty: false });
      assert.equal(reply.error, undefined, JSON.stringify(reply.error));
      await client.waitForNotification('process/closed', (p) => p.processId === processId);
      const bytes = Buffer.concat(
        client
          .notifications('process/output')
          .filter((m: any) => m.params.processId === processId)
          .map((m: any) => Buffer.from(m.params.chunk, 'base64')),
      );
      const out: Record<string, string> = {};
      for (const entry of bytes.toString().split('\0')) {
        if (entry === '') continue;
        const eq = entry.indexOf('=', 1);
        out[entry.slice(0, eq)] = entry.slice(eq + 1);
      }
      return out;
    };
    // The binary adds to its own environment at startup (PATH, CODEX_*): learn what it really has.
    const actual = await childEnv({}, policy({ ignoreDefaultExcludes: true }));
    const cases: Array<[Record<string, string>, EnvPolicy | null]> = [
      [{ A: '1', CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE: '1' }, null],
      [{}, policy({})],
      [{}, policy({ inherit: 'core' })],
      [{ A: 'x' }, policy({ inherit: 'none', set: { X_TOKEN: '1' } })],
      [{}, policy({ exclude: ['foo*', 'BA[RX]', 'L?_*'] })],
      [{ ENVV: '1', FOOENV: '2' }, policy({ includeOnly: ['foo*'], set: { SETV: '1', FOOSET: '2' } })],
      [{ BAR: 'env' }, policy({ set: { BAR: 'set', EDITOR: 'ed' }, exclude: ['E*'] })],
    ];
    for (const [env, p] of cases) {
      assert.deepEqual(await childEnv(env, p), { ...buildChildEnv(env, p, actual) }, JSON.stringify(p));
    }
  } finally {
    client.close();
    await server.stop();
  }
});
