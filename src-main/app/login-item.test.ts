import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyStartAtLogin, autostartEntry } from './login-item.ts';

test('macOS and Windows use Electron login items, hidden at login', () => {
  const calls: unknown[] = [];
  const target = { platform: 'darwin' as const, execPath: '/x', appArgs: [], env: {}, setLoginItemSettings: (s: unknown) => calls.push(s) };
  assert.equal(applyStartAtLogin(true, target), null);
  applyStartAtLogin(false, { ...target, platform: 'win32' });
  assert.deepEqual(calls, [
    { openAtLogin: true, args: ['--hidden'] },
    { openAtLogin: false, args: [] },
  ]);
});

test('Linux writes and removes an XDG autostart entry', () => {
  const config = mkdtempSync(join(tmpdir(), 'exec-desk-autostart-'));
  try {
    const target = {
      platform: 'linux' as const,
      execPath: '/opt/exec desk/electron',
      appArgs: ['/opt/app'],
      env: { XDG_CONFIG_HOME: config },
      setLoginItemSettings: () => assert.fail('not used on Linux'),
    };
    const path = applyStartAtLogin(true, target)!;
    assert.equal(path, join(config, 'autostart', 'exec-desk.desktop'));
    const entry = readFileSync(path, 'utf8');
    assert.match(entry, /^\[Desktop Entry\]\nType=Application\n/);
    assert.match(entry, /\nExec="\/opt\/exec desk\/electron" \/opt\/app --hidden\n/);
    const appImage = applyStartAtLogin(true, { ...target, env: { ...target.env, APPIMAGE: '/home/u/exec-desk.AppImage' } })!;
    assert.match(readFileSync(appImage, 'utf8'), /\nExec=\/home\/u\/exec-desk\.AppImage --hidden\n/);
    applyStartAtLogin(false, target);
    assert.equal(existsSync(path), false);
    applyStartAtLogin(false, target); // already gone: no error
  } finally {
    rmSync(config, { recursive: true, force: true });
  }
});

test('Exec= quoting escapes what the Desktop Entry spec reserves', () => {
  assert.match(autostartEntry('/a/b', ['--x=1']), /\nExec=\/a\/b --x=1\n/);
  assert.match(autostartEntry('/a/$b"c', ['50%']), /\nExec="\/a\/\\\$b\\"c" "50%%"\n/);
});
