/**
 * "Start at login" on every desktop: macOS and Windows through Electron's login items, Linux
 * through an XDG autostart entry (~/.config/autostart/exec-desk.desktop), which Electron does not
 * manage. Electron-free: main passes app.setLoginItemSettings in.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loginItemSettings } from './launch-plan.ts';

export const AUTOSTART_FILE = 'exec-desk.desktop';

export interface LoginItemTarget {
  platform: NodeJS.Platform;
  /** The program to start: the AppImage when run from one, else Electron's executable. */
  execPath: string;
  /** Arguments before ours (e.g. the app folder when running an unpackaged app). */
  appArgs: string[];
  env: NodeJS.ProcessEnv;
  setLoginItemSettings(settings: { openAtLogin: boolean; args: string[] }): void;
}

/** Quotes an Exec= argument as the Desktop Entry spec asks. */
function desktopArg(arg: string): string {
  if (/^[A-Za-z0-9_./:=@+-]+$/.test(arg)) return arg;
  return `"${arg.replace(/(["`$\\])/g, '\\$1')}"`;
}

export function autostartEntry(execPath: string, args: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=exec-desk',
    'Comment=Remote execution environment for a coding agent',
    `Exec=${[execPath, ...args].map(desktopArg).join(' ').replaceAll('%', '%%')}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export function autostartDir(env: NodeJS.ProcessEnv): string {
  const configHome = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(configHome, 'autostart');
}

/** Applies the setting; on Linux writes or removes the autostart entry. Returns the entry path on Linux. */
export function applyStartAtLogin(enabled: boolean, target: LoginItemTarget): string | null {
  const settings = loginItemSettings(enabled);
  if (target.platform !== 'linux') {
    target.setLoginItemSettings(settings);
    return null;
  }
  const dir = autostartDir(target.env);
  const path = join(dir, AUTOSTART_FILE);
  if (enabled) {
    mkdirSync(dir, { recursive: true });
    const program = target.env.APPIMAGE && target.env.APPIMAGE !== '' ? target.env.APPIMAGE : target.execPath;
    const args = target.env.APPIMAGE ? settings.args : [...target.appArgs, ...settings.args];
    writeFileSync(path, autostartEntry(program, args), { mode: 0o644 });
  } else {
    rmSync(path, { force: true });
  }
  return path;
}
