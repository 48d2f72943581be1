/**
 * Picks the registry credential provider the way `codex exec-server --remote` 0.169.0 does
 * (remote-protocol.md §3, precedence verified on the binary):
 *   1. `--aws-sigv4` (direct transport)          → SigV4
 *   2. `--use-agent-identity-auth`                → Agent Identity (CODEX_ACCESS_TOKEN)
 *   3. `--registration-bearer-stdin` / `--executor-credential-stdin` / `--chatgpt-token-stdin`
 *   4. `CODEX_API_KEY` (trimmed, non-empty)       → API key (wins over everything in auth.json)
 *   5. `$CODEX_HOME/auth.json`                    → its API key or its ChatGPT tokens
 * `OPENAI_API_KEY` in the environment and a bare `CODEX_ACCESS_TOKEN` are not used.
 * Flag conflicts (clap errors) are the CLI's job; this only picks. Note the binary also refuses
 * `--chatgpt-token-stdin` with `--executor-credential-stdin` (not listed in the spec).
 *
 * An explicit `CODEX_HOME` must exist (codex-home.ts). 0.169.0 checks it first in every mode but
 * two: `--registration-bearer-stdin` and `--chatgpt-token-stdin` read and check their line first
 * (an EOF or bad line wins), `--chatgpt-token-stdin` before loading the account policy.
 * `--executor-credential-stdin` checks it before reading anything.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AuthError, type AuthContext, type AuthProvider, type AuthSelection } from './auth-provider.ts';
import { AgentIdentityProvider } from './agent-identity-provider.ts';
import { ApiKeyProvider } from './api-key-provider.ts';
import { authJsonPath, classifyAuthJson, readAuthJsonText } from './auth-json.ts';
import { ChatgptLoginProvider } from './chatgpt-login-provider.ts';
import { ChatgptTokenStdinProvider } from './chatgpt-token-stdin-provider.ts';
import { checkCodexHomeExists } from './codex-home.ts';
import { CODEX_API_KEY_ENV } from './credential-env.ts';
import { ExecutorCredentialProvider } from './executor-credential-provider.ts';
import { RegistrationBearerProvider } from './registration-bearer-provider.ts';
import { SigV4Provider } from './sigv4-provider.ts';

export const NO_LOGIN_MESSAGE =
  'remote exec-server registration requires ChatGPT authentication or API key authentication; run `codex login` or set CODEX_API_KEY';
/** The binary's text when auth.json holds a ChatGPT login it cannot turn into a bearer. */
export const NO_USABLE_BEARER_MESSAGE =
  'environment registry authentication error: failed to resolve environment registry authentication: request auth build error: executor credential has no usable bearer';
export const EXTERNAL_TOKENS_MESSAGE =
  'environment registry authentication error: failed to resolve environment registry authentication: request auth build error: executor authentication changed';

/** `$CODEX_HOME` when set and non-empty (taken as is, like the binary), else `~/.codex`. */
export function resolveCodexHome(env: NodeJS.ProcessEnv): string {
  return env.CODEX_HOME || join(homedir(), '.codex');
}

/**
 * Resolves the provider; throws AuthError('config') for start-up errors with the reference's
 * texts. Stdin modes read their first credential here (so a bad first line fails start-up).
 * The caller must call `provider.checkRegistryUrl(base)` before any request (the CLI does so
 * after reporting an unparsable `--remote`, which the reference reports first; only
 * `--chatgpt-token-stdin` checks `context.registryUrl` itself, before reading stdin).
 */
export async function createAuthProvider(selection: AuthSelection, context: AuthContext): Promise<AuthProvider> {
  const readsLineFirst = selection.registrationBearerStdin || selection.chatgptTokenStdin;
  if (!readsLineFirst) await checkCodexHomeExists(context.env);
  if (selection.awsSigv4) {
    const { profile, region, service } = selection.awsSigv4;
    return new SigV4Provider({ env: context.env, profile, region, service });
  }
  if (selection.useAgentIdentityAuth) return AgentIdentityProvider.create({ env: context.env });
  if (selection.registrationBearerStdin) {
    const provider = await RegistrationBearerProvider.fromStdin(context.stdin);
    await checkCodexHomeExists(context.env).catch((error: unknown) => {
      provider.close();
      throw error;
    });
    return provider;
  }
  if (selection.executorCredentialStdin) {
    return ExecutorCredentialProvider.fromStdin({ stdin: context.stdin, environmentId: context.environmentId });
  }
  if (selection.chatgptTokenStdin) {
    return ChatgptTokenStdinProvider.create({
      stdin: context.stdin,
      registryUrl: context.registryUrl,
      accountIdFlag: selection.chatgptAccountId,
      env: context.env,
      codexHome: context.codexHome,
      beforePolicy: () => checkCodexHomeExists(context.env),
    });
  }

  const envKey = context.env[CODEX_API_KEY_ENV]?.trim();
  if (envKey) return new ApiKeyProvider(envKey);

  const authPath = authJsonPath(context.codexHome);
  const login = classifyAuthJson(await readAuthJsonText(authPath));
  switch (login.kind) {
    case 'none':
      throw new AuthError(NO_LOGIN_MESSAGE);
    case 'api-key':
      return new ApiKeyProvider(login.key);
    case 'unusable-chatgpt':
      throw new AuthError(login.reason === 'external-tokens' ? EXTERNAL_TOKENS_MESSAGE : NO_USABLE_BEARER_MESSAGE, 'auth_needed');
    case 'chatgpt':
      return new ChatgptLoginProvider({ authPath, env: context.env, tokens: login.tokens });
  }
}
