// A stand-in for the parts of Electron's main-process API that src-main/app/main.ts uses, so the
// BUILT shell (out/main/index.js) can run under plain Node in a test. It records what the shell
// asked for and lets the test play the user (close the window, click tray items, quit).
// It imitates Electron's documented behaviour only as far as main.ts relies on it.
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';

export const record = {
  privileged: [],
  protocolHandlers: new Map(),
  ipcHandlers: new Map(),
  windows: [],
  trays: [],
  loginItems: [],
  quitRequests: 0,
  quit: false,
  exitCode: null,
  permissionRequest: null,
  permissionCheck: null,
  headersReceived: null,
};

// A child process run by a test reports what the shell created when it exits.
if (process.env.FAKE_ELECTRON_REPORT) {
  process.on('exit', () => {
    writeFileSync(
      process.env.FAKE_ELECTRON_REPORT,
      JSON.stringify({ windows: record.windows.length, trays: record.trays.length, quit: record.quit, ipc: [...record.ipcHandlers.keys()] }),
    );
  });
}

function preventable() {
  return {
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}

class App extends EventEmitter {
  isPackaged = false;
  whenReady() {
    return Promise.resolve();
  }
  isReady() {
    return true;
  }
  requestSingleInstanceLock() {
    return process.env.FAKE_ELECTRON_LOCK !== 'taken';
  }
  getPath(name) {
    if (name !== 'userData') throw new Error(`fake app.getPath(${name})`);
    return process.env.FAKE_ELECTRON_USER_DATA;
  }
  getVersion() {
    return '0.0.0-fake';
  }
  getAppPath() {
    return process.cwd();
  }
  getLoginItemSettings() {
    return { wasOpenedAtLogin: false };
  }
  setLoginItemSettings(settings) {
    record.loginItems.push(settings);
  }
  getAppMetrics() {
    return [];
  }
  quit() {
    record.quitRequests++;
    const event = preventable();
    this.emit('before-quit', event);
    if (event.defaultPrevented) return;
    const willQuit = preventable();
    this.emit('will-quit', willQuit);
    if (willQuit.defaultPrevented) return;
    for (const win of record.windows) win.destroyed = true;
    record.quit = true;
    this.emit('quit');
  }
  exit(code) {
    record.exitCode = code;
  }
}
export const app = new App();

class WebContents extends EventEmitter {
  sent = [];
  windowOpenHandler = null;
  constructor() {
    super();
    this.mainFrame = { url: '' };
  }
  send(channel, payload) {
    this.sent.push([channel, payload]);
  }
  setWindowOpenHandler(handler) {
    this.windowOpenHandler = handler;
  }
}

export class BrowserWindow extends EventEmitter {
  visible = false;
  destroyed = false;
  constructor(options) {
    super();
    this.options = options;
    this.webContents = new WebContents();
    record.windows.push(this);
    app.emit('web-contents-created', preventable(), this.webContents);
  }
  loadURL(url) {
    this.url = url;
    this.webContents.mainFrame.url = url;
    queueMicrotask(() => this.emit('ready-to-show'));
    return Promise.resolve();
  }
  show() {
    this.visible = true;
  }
  hide() {
    this.visible = false;
  }
  focus() {}
  restore() {}
  isMinimized() {
    return false;
  }
  isDestroyed() {
    return this.destroyed;
  }
  /** What the user's close button does. */
  close() {
    const event = preventable();
    this.emit('close', event);
    if (event.defaultPrevented) return;
    this.destroyed = true;
    this.visible = false;
    this.emit('closed');
    if (record.windows.every((w) => w.destroyed)) app.emit('window-all-closed');
  }
}

export class Tray extends EventEmitter {
  constructor(image) {
    super();
    this.image = image;
    this.tooltip = '';
    this.menu = null;
    record.trays.push(this);
  }
  setImage(image) {
    this.image = image;
  }
  setToolTip(text) {
    this.tooltip = text;
  }
  setContextMenu(menu) {
    this.menu = menu;
  }
}

export const Menu = { buildFromTemplate: (template) => ({ items: template }) };
export const nativeImage = { createFromPath: (path) => ({ path }) };
export const ipcMain = {
  handle(channel, handler) {
    record.ipcHandlers.set(channel, handler);
  },
};
export const protocol = {
  registerSchemesAsPrivileged(schemes) {
    record.privileged.push(...schemes);
  },
  handle(scheme, handler) {
    record.protocolHandlers.set(scheme, handler);
  },
};
export const safeStorage = {
  isEncryptionAvailable: () => true,
  getSelectedStorageBackend: () => 'gnome_libsecret',
  encryptString: (text) => Buffer.from(Buffer.from(text, 'utf8').map((b) => b ^ 0xa5)),
  decryptString: (buf) => Buffer.from(buf.map((b) => b ^ 0xa5)).toString('utf8'),
};
export const session = {
  defaultSession: {
    setPermissionRequestHandler(handler) {
      record.permissionRequest = handler;
    },
    setPermissionCheckHandler(handler) {
      record.permissionCheck = handler;
    },
    webRequest: {
      onHeadersReceived(handler) {
        record.headersReceived = handler;
      },
    },
  },
};
export default { app, BrowserWindow, Tray, Menu, nativeImage, ipcMain, protocol, safeStorage, session };
