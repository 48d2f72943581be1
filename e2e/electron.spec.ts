/**
 * The real desktop app driven by Playwright's `_electron`, where an Electron binary exists.
 * This machine has none (npm's electron package downloads it lazily and the download host is
 * unreachable), so the spec needs EXEC_DESK_ELECTRON_BINARY=/path/to/electron and is skipped
 * otherwise. On Linux it also needs a display (e.g. `xvfb-run -a npm test`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron, expect, type ElectronApplication, type Page } from '@playwright/test';
import { RpcClient } from '../src-main/testkit/rpc-client.ts';
import { screenshot } from './support/browser.ts';
import { projectRoot } from './support/paths.ts';
import { suiteUnless } from './support/skippable.ts';

const binary = process.env.EXEC_DESK_ELECTRON_BINARY;
const skip =
  binary === undefined || binary === ''
    ? 'no Electron binary: set EXEC_DESK_ELECTRON_BINARY to run the desktop app spec (none can be installed here)'
    : !existsSync(binary)
      ? `EXEC_DESK_ELECTRON_BINARY=${binary} does not exist`
      : !existsSync(join(projectRoot, 'out/main/index.js'))
        ? 'the app is not built (npm run build)'
        : process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY
          ? 'no display: run under xvfb-run'
          : false;

suiteUnless(skip, 'the Electron app', { timeout: 120_000 }, () => {
  let app: ElectronApplication;
  let page: Page;
  let configHome: string;

  before(async () => {
    // A fresh userData folder: this is a first launch, so the window must open by itself.
    configHome = mkdtempSync(join(tmpdir(), 'exec-desk-electron-'));
    app = await _electron.launch({
      executablePath: binary!,
      args: [projectRoot, '--no-sandbox'],
      env: { ...process.env, XDG_CONFIG_HOME: configHome, HOME: configHome },
    });
    page = await app.firstWindow();
  });

  after(async () => {
    await app?.close().catch(() => undefined);
    rmSync(configHome, { recursive: true, force: true });
  });

  test('the first launch opens the window on the app origin, connected over IPC', async () => {
    assert.match(page.url(), /^app:\/\/exec-desk\//);
    await expect(page.getByTestId('connection')).toHaveText('Connected');
    await page.getByRole('button', { name: /^Listener/ }).click();
    await expect(page.getByTestId('listener-url')).toHaveText(/^ws:\/\/127\.0\.0\.1:\d+$/);
    await screenshot(page, 'electron-listener');
  });

  test('the page sees exactly the control API and no Node', async () => {
    const seen = await page.evaluate(() => ({
      keys: Object.keys(window.execDesk ?? {}).sort(),
      require: typeof (globalThis as any).require,
      process: typeof (globalThis as any).process,
    }));
    assert.deepEqual(seen, { keys: ['invoke', 'subscribe'], require: 'undefined', process: 'undefined' });
    const refused = await page.evaluate(() => window.execDesk!.invoke('spawnShell' as never, undefined as never).catch((e: { code: string }) => e.code));
    assert.equal(refused, 'unknown_command');
    // The window was created with the preferences window-policy.ts gives (unit-tested there).
    const sandboxedRenderer = await app.evaluate(({ app: electronApp }) =>
      electronApp.getAppMetrics().filter((m) => m.type === 'Tab').map((m) => m.sandboxed ?? null),
    );
    assert.ok(sandboxedRenderer.every((s) => s !== false), `renderer processes sandboxed: ${JSON.stringify(sandboxedRenderer)}`);
  });

  test('navigation away and window.open are refused', async () => {
    await page.evaluate(() => {
      window.open('https://example.com/');
      location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    assert.match(page.url(), /^app:\/\/exec-desk\//);
    assert.equal(app.windows().length, 1);
  });

  test('a client session shows up, and Quit ends the listener', async () => {
    const url = (await page.getByTestId('listener-url').textContent())!;
    const client = await RpcClient.connect(url);
    await client.handshake('electron-e2e');
    await page.getByRole('button', { name: /^Sessions/ }).click();
    await expect(page.getByTestId('session-row')).toContainText('electron-e2e');
    const closed = app.waitForEvent('close');
    await app.evaluate(({ app: electronApp }) => electronApp.quit());
    await closed;
    await client.closed();
    await assert.rejects(RpcClient.connect(url));
  });
});
