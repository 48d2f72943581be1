/**
 * The desktop app's IPC path without an Electron binary: the BUILT preload (out/preload/index.cjs)
 * runs in Chromium with a stand-in for the `electron` module whose ipcRenderer calls into this
 * process, where main's real IPC handler (src-main/app/ipc-invoke.ts) answers from a real
 * ExecutorRuntime, and runtime events come back on IPC_EVENT_CHANNEL. The built renderer is
 * served the way main's app:// protocol handler serves it (same file mapping, same CSP header).
 *
 * What this does NOT prove is Electron's own isolation (contextIsolation, sandbox): the stand-in
 * lives in the page's world. The Electron spec covers that where a binary exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type RuntimeEvent } from '../../src-main/control/contract.ts';
import { createInvokeHandler } from '../../src-main/app/ipc-invoke.ts';
import { resolveRendererAsset } from '../../src-main/app/renderer-protocol.ts';
import { APP_ORIGIN, CONTENT_SECURITY_POLICY } from '../../src-main/app/window-policy.ts';
import type { ExecutorRuntime } from '../../src-main/runtime/executor-runtime.ts';
import { projectRoot } from './paths.ts';

/** Chromium cannot load an unknown scheme, so the page lives here and is mapped to app://. */
export const SIMULATED_ORIGIN = 'http://exec-desk.test';

function toAppUrl(url: string): string {
  return url.startsWith(SIMULATED_ORIGIN + '/') ? APP_ORIGIN + url.slice(SIMULATED_ORIGIN.length) : url;
}

function preloadScript(): string {
  const preload = readFileSync(join(projectRoot, 'out/preload/index.cjs'), 'utf8');
  return `(() => {
    const listeners = new Map();
    const ipcRenderer = {
      invoke: (channel, ...args) => window.__shellInvoke(channel, ...args),
      on(channel, listener) { (listeners.get(channel) ?? listeners.set(channel, new Set()).get(channel)).add(listener); },
      removeListener(channel, listener) { listeners.get(channel)?.delete(listener); },
    };
    window.__shellEmit = (channel, payload) => { for (const l of listeners.get(channel) ?? []) l({ sender: 'ipc-event' }, payload); };
    window.__exposedByPreload = [];
    const contextBridge = { exposeInMainWorld(key, api) { window.__exposedByPreload.push(key); Object.defineProperty(window, key, { value: api, enumerable: false }); } };
    const require = (name) => { if (name === 'electron') return { contextBridge, ipcRenderer }; throw new Error('a sandboxed preload cannot require ' + name); };
    const module = { exports: {} };
    const exports = module.exports;
    ${preload}
  })();`;
}

/** Loads the renderer in `page` as the Electron window would, wired to `runtime`. */
export async function openSimulatedWindow(page: Page, runtime: ExecutorRuntime): Promise<() => void> {
  const rendererDir = join(projectRoot, 'out/renderer');
  await page.route(`${SIMULATED_ORIGIN}/**`, async (route) => {
    const asset = resolveRendererAsset(toAppUrl(route.request().url()), rendererDir);
    if (asset === null) return route.fulfill({ status: 404, body: 'not found' });
    await route.fulfill({
      status: 200,
      body: readFileSync(asset.path),
      headers: { 'content-type': asset.contentType, 'content-security-policy': CONTENT_SECURITY_POLICY },
    });
  });
  const handle = createInvokeHandler((command, params) => runtime.dispatch(command, params));
  await page.exposeBinding('__shellInvoke', (source, channel: string, command: unknown, params: unknown) => {
    if (channel !== IPC_INVOKE_CHANNEL) throw new Error(`unexpected channel ${channel}`);
    return handle({ frameUrl: toAppUrl(source.frame.url()), isMainFrame: source.frame === source.page.mainFrame() }, command, params);
  });
  await page.addInitScript({ content: preloadScript() });
  const unsubscribe = runtime.subscribe((event: RuntimeEvent) => {
    void page.evaluate(([channel, payload]) => (window as any).__shellEmit?.(channel, payload), [IPC_EVENT_CHANNEL, event] as const).catch(() => undefined);
  });
  await page.goto(`${SIMULATED_ORIGIN}/index.html`);
  return unsubscribe;
}
