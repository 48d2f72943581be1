/**
 * The registration and relay-stream views through every state, driven by a scripted RemoteLink
 * inside a real ExecutorRuntime, over the desktop IPC path. The same views against the real
 * Noise link and the fake registry are registration.spec.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Browser, type Page } from '@playwright/test';
import { silentLogger } from '../src-main/core/log.ts';
import { ExecutorRuntime } from '../src-main/runtime/executor-runtime.ts';
import { SettingsStore } from '../src-main/runtime/settings-store.ts';
import { chromiumMissing, collectPageErrors, launchChromium, screenshot } from './support/browser.ts';
import { projectRoot, rendererIndex } from './support/paths.ts';
import { ScriptedLink } from './support/scripted-link.ts';
import { openSimulatedWindow } from './support/simulated-shell.ts';
import { suiteUnless } from './support/skippable.ts';

const skip =
  chromiumMissing() ??
  (existsSync(rendererIndex) && existsSync(join(projectRoot, 'out/preload/index.cjs')) ? false : 'the app is not built (npm run build; npm test builds it)');

suiteUnless(skip, 'registration and stream views over a scripted link', { timeout: 90_000 }, () => {
  let dir: string;
  let runtime: ExecutorRuntime;
  let link: ScriptedLink | null = null;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let detach: () => void;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'exec-desk-reg-'));
    const settings = new SettingsStore({ dir });
    settings.update({ remote: { registryUrl: 'http://127.0.0.1:9/api', environmentId: 'env-scripted', name: 'laptop' } });
    runtime = new ExecutorRuntime({
      host: 'desktop',
      version: 'e2e',
      settings,
      logSink: silentLogger,
      createRemoteLink: (context) => {
        link = new ScriptedLink({
          configured: true,
          registryUrl: context.settings.remote.registryUrl,
          environmentId: context.settings.remote.environmentId,
          name: context.settings.remote.name,
          transport: 'noise',
          authMethod: 'api-key',
          registrationId: null,
          nextAttemptAtMs: null,
          attempts: 0,
          onlineSinceMs: null,
          lastError: null,
          lastErrorAtMs: null,
        });
        return link;
      },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    pageErrors = collectPageErrors(page);
    detach = await openSimulatedWindow(page, runtime);
    await expect(page.getByTestId('connection')).toHaveText('Connected');
  });

  after(async () => {
    detach?.();
    await browser?.close();
    await runtime?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const nav = (name: string) => page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: new RegExp(`^${name}`) });
  const badge = () => page.getByTestId('registration-state');

  test('Connect starts the link; the badge follows Registering, Connecting, Online', async () => {
    await nav('Registration').click();
    await expect(badge()).toHaveText('Stopped');
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => link?.calls).toEqual(['start']);
    link!.set({ status: 'registering', attempts: 1 });
    await expect(badge()).toHaveText('Registering');
    link!.set({ status: 'connecting', registrationId: 'reg-123' });
    await expect(badge()).toHaveText('Connecting');
    await screenshot(page, 'registration-connecting');
    link!.set({ status: 'online', onlineSinceMs: Date.now() });
    await expect(badge()).toHaveText('Online');
    await expect(page.getByText('reg-123')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Disconnect' })).toBeVisible();
  });

  test('Reconnecting shows the countdown to the next attempt and the last error; Reconnect now reaches the link', async () => {
    link!.set({ status: 'reconnecting', nextAttemptAtMs: Date.now() + 12_000, onlineSinceMs: null, attempts: 2, lastError: 'rendezvous socket closed (1006)', lastErrorAtMs: Date.now() });
    await expect(badge()).toHaveText('Reconnecting');
    await expect(page.getByTestId('next-attempt')).toHaveText(/next attempt in \d+s/);
    const first = await page.getByTestId('next-attempt').textContent();
    await expect(page.getByTestId('next-attempt')).not.toHaveText(first!);
    await expect(page.getByText('rendezvous socket closed (1006)')).toBeVisible();
    await screenshot(page, 'registration-reconnecting-countdown');
    await page.getByRole('button', { name: 'Reconnect now' }).click();
    await expect.poll(() => link?.calls.at(-1)).toBe('reconnectNow');
    link!.set({ status: 'online', nextAttemptAtMs: null, onlineSinceMs: Date.now(), attempts: 3 });
    await expect(badge()).toHaveText('Online');
    await expect(page.getByRole('button', { name: 'Reconnect now' })).toHaveCount(0);
  });

  test('relay streams show state, bytes and age; Reset reaches the link', async () => {
    link!.upsertStream({ streamId: 'st-1', state: 'open', bytesIn: 2048, bytesOut: 3 * 1024 * 1024, openedAtMs: Date.now() - 65_000, closedAtMs: null, endReason: null, sessionId: null });
    link!.upsertStream({ streamId: 'st-2', state: 'handshaking', bytesIn: 0, bytesOut: 0, openedAtMs: Date.now(), closedAtMs: null, endReason: null, sessionId: null });
    await nav('Streams').click();
    const rows = page.getByTestId('stream-row');
    await expect(rows).toHaveCount(2);
    await expect(rows.first()).toContainText('2.0 KiB');
    await expect(rows.first()).toContainText('3.0 MiB');
    await expect(rows.first()).toContainText(/1m \d\ds/);
    await screenshot(page, 'streams-open');
    await page.getByRole('button', { name: 'Reset stream st-1' }).click();
    await expect(rows.first()).toContainText('closed');
    await expect(rows.first()).toContainText('reset from the control API');
    await expect(page.getByRole('button', { name: 'Reset stream st-1' })).toHaveCount(0);
    assert.ok(link!.calls.includes('resetStream:st-1'));
  });

  test('Disconnect stops the link and the badge says Stopped', async () => {
    await nav('Registration').click();
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await expect(badge()).toHaveText('Stopped');
    assert.equal(link!.calls.at(-1), 'stop');
    await expect(page.getByRole('button', { name: 'Connect' })).toBeVisible();
  });

  test('the page logged no errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
