import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { allowNavigation, allowPermission, closeAction, CONTENT_SECURITY_POLICY, cspOfHtml, PAGE_CSP, isAppUrl, RENDERER_ENTRY_URL, secureWebPreferences } from './window-policy.ts';

test('only the app origin counts as the app', () => {
  assert.ok(isAppUrl(RENDERER_ENTRY_URL));
  assert.ok(isAppUrl('app://exec-desk/assets/index-abc.js'));
  for (const url of [
    'https://exec-desk/index.html',
    'app://evil/index.html',
    'app://exec-desk.evil.com/index.html',
    'app://user:pw@exec-desk/index.html',
    'file:///etc/passwd',
    'http://127.0.0.1:5173/',
    'javascript:alert(1)',
    'not a url',
    '',
  ]) {
    assert.equal(isAppUrl(url), false, url);
    assert.equal(allowNavigation(url), false, url);
  }
});

test('the window is sandboxed, isolated and without Node', () => {
  const prefs = secureWebPreferences('/x/preload.cjs');
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.webviewTag, false);
  assert.equal(prefs.preload, '/x/preload.cjs');
});

test('close hides to the tray only when asked, a tray exists, and not quitting', () => {
  assert.equal(closeAction({ closeToTray: true, quitting: false, trayAvailable: true }), 'hide');
  assert.equal(closeAction({ closeToTray: true, quitting: true, trayAvailable: true }), 'close');
  assert.equal(closeAction({ closeToTray: false, quitting: false, trayAvailable: true }), 'close');
  assert.equal(closeAction({ closeToTray: true, quitting: false, trayAvailable: false }), 'close');
});

test('the header CSP is the meta CSP of the renderer page plus frame-ancestors', () => {
  const html = fileURLToPath(new URL('../../src-renderer/index.html', import.meta.url));
  assert.equal(cspOfHtml(html), PAGE_CSP);
  assert.equal(CONTENT_SECURITY_POLICY, `${PAGE_CSP}; frame-ancestors 'none'`);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-(inline|eval)/);
});

test('refuses every permission but clipboard writes from the app', () => {
  assert.equal(allowPermission('clipboard-sanitized-write', 'app://exec-desk/index.html'), true);
  assert.equal(allowPermission('clipboard-sanitized-write', 'https://evil.example/'), false);
  for (const p of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal']) {
    assert.equal(allowPermission(p, 'app://exec-desk/index.html'), false, p);
  }
});
