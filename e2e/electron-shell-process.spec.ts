/**
 * The built shell as a process (with the stand-in electron module, see electron-shell.spec.ts):
 * `--no-ui` runs the runtime with no window or tray and a working dashboard, and a second
 * instance that cannot take the single-instance lock quits at once without starting anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DASHBOARD_LINE_PREFIX } from '../src-main/cli/headless.ts';
import { RpcClient } from '../src-main/testkit/rpc-client.ts';
import { projectRoot } from './support/paths.ts';
import { suiteUnless } from './support/skippable.ts';

const bundle = join(projectRoot, 'out/main/index.js');
const hooks = join(projectRoot, 'e2e/support/register-fake-electron.mjs');
const skip = existsSync(bundle) ? false : 'the app is not built (npm run build; npm test builds it)';

function runShell(args: string[], env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'exec-desk-shellproc-'));
  const report = join(dir, 'report.json');
  const child = spawn(process.execPath, ['--import', hooks, bundle, ...args], {
    env: { ...process.env, FAKE_ELECTRON_USER_DATA: join(dir, 'userData'), FAKE_ELECTRON_REPORT: report, EXEC_DESK_HOME: join(dir, 'home'), XDG_CONFIG_HOME: join(dir, 'xdg'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    report: () => JSON.parse(readFileSync(report, 'utf8')) as { windows: number; trays: number; quit: boolean; ipc: string[] },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function until<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

suiteUnless(skip, 'the shell as a process', { timeout: 60_000 }, () => {
  test('--no-ui: the runtime and its dashboard, no window and no tray; SIGTERM quits cleanly', async () => {
    const shell = runShell(['--no-ui'], {});
    try {
      const url = await until(() => /^(ws:\/\/127\.0\.0\.1:\d+)\n/.exec(shell.stdout())?.[1], 'the listener URL on stdout');
      const dashboard = await until(() => shell.stderr().split('\n').find((l) => l.startsWith(DASHBOARD_LINE_PREFIX)), 'the dashboard line');
      const client = await RpcClient.connect(url);
      await client.handshake('no-ui');
      const page = await fetch(new URL('/', dashboard.slice(DASHBOARD_LINE_PREFIX.length)));
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<div id="root">/);
      shell.child.kill('SIGTERM');
      assert.equal(await shell.exited, 0);
      await client.closed();
      assert.deepEqual(shell.report(), { windows: 0, trays: 0, quit: true, ipc: ['exec-desk:invoke'] });
    } finally {
      if (shell.child.exitCode === null) shell.child.kill('SIGKILL');
      shell.cleanup();
    }
  });

  test('a second instance (lock taken) quits at once and starts nothing', async () => {
    const shell = runShell([], { FAKE_ELECTRON_LOCK: 'taken' });
    try {
      assert.equal(await shell.exited, 0);
      assert.equal(shell.stdout(), '');
      assert.deepEqual(shell.report(), { windows: 0, trays: 0, quit: true, ipc: [] });
    } finally {
      shell.cleanup();
    }
  });
});
