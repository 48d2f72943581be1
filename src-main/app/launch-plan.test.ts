import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loginItemSettings, parseLaunchFlags, showWindowAtLaunch } from './launch-plan.ts';

test('reads --no-ui and --hidden among Electron switches', () => {
  assert.deepEqual(parseLaunchFlags(['/usr/bin/electron', '.', '--no-sandbox', '--no-ui']), { noUi: true, hidden: false });
  assert.deepEqual(parseLaunchFlags(['exec-desk', '--hidden']), { noUi: false, hidden: true });
});

test('the first launch opens the window unless headless', () => {
  const flags = parseLaunchFlags([]);
  assert.equal(showWindowAtLaunch({ flags, firstLaunch: true, openedAtLogin: true }), true);
  assert.equal(showWindowAtLaunch({ flags: { ...flags, hidden: true }, firstLaunch: true, openedAtLogin: false }), true);
  assert.equal(showWindowAtLaunch({ flags: { noUi: true, hidden: false }, firstLaunch: true, openedAtLogin: false }), false);
  assert.equal(showWindowAtLaunch({ flags, firstLaunch: false, openedAtLogin: true }), false);
  assert.equal(showWindowAtLaunch({ flags: { ...flags, hidden: true }, firstLaunch: false, openedAtLogin: false }), false);
  assert.equal(showWindowAtLaunch({ flags, firstLaunch: false, openedAtLogin: false }), true);
});

test('start at login is opt-in and starts hidden', () => {
  assert.deepEqual(loginItemSettings(false), { openAtLogin: false, args: [] });
  assert.deepEqual(loginItemSettings(true), { openAtLogin: true, args: ['--hidden'] });
});
