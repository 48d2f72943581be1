/**
 * How the desktop app starts, from its argv and settings: headless (`--no-ui`: the runtime only,
 * no window or tray), hidden in the tray (launched at login, or `--hidden`), or with the window
 * open (the first launch, when nothing is configured yet, always opens it).
 */
export interface LaunchFlags {
  noUi: boolean;
  hidden: boolean;
}

/** Electron adds its own switches to argv; only exec-desk's two flags are read here. */
export function parseLaunchFlags(argv: readonly string[]): LaunchFlags {
  return { noUi: argv.includes('--no-ui'), hidden: argv.includes('--hidden') };
}

export function showWindowAtLaunch(options: { flags: LaunchFlags; firstLaunch: boolean; openedAtLogin: boolean }): boolean {
  if (options.flags.noUi) return false;
  if (options.firstLaunch) return true;
  return !options.flags.hidden && !options.openedAtLogin;
}

/** app.setLoginItemSettings arguments: start hidden in the tray when launched at login. */
export function loginItemSettings(startAtLogin: boolean): { openAtLogin: boolean; args: string[] } {
  return { openAtLogin: startAtLogin, args: startAtLogin ? ['--hidden'] : [] };
}
