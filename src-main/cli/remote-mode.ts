/**
 * Headless remote mode: `exec-desk --remote <URL> --environment-id <ID> …` and
 * `exec-desk forward … --connect <ws URL>` (remote-protocol.md §1, §10, §12, §14).
 *
 * Start-up in the reference's order: the credential (AuthProvider) and its registry-URL rule,
 * then the `--connect` URL, then `--exit-on-stdin-close`, then registration and the rendezvous
 * socket (the RemoteLink). Exits like `codex exec-server --remote` 0.169.0:
 *   - a start-up or fatal link error → `Error: <message>` on stderr, exit 1;
 *   - SIGTERM / SIGINT → the link and every session are shut down, exit 0;
 *   - `--exit-on-stdin-close` and stdin reaches EOF → the same, exit 0;
 *   - `--executor-credential-stdin` pipe closes → whatever the provider reports (§3.5), through the link.
 * Nothing goes to stdout. Link and stream state changes are logged to stderr; credentials never are
 * (the registry URL is logged without userinfo).
 *
 * The link runs inside an ExecutorRuntime, so with `--dashboard` / `--no-ui` the control server,
 * the discovery file and `exec-desk status --json` show its registration, streams, sessions and
 * processes. Without those flags nothing else appears (no port, no file): a drop-in for the reference.
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../core/log.ts';
import type { RuntimeEvent } from '../control/contract.ts';
import { AuthError, type AuthContext, type AuthProvider, type AuthSelection } from '../remote/auth/auth-provider.ts';
import { createAuthProvider, resolveCodexHome } from '../remote/auth/create-auth-provider.ts';
import { parseRegistryUrl } from '../remote/auth/registry-url.ts';
import { createDirectLink } from '../remote/direct-remote-link.ts';
import { NoiseRemoteLink, type NoiseRemoteLinkOptions } from '../remote/noise-remote-link.ts';
import type { RemoteLink } from '../remote/remote-link-types.ts';
import { ExecutorRuntime, type RemoteLinkFactory } from '../runtime/executor-runtime.ts';
import { SettingsStore } from '../runtime/settings-store.ts';
import { controlServerWanted, openControlSurface, type ControlSurface } from './control-surface.ts';
import { ForwardUrlError, forwardingServer, parseForwardUrl } from './forward-bridge.ts';
import { packageVersion, type RemoteOptions, type ServerOptions } from './options.ts';

/** Stand-in registry URL while resolving the credential of an unparsable `--remote` (see below); not https, so `--chatgpt-token-stdin` refuses it first, like the reference. */
const PLACEHOLDER_REGISTRY = 'http://registry.invalid/';
/** How long `--exit-on-stdin-close` waits for the first stdin read before registering. */
const STDIN_EOF_GRACE_MS = 100;

export interface RemoteModeIo {
  env: NodeJS.ProcessEnv;
  stdin: Readable;
  stderr: { write(text: string): unknown };
  log: Logger;
  /** Where SIGTERM/SIGINT come from (tests pass an EventEmitter). */
  signals: { on(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown; off(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown };
  createAuthProvider?: (selection: AuthSelection, context: AuthContext) => Promise<AuthProvider>;
  createLink?: (options: NoiseRemoteLinkOptions) => RemoteLink;
}

export function processIo(log: Logger, env: NodeJS.ProcessEnv = process.env): RemoteModeIo {
  return { env, stdin: process.stdin, stderr: process.stderr, log, signals: process };
}

/** Runs remote mode until it should exit; resolves with the exit code. */
export async function runRemoteMode(options: ServerOptions, io: RemoteModeIo): Promise<number> {
  const remote = options.remote!;
  const log = io.log;
  const fail = (message: string) => {
    io.stderr.write(`Error: ${message}\n`);
    return 1;
  };

  // 1. The credential. The reference resolves it before it looks at the URL, so an unparsable
  //    `--remote` without any credential reports the missing credential; the provider gets a
  //    stand-in URL in that case and the URL error follows.
  let registryUrl: URL | null = null;
  let urlError: Error | null = null;
  try {
    registryUrl = parseRegistryUrl(remote.registryUrl);
  } catch (error) {
    urlError = error as Error;
  }
  let auth: AuthProvider;
  try {
    auth = await (io.createAuthProvider ?? createAuthProvider)(remote.auth, {
      env: io.env,
      stdin: io.stdin,
      registryUrl: registryUrl ?? new URL(PLACEHOLDER_REGISTRY),
      environmentId: remote.environmentId.trim(),
      codexHome: resolveCodexHome(io.env),
    });
  } catch (error) {
    return fail((error as Error).message);
  }

  let forwardTo: URL | null = null;
  try {
    if (urlError) throw urlError;
    auth.checkRegistryUrl(registryUrl!);
    // 2. The forward destination (only checked once the credential is known, like the reference).
    if (remote.forwardTo !== null) forwardTo = parseForwardUrl(remote.forwardTo);
  } catch (error) {
    auth.close();
    if (error instanceof AuthError || error instanceof ForwardUrlError) return fail(error.message);
    throw error;
  }
  // 3. From here on the process runs until a signal, stdin EOF or a fatal link error, hosted by an
  //    ExecutorRuntime: the one state the dashboard and `exec-desk status` read.
  let finish!: (outcome: { code: number; message: string }) => void;
  const finished = new Promise<{ code: number; message: string }>((resolve) => (finish = resolve));
  const runtime = new ExecutorRuntime({
    host: 'headless',
    version: packageVersion(),
    settings: new SettingsStore({ dir: null }),
    concurrency: options.concurrentRequests,
    logSink: log,
    createRemoteLink: remoteLinkFactory(remote, auth, forwardTo, io),
    onRemoteFatal: finish,
  });
  const onSignal = (reason: string) => () => {
    runtime.log.info('shutting down', { reason });
    finish({ code: 0, message: '' });
  };
  const onTerm = onSignal('SIGTERM');
  const onInt = onSignal('SIGINT');
  io.signals.on('SIGTERM', onTerm);
  io.signals.on('SIGINT', onInt);

  // With `--dashboard` / `--no-ui` only: a bare `--remote` run opens no port and writes no file.
  let control: ControlSurface | null = null;
  let unsubscribe = () => {};
  const end = async () => {
    io.signals.off('SIGTERM', onTerm);
    io.signals.off('SIGINT', onInt);
    unsubscribe();
    await Promise.all([control?.close(), runtime.shutdown()]);
    auth.close();
  };
  if (controlServerWanted(options)) {
    control = await openControlSurface(runtime, options, { env: io.env, stderr: io.stderr });
    if (!control) {
      await end();
      return 1;
    }
    control.announce(null);
  }

  if (options.exitOnStdinClose) {
    let atEof = false;
    const firstRead = new Promise<void>((resolve) => {
      watchStdinEof(io.stdin, remote.auth, () => {
        atEof = true;
        resolve();
        finish({ code: 0, message: '' });
      });
      // With a stdin credential mode the provider owns the data (and the first line is already read).
      if (!providerReadsStdin(remote.auth)) io.stdin.once('data', () => resolve());
      setTimeout(resolve, STDIN_EOF_GRACE_MS).unref();
    });
    // A stdin that is already closed ends the process before any registration, as in the
    // reference; give the first read a moment so a fast registry error cannot win that race.
    await firstRead;
    if (atEof) {
      await end();
      return 0;
    }
  }

  unsubscribe = runtime.subscribe(stateLogger(runtime.log, remote.transport === 'direct' ? 'direct connection' : 'relay stream'));
  runtime.log.info('remote mode', {
    registry: redactUrl(remote.registryUrl),
    environmentId: remote.environmentId.trim(),
    auth: auth.method,
    ...(forwardTo ? { forwardTo: redactUrl(forwardTo.href) } : {}),
  });
  try {
    runtime.connectRemote();
  } catch (error) {
    finish({ code: 1, message: `Error: ${(error as Error).message}` });
  }

  const outcome = await finished;
  await end();
  io.stdin.pause(); // a resumed stdin pipe would keep the process alive
  if (outcome.message) io.stderr.write(`${outcome.message}\n`);
  return outcome.code;
}

/**
 * The one place a `--remote` run chooses its link: a Noise link (§4–§12) whose relay streams are
 * served by the runtime's ExecServer, or with `forward --connect` (§14) bridged each to its own
 * connection to that exec-server (they still show as the runtime's streams, with no session here).
 */
function remoteLinkFactory(remote: RemoteOptions, auth: AuthProvider, forwardTo: URL | null, io: RemoteModeIo): RemoteLinkFactory {
  // §13: `--remote-transport direct` (the CLI guarantees `--aws-sigv4` and no `forward`).
  const defaultLink = remote.transport === 'direct' ? createDirectLink : (o: NoiseRemoteLinkOptions) => new NoiseRemoteLink(o);
  const createLink = io.createLink ?? defaultLink;
  return (context) =>
    createLink({
      registryUrl: remote.registryUrl,
      environmentId: remote.environmentId,
      name: remote.name,
      auth,
      server: forwardTo ? forwardingServer(forwardTo, context.log) : { serve: context.serve },
      log: context.log,
      env: io.env,
    });
}

/**
 * `--exit-on-stdin-close`: exit 0 once stdin ends (observed even before registering when stdin
 * is already closed). With a stdin credential mode the provider owns the data; only the end is watched.
 */
function watchStdinEof(stdin: Readable, selection: AuthSelection, onEof: () => void): void {
  stdin.once('end', onEof);
  stdin.once('close', onEof);
  stdin.once('error', onEof);
  if (!providerReadsStdin(selection)) stdin.resume();
}

function providerReadsStdin(selection: AuthSelection): boolean {
  return selection.registrationBearerStdin || selection.executorCredentialStdin || selection.chatgptTokenStdin;
}

/**
 * Logs each registration state change and each stream's lifecycle step (not its byte counters);
 * `streamLabel` names what a stream is on this transport (a relay stream, or a direct websocket).
 */
function stateLogger(log: Logger, streamLabel: string) {
  let lastStatus: string | null = null;
  const streamStates = new Map<string, string>();
  return (event: RuntimeEvent) => {
    if (event.type === 'registration') {
      const s = event.registration;
      // The runtime announces a new link's initial 'stopped'; the log starts with its first step.
      if (lastStatus === null && s.status === 'stopped') return;
      const key = `${s.status}|${s.registrationId}|${s.lastError}`;
      if (key === lastStatus) return;
      lastStatus = key;
      const fields: Record<string, unknown> = { status: s.status };
      if (s.registrationId) fields.registrationId = s.registrationId;
      if (s.nextAttemptAtMs) fields.retryInMs = Math.max(0, s.nextAttemptAtMs - Date.now());
      // Why a retry is coming; a failure that stops the link has its own ERROR line from the runtime.
      if (s.lastError && s.status !== 'online' && s.status !== 'error' && s.status !== 'auth_needed') fields.lastError = s.lastError;
      log.info('remote link', fields);
    } else if (event.type === 'stream') {
      const v = event.stream;
      if (streamStates.get(v.streamId) === v.state) return;
      streamStates.set(v.streamId, v.state);
      const fields: Record<string, unknown> = { streamId: v.streamId, state: v.state };
      if (v.endReason) fields.reason = v.endReason;
      log.info(streamLabel, fields);
    } else if (event.type === 'streamRemoved') {
      streamStates.delete(event.streamId);
    }
  };
}

/** A URL for logs: without userinfo (which could carry a credential) or query (a signed capability). */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text.trim());
    url.username = '';
    url.password = '';
    url.search = '';
    return url.href;
  } catch {
    return '<unparsable URL>';
  }
}
