/**
 * The Electron shell: lifecycle, single-instance lock, tray, window and IPC wiring. All logic
 * lives in electron-free modules beside this file (tested under Node) and in the
 * ExecutorRuntime; this file only connects them to Electron's objects.
 */
import { app, BrowserWindow, ipcMain, Menu, nativeImage, protocol, safeStorage, session, Tray, type MenuItemConstructorOptions } from 'electron';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type RuntimeEvent } from '../control/contract.ts';
import { DASHBOARD_LINE_PREFIX } from '../cli/headless.ts';
import { ControlServer } from '../control/control-server.ts';
import { createLogger } from '../core/log.ts';
import { execDeskHome, removeDiscovery, writeDiscovery } from '../runtime/instance-discovery.ts';
import { ExecutorRuntime } from '../runtime/executor-runtime.ts';
import { settingsRemoteLinkFactory } from '../runtime/remote-link-factory.ts';
import { SETTINGS_FILE, SettingsStore } from '../runtime/settings-store.ts';
import { createInvokeHandler } from './ipc-invoke.ts';
import { parseLaunchFlags, showWindowAtLaunch } from './launch-plan.ts';
import { applyStartAtLogin } from './login-item.ts';
import { resolveRendererAsset } from './renderer-protocol.ts';
import { safeStorageSecretBox } from './secret-box.ts';
import { trayModel, type TrayItemId } from './tray-state.ts';
import {
  allowNavigation,
  allowPermission,
  APP_SCHEME,
  closeAction,
  CONTENT_SECURITY_POLICY,
  RENDERER_ENTRY_URL,
  secureWebPreferences,
} from './window-policy.ts';

// electron-vite puts main in out/main, the preload in out/preload and the page in out/renderer.
const here = import.meta.dirname;
const PRELOAD_PATH = join(here, '../preload/index.cjs');
const RENDERER_DIR = join(here, '../renderer');
const RESOURCES_DIR = app.isPackaged ? process.resourcesPath : join(here, '../../resources');

// Must happen before `ready`: app:// behaves like https (secure context, fetch, relative URLs).
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }]);

const flags = parseLaunchFlags(process.argv);
let window: BrowserWindow | null = null;
let tray: Tray | null = null;
let quitting = false;
/** The closeToTray setting, kept current from settings events. */
let closeToTray = true;
let shutDown = false;

if (!app.requestSingleInstanceLock()) {
  // Another exec-desk owns the listener and the registration: let it show its window instead.
  app.quit();
} else {
  app.on('second-instance', () => showWindow());
  void start().catch((err: unknown) => {
    process.stderr.write(`exec-desk failed to start: ${(err as Error).stack ?? String(err)}\n`);
    app.exit(1);
  });
}

async function start(): Promise<void> {
  await app.whenReady();
  const userData = app.getPath('userData');
  const firstLaunch = !existsSync(join(userData, SETTINGS_FILE));
  const settings = new SettingsStore({ dir: userData, secretBox: safeStorageSecretBox(safeStorage) });
  const runtime = new ExecutorRuntime({
    host: flags.noUi ? 'headless' : 'desktop',
    version: app.getVersion(),
    settings,
    logSink: createLogger(),
    createRemoteLink: settingsRemoteLinkFactory({ env: process.env }),
  });

  // Quit (menu, signal, OS logout) always goes through the runtime's shutdown, which kills every child.
  app.on('before-quit', (event) => {
    quitting = true;
    if (shutDown) return;
    event.preventDefault();
    void runtime.shutdown().finally(() => {
      shutDown = true;
      app.quit();
    });
  });
  process.on('SIGTERM', () => app.quit());
  process.on('SIGINT', () => app.quit());

  applyLoginItem(settings.view().startAtLogin);
  closeToTray = settings.view().closeToTray;
  runtime.subscribe((event) => onRuntimeEvent(runtime, event));

  const handle = createInvokeHandler((command, params) => runtime.dispatch(command, params));
  ipcMain.handle(IPC_INVOKE_CHANNEL, (event, command: unknown, params: unknown) =>
    handle({ frameUrl: event.senderFrame?.url ?? null, isMainFrame: event.senderFrame === event.sender.mainFrame }, command, params),
  );

  // Listener and remote link as the settings say; failures land in the state the UI and tray show.
  await runtime.launch();

  if (flags.noUi) {
    await startHeadlessControl(runtime);
    return;
  }

  lockDownSessions();
  protocol.handle(APP_SCHEME, serveRenderer);
  tray = createTray(runtime);
  app.on('window-all-closed', () => {
    // The window only really closes when it should not hide to the tray (closeToTray off, or no
    // tray on this desktop): then closing it means quitting.
    app.quit();
  });
  const openedAtLogin = app.getLoginItemSettings().wasOpenedAtLogin === true;
  if (showWindowAtLaunch({ flags, firstLaunch, openedAtLogin })) showWindow();
}

/**
 * `--no-ui`: like the CLI's `--no-ui`, the listener URL goes to stdout and a loopback control
 * server (dashboard + `exec-desk status`) is announced through the discovery file.
 */
async function startHeadlessControl(runtime: ExecutorRuntime): Promise<void> {
  const url = runtime.snapshot().listener.url;
  if (url) process.stdout.write(`${url}\n`);
  const home = execDeskHome();
  try {
    const control = await ControlServer.start({ target: runtime, rendererDir: RENDERER_DIR, log: runtime.log, onToken: (token) => runtime.log.redactor.addSecret(token) });
    writeDiscovery(home, {
      schemaVersion: 1,
      pid: process.pid,
      version: app.getVersion(),
      startedAtMs: Date.now(),
      controlUrl: control.controlUrl,
      dashboardUrl: control.dashboardUrl,
      token: control.token,
      listenUrl: url,
    });
    app.on('will-quit', () => {
      removeDiscovery(home, process.pid);
      void control.close();
    });
    // Printed, never logged: the fragment carries the token.
    process.stderr.write(`${DASHBOARD_LINE_PREFIX}${control.dashboardUrl}\n`);
  } catch (err) {
    runtime.log.warn('no control server: `exec-desk status` will not see this instance', { error: (err as Error).message });
  }
}

function onRuntimeEvent(runtime: ExecutorRuntime, event: RuntimeEvent): void {
  if (window !== null && !window.isDestroyed()) window.webContents.send(IPC_EVENT_CHANNEL, event);
  if (event.type === 'listener' || event.type === 'registration') updateTray(runtime);
  if (event.type === 'settings') {
    applyLoginItem(event.settings.startAtLogin);
    closeToTray = event.settings.closeToTray;
  }
}

function applyLoginItem(startAtLogin: boolean): void {
  try {
    applyStartAtLogin(startAtLogin, {
      platform: process.platform,
      execPath: process.execPath,
      // Unpackaged (`electron .`), Electron needs the app folder as its first argument.
      appArgs: app.isPackaged ? [] : [app.getAppPath()],
      env: process.env,
      setLoginItemSettings: (settings) => app.setLoginItemSettings(settings),
    });
  } catch (err) {
    process.stderr.write(`exec-desk: cannot change start-at-login: ${(err as Error).message}\n`);
  }
}

async function serveRenderer(request: Request): Promise<Response> {
  const asset = resolveRendererAsset(request.url, RENDERER_DIR);
  if (asset === null) return new Response('not found', { status: 404 });
  try {
    const body = await readFile(asset.path);
    return new Response(body, {
      headers: { 'content-type': asset.contentType, 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' },
    });
  } catch {
    return new Response('not found', { status: 404 });
  }
}

function lockDownSessions(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, permission, callback, details) => callback(allowPermission(permission, details.requestingUrl)));
  ses.setPermissionCheckHandler((_contents, permission, requestingOrigin) => allowPermission(permission, requestingOrigin));
  // Anything not served by our protocol handler still gets the policy as a header.
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!allowNavigation(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!allowNavigation(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

function showWindow(): void {
  if (flags.noUi || !app.isReady()) return;
  if (window !== null && !window.isDestroyed()) {
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
    return;
  }
  const win = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 520,
    minHeight: 400,
    show: false,
    title: 'exec-desk',
    icon: join(RESOURCES_DIR, 'icon.png'),
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(PRELOAD_PATH),
  });
  window = win;
  win.once('ready-to-show', () => win.show());
  win.on('close', (event) => {
    if (closeAction({ closeToTray, quitting, trayAvailable: tray !== null }) === 'hide') {
      event.preventDefault();
      win.hide();
    }
  });
  win.on('closed', () => {
    if (window === win) window = null;
  });
  void win.loadURL(RENDERER_ENTRY_URL);
}

function trayImage(name: string): Electron.NativeImage {
  // createFromPath picks up the @2x file next to it on high-DPI screens.
  return nativeImage.createFromPath(join(RESOURCES_DIR, `tray-${name}.png`));
}

function createTray(runtime: ExecutorRuntime): Tray | null {
  try {
    const created = new Tray(trayImage('off'));
    created.on('click', () => showWindow());
    tray = created;
    updateTray(runtime);
    return created;
  } catch (err) {
    runtime.log.warn('no system tray available; closing the window quits', { error: (err as Error).message });
    return null;
  }
}

function updateTray(runtime: ExecutorRuntime): void {
  if (tray === null) return;
  const snapshot = runtime.snapshot();
  const model = trayModel(snapshot.listener, snapshot.registration);
  const actions: Record<TrayItemId, () => void> = {
    open: () => showWindow(),
    'toggle-listener': () => {
      const on = snapshot.listener.status === 'listening' || snapshot.listener.status === 'starting';
      void (on ? runtime.stopListener() : runtime.startListener()).catch(() => undefined);
    },
    'toggle-remote': () => {
      const status = snapshot.registration.status;
      const on = status !== 'stopped' && status !== 'error' && status !== 'auth_needed';
      if (on) void runtime.disconnectRemote().catch(() => undefined);
      else {
        try {
          runtime.connectRemote();
        } catch {
          // shown in the registration state / log
        }
      }
    },
    quit: () => app.quit(),
  };
  const template: MenuItemConstructorOptions[] = model.menu.map((item) =>
    item.kind === 'separator' ? { type: 'separator' } : { label: item.label, enabled: item.enabled, click: actions[item.id] },
  );
  tray.setImage(trayImage(model.icon));
  tray.setToolTip(model.tooltip);
  // Linux (AppIndicator) only notices menu changes when the menu is set again.
  tray.setContextMenu(Menu.buildFromTemplate(template));
}
