/**
 * The window's security policy, electron-free: the renderer is served from the app's own
 * `app://exec-desk/` origin (never file:// or the network), the window's webPreferences lock it
 * down, and only that origin may navigate the window or call IPC.
 */
import { readFileSync } from 'node:fs';

export const APP_SCHEME = 'app';
export const APP_HOST = 'exec-desk';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const RENDERER_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** The policy of the meta tag in src-renderer/index.html (a test keeps them equal). */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'";

/** The header main sends with every app:// response: the page's policy plus what only a header can say. */
export const CONTENT_SECURITY_POLICY = `${PAGE_CSP}; frame-ancestors 'none'`;

/** webPreferences of every exec-desk window (spread into BrowserWindow's options). */
export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  } as const;
}

/** True only for URLs of the app's own renderer (same scheme and host; any path). */
export function isAppUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
}

/** will-navigate / will-redirect: anything but the app itself is refused (no remote content). */
export function allowNavigation(url: string): boolean {
  return isAppUrl(url);
}

/**
 * Permission requests (camera, notifications, geolocation, …) are all refused, except writing
 * text to the clipboard from the app itself (the listener view's Copy button).
 */
export function allowPermission(permission: string, requestingUrl: string): boolean {
  return permission === 'clipboard-sanitized-write' && isAppUrl(requestingUrl);
}

/** What closing the window does: hide to the tray (setting on, not quitting) or really close. */
export function closeAction(options: { closeToTray: boolean; quitting: boolean; trayAvailable: boolean }): 'hide' | 'close' {
  return options.closeToTray && options.trayAvailable && !options.quitting ? 'hide' : 'close';
}

/** Reads the CSP from the renderer's index.html meta tag (for the test that keeps both equal). */
export function cspOfHtml(htmlPath: string): string | null {
  const html = readFileSync(htmlPath, 'utf8');
  const m = /http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html);
  return m ? m[1]!.replace(/\s+/g, ' ').trim() : null;
}
