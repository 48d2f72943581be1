/**
 * The check `codex exec-server --remote` 0.169.0 makes of an explicitly set `CODEX_HOME`: it must
 * name an existing directory, else start-up fails with the Codex-home resolver's reason
 * (`CODEX_HOME points to "<path>", but that path does not exist` / `… is not a directory`,
 * exit 1). Unset or empty means `~/.codex`, which is not checked. When it runs depends on the
 * credential mode (see create-auth-provider.ts).
 */
import { CodexHomeError, defaultCodexHost, resolveCodexHome } from '../../core/environment/codex-home.ts';
import { AuthError } from './auth-provider.ts';

/** Throws AuthError with the reference's text when `CODEX_HOME` is set and is not a directory. */
export async function checkCodexHomeExists(env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await resolveCodexHome({ ...defaultCodexHost(), env });
  } catch (error) {
    if (error instanceof CodexHomeError) throw new AuthError(error.reason);
    throw error;
  }
}
