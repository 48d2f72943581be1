/**
 * The dashboard in Debian's Chromium against a real headless exec-desk: what a person would
 * check, with a screenshot of every view in e2e/screenshots/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { expect, type Browser, type Page } from '@playwright/test';
import { RpcClient } from '../src-main/testkit/rpc-client.ts';
import { chromiumMissing, collectPageErrors, launchChromium, screenshot } from './support/browser.ts';
import { startHeadlessRuntime, type HeadlessRuntime } from './support/headless-runtime.ts';
import { processExists, waitForProcessGone } from './support/os-process.ts';
import { rendererIndex } from './support/paths.ts';
import { suiteUnless } from './support/skippable.ts';

const skip = chromiumMissing() ?? (existsSync(rendererIndex) ? false : 'the renderer is not built (npm run build; npm test builds it)');

suiteUnless(skip, 'dashboard against a headless runtime', { timeout: 120_000 }, () => {
  let runtime: HeadlessRuntime;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  const clients: RpcClient[] = [];
  let firstSessionId = '';

  before(async () => {
    runtime = await startHeadlessRuntime();
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    // Lets the test read back what the Copy button wrote.
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: runtime.origin });
    page = await context.newPage();
    pageErrors = collectPageErrors(page);
    await page.goto(runtime.dashboardUrl);
  });

  after(async () => {
    for (const c of clients) c.terminate();
    await browser?.close();
    if (runtime?.server.child.exitCode === null) await runtime.stop();
  });

  const nav = (name: string) => page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: new RegExp(`^${name}`) });

  test('connects and shows the local listener URL the CLI printed', async () => {
    await expect(page.getByTestId('connection')).toHaveText('Connected');
    await screenshot(page, 'overview');
    await nav('Listener').click();
    await expect(page.getByTestId('listener-url')).toHaveText(runtime.listenUrl);
    await page.getByRole('button', { name: 'Copy listener URL' }).click();
    await expect(page.getByText('Copied', { exact: true })).toBeVisible();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), runtime.listenUrl);
    await screenshot(page, 'listener');
  });

  test('empty states before any client: sessions and processes', async () => {
    await nav('Sessions').click();
    await expect(page.getByText('No sessions yet.')).toBeVisible();
    await screenshot(page, 'sessions-empty');
    await nav('Processes').click();
    await expect(page.getByText('No processes.')).toBeVisible();
    await screenshot(page, 'processes-empty');
  });

  test('a client that connects appears as an attached session', async () => {
    const client = await RpcClient.connect(runtime.listenUrl);
    clients.push(client);
    const { sessionId } = await client.handshake('e2e-client');
    firstSessionId = sessionId;
    await nav('Sessions').click();
    const row = page.locator(`[data-testid=session-row][data-session-id="${sessionId}"]`);
    await expect(row).toContainText('e2e-client');
    await expect(row).toContainText('attached');
    await expect(row).toContainText('local websocket 127.0.0.1:');
    await screenshot(page, 'sessions');
  });

  test('a started process shows its output tail as it grows, and Kill really ends it', async () => {
    const client = clients[0]!;
    // `read` waits for stdin, so the second line appears only after the test writes it; `exec`
    // keeps one OS process (the pid the UI shows) for the kill check.
    await client.call('process/start', {
      processId: 'e2e-proc',
      argv: ['/bin/sh', '-c', 'echo first-line; read reply; echo "got $reply"; exec sleep 600'],
      cwd: 'file:///tmp',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      tty: false,
      pipeStdin: true,
      arg0: null,
    });
    await nav('Processes').click();
    const row = page.locator('[data-testid=process-row][data-process-id="e2e-proc"]');
    const tail = row.getByTestId('process-tail');
    await expect(tail).toContainText('first-line');
    await expect(tail).not.toContainText('got');
    await expect(row.getByTestId('process-state')).toHaveText('running');
    await client.call('process/write', { processId: 'e2e-proc', chunk: Buffer.from('pong\n').toString('base64'), writeId: 'w1' });
    await expect(tail).toContainText('got pong');
    await expect(row).toContainText('/bin/sh -c');
    await screenshot(page, 'processes');

    const pid = Number(await row.getAttribute('data-pid'));
    assert.ok(pid > 0 && processExists(pid), `pid ${pid} runs before Kill`);
    await row.getByRole('button', { name: /^Kill process e2e-proc/ }).click();
    await expect(row.getByTestId('process-state')).not.toHaveText('running');
    await waitForProcessGone(pid);
    await expect(row.getByRole('button', { name: /^Kill/ })).toHaveCount(0);
    await expect(row.getByTestId('process-exit-code')).not.toHaveText('—');
    await screenshot(page, 'processes-killed');
  });

  test('long lists are capped behind "Show more"', async () => {
    const client = clients[0]!;
    for (let i = 0; i < 24; i++) {
      await client.call('process/start', {
        processId: `many-${i}`,
        argv: ['/bin/echo', `item ${i}`],
        cwd: 'file:///tmp',
        env: { PATH: '/usr/bin:/bin' },
        tty: false,
        arg0: null,
      });
    }
    await nav('Processes').click();
    const rows = page.getByTestId('process-row');
    await expect(rows).toHaveCount(20);
    await expect(rows.first()).toHaveAttribute('data-process-id', 'many-23');
    await page.getByRole('button', { name: 'Show more (5 hidden)' }).click();
    await expect(rows).toHaveCount(25);
    await expect(page.getByRole('button', { name: /^Show more/ })).toHaveCount(0);
  });

  test('a disconnect shows the session detached with its expiry countdown', async () => {
    const client = clients.shift()!;
    const sessionId = firstSessionId;
    client.close();
    await client.closed();
    await nav('Sessions').click();
    const row = page.locator(`[data-testid=session-row][data-session-id="${sessionId}"]`);
    await expect(row).toContainText('detached');
    await expect(row).toContainText('none (detached)');
    await expect(row.getByTestId('session-expiry')).toHaveText(/expires in (\d+m )?\d+s/);
    const first = await row.getByTestId('session-expiry').textContent();
    await expect(row.getByTestId('session-expiry')).not.toHaveText(first!, { timeout: 5_000 });
    await screenshot(page, 'sessions-detached');
  });

  test('Close ends a session: its client is dropped and the row goes away', async () => {
    const client = await RpcClient.connect(runtime.listenUrl);
    const { sessionId } = await client.handshake('to-be-closed');
    await nav('Sessions').click();
    const row = page.locator(`[data-testid=session-row][data-session-id="${sessionId}"]`);
    await expect(row).toContainText('to-be-closed');
    await row.getByRole('button', { name: `Close session ${sessionId}` }).click();
    await client.closed();
    await expect(row).toHaveCount(0);
  });

  test('empty states: relay streams and an unconfigured registration', async () => {
    await nav('Streams').click();
    await expect(page.getByText('No relay streams.')).toBeVisible();
    await screenshot(page, 'streams');
    await nav('Registration').click();
    await expect(page.getByText('No registry is configured')).toBeVisible();
    await expect(page.getByTestId('registration-state')).toHaveText('Stopped');
    await screenshot(page, 'registration');
  });

  test('logs list what the runtime logged, newest first', async () => {
    await nav('Logs').click();
    const entries = page.getByRole('list', { name: 'Log entries, newest first' }).getByRole('listitem');
    await expect(entries.filter({ hasText: 'listening' })).not.toHaveCount(0);
    await expect(entries.filter({ hasText: 'process terminated from the control API' })).toHaveCount(1);
    await screenshot(page, 'logs');
  });

  test('settings: invalid input is explained next to the field and nothing is sent', async () => {
    await nav('Settings').click();
    const listen = page.getByLabel('Listen URL');
    await listen.fill('http://localhost');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByText('Use ws://IP:PORT')).toBeVisible();
    await expect(listen).toHaveAttribute('aria-invalid', 'true');
    const snapshot = await page.evaluate(() => window.__execDeskState?.().snapshot?.settings.listenUrl);
    assert.equal(snapshot, 'ws://127.0.0.1:0', 'the invalid value was not saved');
    await screenshot(page, 'settings-invalid');
    await page.getByRole('button', { name: 'Revert' }).click();
    await expect(listen).toHaveValue('ws://127.0.0.1:0');
  });

  test('settings: AWS SigV4 shows its own fields, checks them, and saves them', async () => {
    await nav('Settings').click();
    await expect(page.getByLabel('AWS region')).toHaveCount(0);
    await page.getByLabel('Auth method').selectOption('aws-sigv4');
    const region = page.getByLabel('AWS region');
    await region.fill('eu west 1');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(region).toHaveAttribute('aria-invalid', 'true');
    await region.fill('eu-west-1');
    await page.getByLabel('AWS profile').fill('desk');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByText('Saved.')).toBeVisible();
    const remote = await page.evaluate(() => window.__execDeskState?.().snapshot?.settings.remote);
    assert.deepEqual(
      [remote?.authMethod, remote?.awsProfile, remote?.awsRegion, remote?.awsService],
      ['aws-sigv4', 'desk', 'eu-west-1', 'execute-api'],
      'the runtime holds what was saved',
    );
    await screenshot(page, 'settings-sigv4');
    await page.getByLabel('Auth method').selectOption('api-key');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByText('Saved.')).toBeVisible();
    await expect(page.getByLabel('AWS region')).toHaveCount(0);
  });

  test('a command the runtime rejects is shown, and the typed API key leaves the page', async () => {
    const secret = 'sk-e2e-must-not-stay-in-the-page-0123456789';
    await nav('Settings').click();
    await page.getByLabel('API key', { exact: true }).fill(secret);
    await page.getByRole('button', { name: 'Save settings' }).click();
    // Headless runs keep no secrets: the runtime refuses, and the page says so.
    const error = page.getByTestId('command-error');
    await expect(error).toContainText('updateSettings failed (unavailable');
    await expect(page.getByLabel('API key', { exact: true })).toHaveValue('');
    const state = await page.evaluate(() => JSON.stringify(window.__execDeskState?.()));
    assert.ok(state && !state.includes(secret), 'the key is not in the store');
    assert.ok(!(await page.content()).includes(secret), 'the key is not in the DOM');
    await screenshot(page, 'settings-rejected');
    await error.getByRole('button', { name: /^Dismiss/ }).click();
    await expect(error).toHaveCount(0);
  });

  test('stopping and starting the listener from the page', async () => {
    await nav('Listener').click();
    await page.getByRole('button', { name: 'Stop listener' }).click();
    await expect(page.getByText('not bound')).toBeVisible();
    await assert.rejects(RpcClient.connect(runtime.listenUrl), 'the port is closed');
    await page.getByRole('button', { name: 'Start listener' }).click();
    await expect(page.getByTestId('listener-url')).toHaveText(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const url = await page.getByTestId('listener-url').textContent();
    const client = await RpcClient.connect(url!);
    clients.push(client);
    await client.handshake('after-restart');
  });

  test('keyboard only: Tab reaches the views and Enter opens one, with a visible focus ring', async () => {
    // From a fresh load, the first Tab lands on the first view button.
    await page.reload();
    await expect(page.getByTestId('connection')).toHaveText('Connected');
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement?.textContent);
    assert.equal(first, 'Overview');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: 'Remote registration' })).toBeVisible();
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.equal(outline, 'solid', 'the focused button shows its focus ring');
    await screenshot(page, 'keyboard-focus');
  });

  test('dark mode follows prefers-color-scheme', async () => {
    await nav('Overview').click();
    const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(dark, light);
    await screenshot(page, 'overview-dark');
    await nav('Processes').click();
    await screenshot(page, 'processes-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('the page logged no errors', () => {
    assert.deepEqual(pageErrors, []);
  });

  test('when the runtime goes away the page says so and offers to try again', async () => {
    assert.equal(await runtime.stop(), 0, 'the runtime exits 0 on SIGTERM');
    await expect(page.getByTestId('connection')).toHaveText('Not connected');
    await expect(page.getByRole('heading', { name: 'Cannot reach the runtime' })).toBeVisible();
    await page.getByRole('button', { name: 'Try again' }).click();
    await expect(page.getByTestId('connection')).toHaveText('Not connected');
    await screenshot(page, 'connection-lost');
  });
});
