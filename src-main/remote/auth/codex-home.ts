/**
 * The check `codex exec-server --remote` 0.169.0 makes of an explicitly set `CODEX_HOME`: it must
 * name an existing directory, else start-up fails (`CODEX_HOME points to "<path>", but that path
 * does not exist` / `… is not a directory`, exit 1). Unset or empty means `~/.codex`, which is not
 * checked. When it runs depends on the credential mode (see create-auth-provider.ts).
 */
import { stat } from 'node:fs/promises';
import { AuthError } from './auth-provider.ts';

export const CODEX_HOME_ENV = 'CODEX_HOME';

/** Rust's `{:?}` of a string: quoted, with `\`, `"` and control characters escaped. */
export function rustDebugString(text: string): string {
  const escaped = text.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\u{${c.charCodeAt(0).toString(16)}}`;
    }
  });
  return `"${escaped}"`;
}

/** Throws AuthError when `CODEX_HOME` is set (non-empty, taken as is) and is not a directory. */
export async function checkCodexHomeExists(env: NodeJS.ProcessEnv): Promise<void> {
  const configured = env[CODEX_HOME_ENV];
  if (!configured) return;
  const shown = rustDebugString(configured);
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(configured)).isDirectory();
  } catch {
    throw new AuthError(`${CODEX_HOME_ENV} points to ${shown}, but that path does not exist`);
  }
  if (!isDirectory) throw new AuthError(`${CODEX_HOME_ENV} points to ${shown}, but that path is not a directory`);
}
