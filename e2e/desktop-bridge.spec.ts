/**
 * The renderer as the desktop window runs it: through the built preload bridge and main's IPC
 * handler to a real ExecutorRuntime with a file-backed settings store (see
 * support/simulated-shell.ts for what this stands in for and what it cannot prove).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Browser, type Page } from '@playwright/test';
import { silentLogger } from '../src-main/core/log.ts';
import { ExecutorRuntime } from '../src-main/runtime/executor-runtime.ts';
import { SETTINGS_FILE, SettingsStore, type SecretBox } from '../src-main/runtime/settings-store.ts';
import { RpcClient } from '../src-main/testkit/rpc-client.ts';
import { chromiumMissing, collectPageErrors, launchChromium, screenshot } from './support/browser.ts';
import { projectRoot, rendererIndex } from './support/paths.ts';
import { openSimulatedWindow } from './support/simulated-shell.ts';
import { suiteUnless } from './support/skippable.ts';

/** Stands in for safeStorage: reversible, and never the plain text. */
const xorBox: SecretBox = {
  available: () => true,
  encrypt: (text) => Buffer.from(Buffer.from(text).map((b) => b ^ 0x5a)),
  decrypt: (buf) => Buffer.from(buf.map((b) => b ^ 0x5a)).toString(),
};

const skip =
  chromiumMissing() ??
  (existsSync(rendererIndex) && existsSync(join(projectRoot, 'out/preload/index.cjs')) ? false : 'the app is not built (npm run build; npm test builds it)');

suiteUnless(skip, 'the desktop window over the preload bridge', { timeout: 90_000 }, () => {
  let dir: string;
  let runtime: ExecutorRuntime;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let detach: () => void;
  const clients: RpcClient[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'exec-desk-desktop-'));
    runtime = new ExecutorRuntime({ host: 'desktop', version: 'e2e', settings: new SettingsStore({ dir, secretBox: xorBox }), logSink: silentLogger });
    await runtime.startListener();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
    pageErrors = collectPageErrors(page);
    detach = await openSimulatedWindow(page, runtime);
  });

  after(async () => {
    for (const c of clients) c.terminate();
    detach?.();
    await browser?.close();
    await runtime?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const nav = (name: string) => page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: new RegExp(`^${name}`) });

  test('connects over the bridge, which offers exactly invoke and subscribe', async () => {
    await expect(page.getByTestId('connection')).toHaveText('Connected');
    const keys = await page.evaluate(() => Object.keys(Object.getOwnPropertyDescriptors(window.execDesk)).sort());
    assert.deepEqual(keys, ['invoke', 'subscribe']);
    assert.deepEqual(await page.evaluate(() => (window as any).__exposedByPreload), ['execDesk'], 'the preload exposes one name');
    const refused = await page.evaluate(() => window.execDesk!.invoke('spawnShell' as never, undefined as never).catch((e: { code: string }) => e.code));
    assert.equal(refused, 'unknown_command');
    await expect(page.getByText('desktop app')).toBeVisible();
  });

  test('runtime events arrive over the event channel: a new session shows up', async () => {
    const client = await RpcClient.connect(runtime.snapshot().listener.url!);
    clients.push(client);
    await client.handshake('desktop-e2e');
    await nav('Sessions').click();
    await expect(page.getByTestId('session-row')).toContainText('desktop-e2e');
  });

  test('an API key is stored through the SecretBox and never comes back', async () => {
    const secret = 'sk-desktop-e2e-0123456789abcdef';
    await nav('Settings').click();
    await expect(page.getByRole('group', { name: 'Desktop' })).toBeVisible();
    await page.getByLabel('Registry URL').fill('http://127.0.0.1:9/api');
    await page.getByLabel('Environment id').fill('env-desktop');
    await page.getByLabel('API key', { exact: true }).fill(secret);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByText('Saved.')).toBeVisible();
    await expect(page.getByText('A key is stored. It is never shown again.')).toBeVisible();
    await expect(page.getByLabel('API key', { exact: true })).toHaveValue('');
    const state = await page.evaluate(() => JSON.stringify(window.__execDeskState?.()));
    assert.ok(state.includes('"hasApiKey":true'));
    assert.ok(!state.includes(secret) && !(await page.content()).includes(secret), 'the key is neither in the store nor in the DOM');
    const file = readFileSync(join(dir, SETTINGS_FILE), 'utf8');
    assert.ok(!file.includes(secret), 'settings.json holds ciphertext only');
    assert.match(file, /"apiKeyCiphertext"/);
    await screenshot(page, 'settings-desktop');
  });

  test('a command main refuses shows its error code from the IPC reply', async () => {
    await nav('Registration').click();
    await expect(page.getByText('http://127.0.0.1:9/api')).toBeVisible();
    await page.getByRole('button', { name: 'Connect' }).click();
    // This runtime was built without a remote link factory: the runtime says so.
    await expect(page.getByTestId('command-error')).toContainText('connectRemote failed (unavailable');
    await screenshot(page, 'registration-desktop-error');
  });

  test('the page logged no errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
