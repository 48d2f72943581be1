/**
 * The BUILT Electron shell (out/main/index.js) under plain Node, with `electron` resolved to a
 * recording stand-in (support/fake-electron.mjs): proves main's wiring — the first launch opens
 * a locked-down window on app://, IPC answers only the app's frame, app:// serves the renderer
 * with the CSP header, the tray follows the runtime and its menu acts on it, close hides to the
 * tray, and Quit shuts the runtime down (children killed) before the app exits.
 * Electron's own behaviour is not proven here: e2e/electron.spec.ts does that where a binary exists.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type RuntimeSnapshot } from '../src-main/control/contract.ts';
import { RpcClient } from '../src-main/testkit/rpc-client.ts';
import { processExists, waitForProcessGone } from './support/os-process.ts';
import { projectRoot } from './support/paths.ts';
import { suiteUnless } from './support/skippable.ts';

const bundle = join(projectRoot, 'out/main/index.js');
const skip = existsSync(bundle) ? false : 'the app is not built (npm run build; npm test builds it)';

async function until<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

suiteUnless(skip, 'the Electron shell with a stand-in electron module', { timeout: 60_000 }, () => {
  let userData: string;
  let fake: any;
  let win: any;
  let tray: any;
  const appFrame = () => ({ senderFrame: win.webContents.mainFrame, sender: win.webContents });

  before(async () => {
    userData = mkdtempSync(join(tmpdir(), 'exec-desk-shell-'));
    process.env.FAKE_ELECTRON_USER_DATA = userData;
    // The Linux autostart entry goes under XDG_CONFIG_HOME: keep it in the temp folder.
    process.env.XDG_CONFIG_HOME = join(userData, 'xdg');
    process.env.EXEC_DESK_LOG = 'error';
    register(new URL('./support/electron-loader-hooks.mjs', import.meta.url));
    fake = await import('./support/fake-electron.mjs');
    await import(pathToFileURL(bundle).href);
    win = await until(() => fake.record.windows[0], 'the window');
    tray = await until(() => fake.record.trays[0], 'the tray');
    await until(() => /listening on ws:/.test(tray.tooltip), 'the tray to show the listener');
  });

  after(() => {
    rmSync(userData, { recursive: true, force: true });
  });

  const invoke = (event: unknown, command: unknown, params?: unknown) => fake.record.ipcHandlers.get(IPC_INVOKE_CHANNEL)(event, command, params);

  test('the first launch opens one locked-down window on the app origin', () => {
    assert.equal(fake.record.windows.length, 1);
    assert.equal(win.url, 'app://exec-desk/index.html');
    assert.equal(win.visible, true, 'shown once ready');
    const prefs = win.options.webPreferences;
    assert.deepEqual(
      [prefs.contextIsolation, prefs.sandbox, prefs.nodeIntegration, prefs.webSecurity, prefs.webviewTag],
      [true, true, false, true, false],
    );
    assert.equal(prefs.preload, join(projectRoot, 'out/preload/index.cjs'));
    assert.ok(existsSync(prefs.preload), 'the preload path points at the built preload');
    assert.deepEqual(fake.record.privileged.map((s: any) => s.scheme), ['app']);
  });

  test('navigation, new windows, webviews and permissions are refused', () => {
    const contents = win.webContents;
    for (const url of ['https://example.com/', 'file:///etc/passwd']) {
      const event = { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
      contents.emit('will-navigate', event, url);
      assert.equal(event.defaultPrevented, true, url);
    }
    const inApp = { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
    contents.emit('will-navigate', inApp, 'app://exec-desk/index.html');
    assert.equal(inApp.defaultPrevented, false);
    assert.deepEqual(contents.windowOpenHandler({ url: 'https://example.com/' }), { action: 'deny' });
    let granted: boolean | undefined;
    fake.record.permissionRequest(contents, 'media', (ok: boolean) => (granted = ok), { requestingUrl: 'app://exec-desk/index.html' });
    assert.equal(granted, false);
  });

  test('app:// serves the built renderer with the CSP header and nothing outside it', async () => {
    const handler = fake.record.protocolHandlers.get('app');
    const page: Response = await handler(new Request('app://exec-desk/index.html'));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /^default-src 'none'; script-src 'self'.*frame-ancestors 'none'$/);
    assert.equal(await page.text(), readFileSync(join(projectRoot, 'out/renderer/index.html'), 'utf8'));
    const outside: Response = await handler(new Request('app://exec-desk/../../package.json'));
    assert.equal(outside.status, 404);
  });

  test('IPC answers the app frame and refuses any other sender', async () => {
    const reply = await invoke(appFrame(), 'getSnapshot');
    assert.equal(reply.ok, true);
    const snapshot = reply.result as RuntimeSnapshot;
    assert.equal(snapshot.host, 'desktop');
    assert.equal(snapshot.listener.status, 'listening');
    const foreign = await invoke({ senderFrame: { url: 'https://evil.example/' }, sender: { mainFrame: null } }, 'getSnapshot');
    assert.deepEqual(foreign.ok, false);
    const subFrame = await invoke({ senderFrame: { url: 'app://exec-desk/index.html' }, sender: win.webContents }, 'getSnapshot');
    assert.equal(subFrame.ok, false, 'a frame that is not the main frame is refused');
    const unknown = await invoke(appFrame(), 'spawnShell', {});
    assert.equal(unknown.error.code, 'unknown_command');
  });

  test('runtime events reach the window on the event channel', async () => {
    const url = ((await invoke(appFrame(), 'getSnapshot')).result as RuntimeSnapshot).listener.url!;
    const client = await RpcClient.connect(url);
    try {
      await client.handshake('shell-test');
      await until(
        () => win.webContents.sent.find(([channel, event]: [string, any]) => channel === IPC_EVENT_CHANNEL && event.type === 'session' && event.session.clientName === 'shell-test'),
        'a session event sent to the window',
      );
    } finally {
      client.close();
    }
  });

  test('settings persist in userData with the API key encrypted by safeStorage', async () => {
    const secret = 'sk-shell-test-key-0123456789';
    const reply = await invoke(appFrame(), 'updateSettings', { apiKey: secret, closeToTray: true });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    assert.equal(reply.result.hasApiKey, true);
    assert.ok(!JSON.stringify(reply).includes(secret));
    const file = readFileSync(join(userData, 'settings.json'), 'utf8');
    assert.ok(!file.includes(secret), 'no plain-text key on disk');
    assert.match(file, /apiKeyCiphertext/);
  });

  test('start at login is opt-in and writes the autostart entry (Linux), started hidden', async (t) => {
    if (process.platform !== 'linux') return t.skip('the XDG autostart entry is Linux only');
    const entry = join(userData, 'xdg', 'autostart', 'exec-desk.desktop');
    assert.equal(existsSync(entry), false, 'off by default');
    assert.equal((await invoke(appFrame(), 'updateSettings', { startAtLogin: true })).ok, true);
    assert.match(readFileSync(entry, 'utf8'), /\nExec=.* --hidden\n/);
    assert.equal((await invoke(appFrame(), 'updateSettings', { startAtLogin: false })).ok, true);
    assert.equal(existsSync(entry), false);
  });

  test('the tray menu stops and starts the listener, and the icon and tooltip follow', async () => {
    const item = (label: string) => tray.menu.items.find((i: any) => i.label === label);
    assert.deepEqual(
      tray.menu.items.map((i: any) => i.label ?? '---'),
      ['Open exec-desk', '---', 'Stop local listener', 'Connect remote', '---', 'Quit exec-desk'],
    );
    assert.match(tray.image.path, /resources\/tray-local\.png$/);
    item('Stop local listener').click();
    await until(() => tray.tooltip === 'exec-desk: listener stopped; remote not set up', 'the tray to show the stopped listener');
    assert.match(tray.image.path, /tray-off\.png$/);
    item('Start local listener').click();
    await until(() => /listening on ws:/.test(tray.tooltip), 'the listener to come back');
  });

  test('closing the window hides it to the tray; Open shows it again', () => {
    win.close();
    assert.equal(win.isDestroyed(), false);
    assert.equal(win.visible, false);
    tray.menu.items.find((i: any) => i.label === 'Open exec-desk').click();
    assert.equal(win.visible, true);
    assert.equal(fake.record.windows.length, 1, 'the same window, not a new one');
  });

  test('launching a second instance shows the hidden window', () => {
    win.close();
    assert.equal(win.visible, false);
    fake.app.emit('second-instance', {}, ['exec-desk'], '/');
    assert.equal(win.visible, true);
    assert.equal(fake.record.windows.length, 1);
  });

  test('Quit shuts the runtime down, killing its processes, before the app exits', async () => {
    const url = ((await invoke(appFrame(), 'getSnapshot')).result as RuntimeSnapshot).listener.url!;
    const client = await RpcClient.connect(url);
    await client.handshake('quit-test');
    await client.call('process/start', {
      processId: 'long',
      argv: ['/bin/sleep', '600'],
      cwd: 'file:///tmp',
      env: { PATH: '/usr/bin:/bin' },
      tty: false,
      arg0: null,
    });
    const snapshot = (await invoke(appFrame(), 'getSnapshot')).result as RuntimeSnapshot;
    const pid = snapshot.processes.find((p) => p.processId === 'long')!.pid;
    assert.ok(processExists(pid));
    tray.menu.items.find((i: any) => i.label === 'Quit exec-desk').click();
    assert.equal(fake.record.quit, false, 'the first quit waits for the runtime');
    await until(() => fake.record.quit, 'the app to quit');
    assert.equal(fake.record.quitRequests, 2, 'quit again once shut down');
    await waitForProcessGone(pid);
    await client.closed();
  });
});
