/**
 * The environment variables that hold the executor's own registry credential. Children never
 * inherit them, whatever the harness asks for: 0.169.0 hands CODEX_API_KEY to a process started
 * with `envPolicy: { inherit: "all", ignoreDefaultExcludes: true }` (probed), but a credential
 * exec-desk signs in with goes to the registry only. A harness can still pass a value it owns
 * through `env` or `envPolicy.set`. Dependency-free: the runtime imports it.
 */

/** The API key variable (`codex exec-server --remote` reads it before auth.json). */
export const CODEX_API_KEY_ENV = 'CODEX_API_KEY';
/** Agent Identity's access token (`--use-agent-identity-auth`). */
export const ACCESS_TOKEN_ENV = 'CODEX_ACCESS_TOKEN';

/** Withheld in every run: API key and Agent Identity token. */
export const EXECUTOR_CREDENTIAL_ENV: readonly string[] = [CODEX_API_KEY_ENV, ACCESS_TOKEN_ENV];

/** Also withheld while registration is SigV4-signed (`--aws-sigv4`): the signing key. */
export const AWS_CREDENTIAL_ENV: readonly string[] = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

/** `env` without the `withheld` names (exact, case-sensitive names as the OS keeps them). */
export function withoutVariables(
  env: Readonly<Record<string, string | undefined>>,
  withheld: readonly string[],
): Record<string, string | undefined> {
  const out = { ...env };
  for (const name of withheld) delete out[name];
  return out;
}
