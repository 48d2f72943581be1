/**
 * The registration panel following a real remote link against the fake registry + rendezvous:
 * Registering/Connecting → Online → Reconnecting (with the next-attempt countdown) → Online.
 *
 * Needs the Noise remote link (src-main/remote/noise-remote-link.ts), which lands on another
 * branch; until it is merged this spec is skipped with that reason. It drives the CLI the way a
 * person would: `exec-desk --no-ui --dashboard --remote <registry> --environment-id <id>` with
 * the API key in CODEX_API_KEY, as `codex exec-server --remote` takes it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Browser, type Page } from '@playwright/test';
import type { FakeRegistry as FakeRegistryType } from '../src-main/testkit/remote/fake-registry.ts';
import { chromiumMissing, launchChromium, screenshot } from './support/browser.ts';
import { startHeadlessRuntime, type HeadlessRuntime } from './support/headless-runtime.ts';
import { projectRoot, rendererIndex } from './support/paths.ts';
import { suiteUnless } from './support/skippable.ts';

const REMOTE_LINK = join(projectRoot, 'src-main/remote/noise-remote-link.ts');
const API_KEY = 'sk-test-executor';
const ENVIRONMENT_ID = 'env-e2e-registration';

const skip = !existsSync(REMOTE_LINK)
  ? 'the Noise remote link (src-main/remote/noise-remote-link.ts) is not on this branch yet'
  : (chromiumMissing() ?? (existsSync(rendererIndex) ? false : 'the renderer is not built (npm run build; npm test builds it)'));

suiteUnless(skip, 'registration panel against the fake registry', { timeout: 120_000 }, () => {
  let registry: FakeRegistryType;
  let runtime: HeadlessRuntime;
  let browser: Browser;
  let page: Page;
  /** While set, the rendezvous refuses the executor's upgrade, so the link stays reconnecting. */
  let refuseUpgrades = false;

  before(async () => {
    // Imported here so a branch without the remote code never loads it.
    const { FakeRegistry } = await import('../src-main/testkit/remote/fake-registry.ts');
    registry = await FakeRegistry.start({
      executorToken: API_KEY,
      rejectUpgrades: () => (refuseUpgrades ? 503 : undefined),
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  });

  after(async () => {
    await browser?.close();
    await runtime?.stop();
    await registry?.close();
  });

  /** Every registration state the page has shown, in order (recorded in the page itself). */
  const seenStates = () => page.evaluate(() => ((window as any).__seenStates as string[]) ?? []);

  test('the page follows the link through connecting to online', async () => {
    runtime = await startHeadlessRuntime(['--remote', registry.baseUrl, '--environment-id', ENVIRONMENT_ID], { CODEX_API_KEY: API_KEY });
    await page.goto(runtime.dashboardUrl);
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Registration/ }).click();
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as any).__seenStates = seen;
      const record = () => {
        const text = document.querySelector('[data-testid=registration-state]')?.textContent ?? '';
        if (text !== '' && seen[seen.length - 1] !== text) seen.push(text);
      };
      record();
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await registry.waitForExecutor(ENVIRONMENT_ID);
    await expect(page.getByTestId('registration-state')).toHaveText('Online');
    await expect(page.getByText(registry.baseUrl)).toBeVisible();
    await expect(page.getByText(ENVIRONMENT_ID)).toBeVisible();
    await screenshot(page, 'registration-online');
    const states = await seenStates();
    assert.equal(states.at(-1), 'Online');
  });

  test('a dropped rendezvous shows Reconnecting with the next attempt, then Online again', async () => {
    refuseUpgrades = true;
    registry.dropExecutor(ENVIRONMENT_ID);
    await expect(page.getByTestId('registration-state')).toHaveText('Reconnecting');
    await expect(page.getByTestId('next-attempt')).toHaveText(/next attempt (in (\d+m )?\d+s|now)/);
    await screenshot(page, 'registration-reconnecting');
    refuseUpgrades = false;
    // "Reconnect now" skips whatever backoff is left.
    await page.getByRole('button', { name: 'Reconnect now' }).click().catch(() => undefined);
    await expect(page.getByTestId('registration-state')).toHaveText('Online', { timeout: 40_000 });
    const states = await seenStates();
    const online = states.indexOf('Online');
    const reconnecting = states.indexOf('Reconnecting', online);
    assert.ok(online >= 0 && reconnecting > online && states.lastIndexOf('Online') > reconnecting, `states seen: ${states.join(' → ')}`);
  });
});
