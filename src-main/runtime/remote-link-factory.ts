/**
 * The remote link of a settings-driven runtime: the desktop app, and the dashboard's Connect in a
 * headless `--dashboard` / `--no-ui` run. Registry, environment id, name and auth method come
 * from the settings; the credential is resolved at every (re)start, so a fresh `codex login` or a
 * newly entered key is picked up by the next Connect:
 *   - 'api-key':        the key stored in the settings (desktop keychain), else CODEX_API_KEY,
 *                       else `$CODEX_HOME/auth.json` (the CLI's precedence from there on);
 *   - 'chatgpt':        the sign-in in `$CODEX_HOME/auth.json` (what `codex login` wrote), even when
 *                       CODEX_API_KEY is set;
 *   - 'agent-identity': opt-in, CODEX_ACCESS_TOKEN (as `--use-agent-identity-auth`);
 *   - 'aws-sigv4':      AWS credentials (environment, then profile files) signing the direct
 *                       transport's registration and websocket (as `--remote-transport direct --aws-sigv4`).
 *
 * Electron-free. A credential that cannot be resolved never throws into the caller: the link's
 * state becomes 'auth_needed' (nothing to sign in with) or 'error', with the reference binary's
 * text as lastError, and the person can fix it and connect again. For the same reason `fatal`
 * never settles: a UI-driven link is never "gone for good", unlike a `--remote` run's.
 */
import { PassThrough } from 'node:stream';
import type { RegistrationState, SettingsView, StreamView } from '../control/contract.ts';
import { ACCESS_TOKEN_REQUIRED_MESSAGE, AgentIdentityProvider } from '../remote/auth/agent-identity-provider.ts';
import { ApiKeyProvider } from '../remote/auth/api-key-provider.ts';
import { AuthError, type AuthContext, type AuthProvider, type AuthSelection } from '../remote/auth/auth-provider.ts';
import { createAuthProvider, NO_LOGIN_MESSAGE, resolveCodexHome } from '../remote/auth/create-auth-provider.ts';
import { CODEX_API_KEY_ENV } from '../remote/auth/credential-env.ts';
import { parseRegistryUrl } from '../remote/auth/registry-url.ts';
import { DEFAULT_AWS_SERVICE } from '../remote/auth/sigv4-provider.ts';
import { createDirectLink } from '../remote/direct-remote-link.ts';
import { NoiseRemoteLink, type NoiseRemoteLinkOptions } from '../remote/noise-remote-link.ts';
import type { RemoteLink, RemoteLinkEvent } from '../remote/remote-link-types.ts';
import type { RemoteLinkContext, RemoteLinkFactory } from './executor-runtime.ts';

type SettingsAuthMethod = SettingsView['remote']['authMethod'];

const NO_FLAGS: AuthSelection = {
  useAgentIdentityAuth: false,
  registrationBearerStdin: false,
  executorCredentialStdin: false,
  chatgptTokenStdin: false,
  chatgptAccountId: null,
  awsSigv4: null,
};

/** Texts that mean "there is nothing to sign in with" (→ 'auth_needed' rather than 'error'). */
const NO_CREDENTIAL_MESSAGES: ReadonlySet<string> = new Set([NO_LOGIN_MESSAGE, ACCESS_TOKEN_REQUIRED_MESSAGE]);

export interface SettingsLinkOptions {
  /** Where CODEX_API_KEY, CODEX_HOME, CODEX_ACCESS_TOKEN and proxy/CA variables come from. */
  env: NodeJS.ProcessEnv;
  /** Tests: the link built once a credential is resolved (default: DirectRemoteLink for SigV4, else NoiseRemoteLink). */
  createLink?: (options: NoiseRemoteLinkOptions) => RemoteLink;
}

export function settingsRemoteLinkFactory(options: SettingsLinkOptions): RemoteLinkFactory {
  return (context) => new SettingsRemoteLink(context, options);
}

/** The credential for the settings' auth method; throws AuthError with the binary's texts. */
export async function resolveSettingsAuth(
  remote: SettingsView['remote'],
  storedApiKey: string | null,
  context: Omit<AuthContext, 'stdin' | 'codexHome'>,
): Promise<AuthProvider> {
  // No settings mode reads stdin; an empty stream keeps the provider interface whole.
  const full: AuthContext = { ...context, stdin: new PassThrough(), codexHome: resolveCodexHome(context.env) };
  switch (remote.authMethod) {
    case 'api-key':
      return storedApiKey ? new ApiKeyProvider(storedApiKey) : createAuthProvider(NO_FLAGS, full);
    case 'chatgpt': {
      const { [CODEX_API_KEY_ENV]: _ignored, ...env } = context.env;
      return createAuthProvider(NO_FLAGS, { ...full, env });
    }
    case 'agent-identity':
      return AgentIdentityProvider.create({ env: context.env });
    case 'aws-sigv4': {
      const awsSigv4 = { profile: remote.awsProfile || null, region: remote.awsRegion || null, service: remote.awsService || DEFAULT_AWS_SERVICE };
      return createAuthProvider({ ...NO_FLAGS, awsSigv4 }, full);
    }
  }
}

/** The link for the settings: SigV4 registers over the direct transport (§13), the rest over Noise. */
function defaultLink(method: SettingsAuthMethod): (input: NoiseRemoteLinkOptions) => RemoteLink {
  return method === 'aws-sigv4' ? createDirectLink : (input) => new NoiseRemoteLink(input);
}

/**
 * Resolves the credential on start, then runs the link for it (Noise, or direct for SigV4) and
 * mirrors that link's state and streams. Owns (and closes) the provider; every start after a stop
 * or failure resolves a fresh credential and builds a fresh link.
 */
class SettingsRemoteLink implements RemoteLink {
  /** Never settles (see the module comment). */
  readonly fatal = new Promise<{ code: number; message: string }>(() => undefined);
  private current: RegistrationState;
  private readonly listeners = new Set<(event: RemoteLinkEvent) => void>();
  private readonly settings: SettingsView['remote'];
  private inner: { link: RemoteLink; auth: AuthProvider; unsubscribe: () => void } | null = null;
  /** Bumped by every start and stop, so a credential resolved for an older start is dropped. */
  private generation = 0;
  private resolving = false;

  constructor(
    private readonly context: RemoteLinkContext,
    private readonly options: SettingsLinkOptions,
  ) {
    this.settings = { ...context.settings.remote };
    this.current = {
      status: 'stopped',
      configured: this.settings.registryUrl !== '' && this.settings.environmentId !== '',
      registryUrl: this.settings.registryUrl || null,
      environmentId: this.settings.environmentId || null,
      name: this.settings.name || null,
      transport: this.settings.authMethod === 'aws-sigv4' ? 'direct' : 'noise',
      authMethod: this.settings.authMethod,
      registrationId: null,
      nextAttemptAtMs: null,
      attempts: 0,
      onlineSinceMs: null,
      lastError: null,
      lastErrorAtMs: null,
    };
  }

  get state(): RegistrationState {
    return this.current;
  }

  streams(): StreamView[] {
    return this.inner?.link.streams() ?? [];
  }

  subscribe(listener: (event: RemoteLinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  start(): void {
    if (this.resolving) return;
    if (this.inner && isRunning(this.inner.link.state)) return;
    this.dropInner();
    const generation = ++this.generation;
    this.resolving = true;
    this.setState({ status: 'registering', attempts: 0, registrationId: null, nextAttemptAtMs: null, onlineSinceMs: null });
    void this.connect(generation).finally(() => {
      if (generation === this.generation) this.resolving = false;
    });
  }

  async stop(): Promise<void> {
    this.generation++;
    this.resolving = false;
    const inner = this.inner;
    if (inner) await inner.link.stop();
    this.dropInner();
    if (this.current.status !== 'stopped') this.setState({ status: 'stopped', nextAttemptAtMs: null, onlineSinceMs: null });
  }

  reconnectNow(): void {
    this.inner?.link.reconnectNow();
  }

  resetStream(streamId: string): boolean {
    return this.inner?.link.resetStream(streamId) ?? false;
  }

  private async connect(generation: number): Promise<void> {
    const log = this.context.log;
    let auth: AuthProvider;
    try {
      auth = await resolveSettingsAuth(this.settings, this.settings.authMethod === 'api-key' ? this.context.apiKey() : null, {
        env: this.options.env,
        registryUrl: parseRegistryUrl(this.settings.registryUrl),
        environmentId: this.settings.environmentId.trim(),
      });
    } catch (err) {
      if (generation !== this.generation) return;
      const authNeeded = err instanceof AuthError && (err.kind === 'auth_needed' || NO_CREDENTIAL_MESSAGES.has(err.message));
      return this.fail(err, authNeeded ? 'auth_needed' : 'error');
    }
    if (generation !== this.generation) {
      auth.close();
      return;
    }
    let link: RemoteLink;
    try {
      link = (this.options.createLink ?? defaultLink(this.settings.authMethod))({
        registryUrl: this.settings.registryUrl,
        environmentId: this.settings.environmentId,
        name: this.settings.name,
        auth,
        server: { serve: this.context.serve },
        log,
        env: this.options.env,
      });
    } catch (err) {
      auth.close();
      return this.fail(err, 'error');
    }
    const unsubscribe = link.subscribe((event) => {
      if (this.inner?.link !== link) return;
      if (event.type === 'state') this.current = event.state;
      this.emit(event);
    });
    this.inner = { link, auth, unsubscribe };
    link.start();
    this.current = link.state;
    this.emit({ type: 'state', state: this.current });
  }

  private fail(err: unknown, status: 'auth_needed' | 'error'): void {
    const message = err instanceof Error ? err.message : String(err);
    // AuthError texts are the binary's and never carry the credential; the runtime logs the failure.
    this.setState({ status, lastError: message, lastErrorAtMs: Date.now() });
  }

  /** Forgets a stopped or failed inner link: its streams leave the view, its credential is closed. */
  private dropInner(): void {
    const inner = this.inner;
    if (!inner) return;
    this.inner = null;
    inner.unsubscribe();
    void inner.link.stop();
    inner.auth.close();
    for (const stream of inner.link.streams()) this.emit({ type: 'streamRemoved', streamId: stream.streamId });
  }

  private setState(patch: Partial<RegistrationState>): void {
    this.current = { ...this.current, ...patch };
    this.emit({ type: 'state', state: this.current });
  }

  /** As the links do: a listener that throws is logged, and the others still hear the event. */
  private emit(event: RemoteLinkEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.context.log.error('remote link listener failed', { error: String(error) });
      }
    }
  }
}

function isRunning(state: RegistrationState): boolean {
  return state.status !== 'stopped' && state.status !== 'error' && state.status !== 'auth_needed';
}
