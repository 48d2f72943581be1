/**
 * Security of the dashboard path: the control websocket refuses a missing or wrong token and a
 * foreign Origin; the page has no Node; the CSP blocks injected script; nothing secret is kept
 * in the renderer's state.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import WebSocket from 'ws';
import { expect, type Browser, type Page } from '@playwright/test';
import { CONTROL_WS_PATH, CONTROL_WS_PROTOCOL, CONTROL_WS_TOKEN_PREFIX } from '../src-main/control/contract.ts';
import { chromiumMissing, launchChromium } from './support/browser.ts';
import { startHeadlessRuntime, type HeadlessRuntime } from './support/headless-runtime.ts';
import { rendererIndex } from './support/paths.ts';
import { suiteUnless } from './support/skippable.ts';

/** Opens the control websocket; resolves with the HTTP status of a refused upgrade, or 101. */
function upgradeStatus(url: string, protocols: string[], headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

describe('control websocket access', { timeout: 60_000 }, () => {
  let runtime: HeadlessRuntime;
  before(async () => {
    runtime = await startHeadlessRuntime();
  });
  after(async () => {
    await runtime?.stop();
  });

  const url = () => `ws://${new URL(runtime.origin).host}${CONTROL_WS_PATH}`;

  test('the right token from the page origin is let in', async () => {
    assert.equal(await upgradeStatus(url(), [CONTROL_WS_PROTOCOL, CONTROL_WS_TOKEN_PREFIX + runtime.token], { Origin: runtime.origin }), 101);
  });

  test('a missing or wrong token is refused with 401', async () => {
    assert.equal(await upgradeStatus(url(), [CONTROL_WS_PROTOCOL]), 401);
    assert.equal(await upgradeStatus(url(), [CONTROL_WS_PROTOCOL, `${CONTROL_WS_TOKEN_PREFIX}wrong-${runtime.token.slice(6)}`]), 401);
    assert.equal(await upgradeStatus(url(), [CONTROL_WS_PROTOCOL, CONTROL_WS_TOKEN_PREFIX]), 401);
  });

  test('a foreign Origin is refused with 403 even with the right token', async () => {
    for (const origin of ['http://evil.example', 'http://localhost' + runtime.origin.slice(runtime.origin.lastIndexOf(':')), 'null']) {
      assert.equal(await upgradeStatus(url(), [CONTROL_WS_PROTOCOL, CONTROL_WS_TOKEN_PREFIX + runtime.token], { Origin: origin }), 403, origin);
    }
  });
});

const skip = chromiumMissing() ?? (existsSync(rendererIndex) ? false : 'the renderer is not built (npm run build; npm test builds it)');

suiteUnless(skip, 'the dashboard page', { timeout: 60_000 }, () => {
  let runtime: HeadlessRuntime;
  let browser: Browser;
  let page: Page;
  before(async () => {
    runtime = await startHeadlessRuntime();
    browser = await launchChromium();
  });
  beforeEach(async () => {
    await page?.close();
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('without the token the page explains itself and gets no data', async () => {
    await page.goto(runtime.origin + '/');
    await expect(page.getByTestId('connection')).toHaveText('Not connected');
    await expect(page.getByText('#token=')).toBeVisible();
    assert.equal(await page.evaluate(() => window.__execDeskState?.().snapshot), null);
    // Pasting the fragment in connects without a reload.
    await page.evaluate((hash) => (location.hash = hash), new URL(runtime.dashboardUrl).hash);
    await expect(page.getByTestId('connection')).toHaveText('Connected');
  });

  test('with the token it connects; the page has no Node and no preload bridge', async () => {
    await page.goto(runtime.dashboardUrl);
    await expect(page.getByTestId('connection')).toHaveText('Connected');
    const globals = await page.evaluate(() => ({
      require: typeof (globalThis as any).require,
      process: typeof (globalThis as any).process,
      module: typeof (globalThis as any).module,
      Buffer: typeof (globalThis as any).Buffer,
      execDesk: typeof window.execDesk,
    }));
    assert.deepEqual(globals, { require: 'undefined', process: 'undefined', module: 'undefined', Buffer: 'undefined', execDesk: 'undefined' });
  });

  test('the Content-Security-Policy blocks injected inline script and outside connections', async () => {
    const response = await page.goto(runtime.dashboardUrl);
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    const outcome = await page.evaluate(
      () =>
        new Promise<{ directive: string; ran: boolean }>((resolve) => {
          document.addEventListener('securitypolicyviolation', (e) => resolve({ directive: e.effectiveDirective, ran: (window as any).__injected === true }), {
            once: true,
          });
          const s = document.createElement('script');
          s.textContent = 'window.__injected = true';
          document.body.append(s);
        }),
    );
    assert.deepEqual(outcome, { directive: 'script-src-elem', ran: false });
    const blocked = await page.evaluate(async () => {
      try {
        await fetch('http://127.0.0.1:9/');
        return 'fetched';
      } catch (err) {
        return String(err);
      }
    });
    assert.match(blocked, /Failed to fetch/);
  });

  test('the renderer state holds no token or key', async () => {
    await page.goto(runtime.dashboardUrl);
    await expect(page.getByTestId('connection')).toHaveText('Connected');
    const state = await page.evaluate(() => JSON.stringify(window.__execDeskState?.()));
    assert.ok(state.includes('"listener"'), 'the state was read');
    assert.ok(!state.includes(runtime.token), 'the control token is not in the store');
    assert.doesNotMatch(state, /sk-[A-Za-z0-9]/);
    assert.doesNotMatch(state, /"(apiKey|token|secret|password)"\s*:/i);
  });
});
