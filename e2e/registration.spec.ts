/**
 * The registration panel following the REAL Noise remote link against the fake registry +
 * rendezvous: Registering/Connecting → Online → Reconnecting (with the next-attempt countdown)
 * → Online, in the dashboard (Chromium) of an in-process ExecutorRuntime. The link is the one the
 * desktop app uses (runtime/remote-link-factory.ts): registry, environment and API key are typed
 * into the Settings form first, and Connect builds the link from them.
 * The same views over a scripted link: registration-states.spec.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { expect, type Browser, type Page } from '@playwright/test';
import { ControlServer } from '../src-main/control/control-server.ts';
import { silentLogger } from '../src-main/core/log.ts';
import { ExecutorRuntime } from '../src-main/runtime/executor-runtime.ts';
import { settingsRemoteLinkFactory } from '../src-main/runtime/remote-link-factory.ts';
import { SettingsStore } from '../src-main/runtime/settings-store.ts';
import { testSecretBox } from '../src-main/runtime/test-support.ts';
import { FakeRegistry } from '../src-main/testkit/remote/fake-registry.ts';
import { chromiumMissing, launchChromium, screenshot } from './support/browser.ts';
import { rendererIndex } from './support/paths.ts';
import { suiteUnless } from './support/skippable.ts';

const API_KEY = 'sk-test-executor';
const ENVIRONMENT_ID = 'env-e2e-registration';

/** Records every registration state the page shows, in order, into window.__seenStates. */
const RECORD_STATES = `(() => {
  const seen = [];
  window.__seenStates = seen;
  const record = () => {
    const text = document.querySelector('[data-testid=registration-state]')?.textContent ?? '';
    if (text !== '' && seen[seen.length - 1] !== text) seen.push(text);
  };
  record();
  new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
})()`;

const skip = chromiumMissing() ?? (existsSync(rendererIndex) ? false : 'the renderer is not built (npm run build; npm test builds it)');

suiteUnless(skip, 'registration panel against the fake registry', { timeout: 120_000 }, () => {
  let registry: FakeRegistry;
  let runtime: ExecutorRuntime;
  let control: ControlServer;
  let browser: Browser;
  let page: Page;
  /** While set, the rendezvous refuses the executor's upgrade, so the link stays reconnecting. */
  let refuseUpgrades = false;

  before(async () => {
    registry = await FakeRegistry.start({ executorToken: API_KEY, rejectUpgrades: () => (refuseUpgrades ? 503 : undefined) });
    // A keychain stand-in, as the desktop app has one; no CODEX_API_KEY or auth.json to fall back on.
    const settings = new SettingsStore({ dir: null, secretBox: testSecretBox });
    runtime = new ExecutorRuntime({
      host: 'desktop',
      version: 'e2e',
      settings,
      logSink: silentLogger,
      createRemoteLink: settingsRemoteLinkFactory({ env: { CODEX_HOME: '/nonexistent-codex-home' } }),
    });
    control = await ControlServer.start({ target: runtime, log: silentLogger });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  });

  after(async () => {
    await browser?.close();
    await control?.close();
    await runtime?.shutdown();
    await registry?.close();
  });

  /** Every registration state the page has shown, in order (recorded in the page itself). */
  const seenStates = () => page.evaluate(() => ((window as any).__seenStates as string[]) ?? []);

  test('settings typed in the form, then Connect: the page follows the link through registering/connecting to online', async () => {
    await page.goto(control.dashboardUrl);
    const nav = (name: RegExp) => page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name });
    await nav(/^Settings/).click();
    await page.getByLabel('Registry URL').fill(registry.baseUrl);
    await page.getByLabel('Environment id').fill(ENVIRONMENT_ID);
    await page.getByLabel('Executor name').fill('e2e-laptop');
    await page.getByLabel('API key', { exact: true }).fill(API_KEY);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByText('Saved.')).toBeVisible();
    assert.equal(runtime.snapshot().settings.hasApiKey, true);
    await nav(/^Registration/).click();
    // A string, not a function: tsx would wrap named inner functions in a helper the page lacks.
    await page.evaluate(RECORD_STATES);
    await expect(page.getByTestId('registration-state')).toHaveText('Stopped');
    await page.getByRole('button', { name: 'Connect' }).click();
    await registry.waitForExecutor(ENVIRONMENT_ID);
    await expect(page.getByTestId('registration-state')).toHaveText('Online');
    await expect(page.getByText(ENVIRONMENT_ID)).toBeVisible();
    await screenshot(page, 'registration-online');
    const states = await seenStates();
    assert.equal(states[0], 'Stopped');
    assert.equal(states.at(-1), 'Online');
    assert.ok(states.some((s) => s === 'Registering' || s === 'Connecting'), `states seen: ${states.join(' → ')}`);
  });

  test('a dropped rendezvous shows Reconnecting with the next attempt, then Online again', async () => {
    refuseUpgrades = true;
    registry.dropExecutor(ENVIRONMENT_ID);
    await expect(page.getByTestId('registration-state')).toHaveText('Reconnecting');
    await expect(page.getByTestId('next-attempt')).toHaveText(/next attempt (in (\d+m )?\d+s|now)/);
    await screenshot(page, 'registration-reconnecting');
    refuseUpgrades = false;
    // "Reconnect now" skips whatever backoff is left (the button may already be gone if an
    // attempt just started).
    await page.getByRole('button', { name: 'Reconnect now' }).click({ timeout: 2_000 }).catch(() => undefined);
    await expect(page.getByTestId('registration-state')).toHaveText('Online', { timeout: 40_000 });
    const states = await seenStates();
    const online = states.indexOf('Online');
    const reconnecting = states.indexOf('Reconnecting', online);
    assert.ok(online >= 0 && reconnecting > online && states.lastIndexOf('Online') > reconnecting, `states seen: ${states.join(' → ')}`);
  });

  test('Disconnect stops the link', async () => {
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await expect(page.getByTestId('registration-state')).toHaveText('Stopped');
    await registry.executorClosed(ENVIRONMENT_ID);
  });
});
