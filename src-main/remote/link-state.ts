/**
 * The part every remote link (Noise §4–§12, direct §13) runs the same way: its RegistrationState
 * and the events that publish it, the `fatal` promise a headless host exits on, the run loop's
 * start/stop, and the waits that "Reconnect now" cuts short. A link keeps only its own protocol:
 * how it registers, dials and serves, and which failures are fatal.
 */
import type { RegistrationState, RemoteAuthMethod } from '../control/contract.ts';
import type { Logger } from '../core/log.ts';
import { clockSleep, type LinkClock } from './link-clock.ts';
import { fatalErrorText, registryBase, rustTrim } from './registry-client.ts';
import type { RemoteLinkEvent } from './remote-link-types.ts';

export interface Fatal {
  code: number;
  /** The whole text 0.169.0 prints (`Error: …` and any `Caused by:` block), or '' for a clean end. */
  message: string;
}

/** A link's state before its first start. */
export function initialRegistration(input: {
  registryUrl: string;
  environmentId: string;
  name?: string | null;
  transport: RegistrationState['transport'];
  authMethod: RemoteAuthMethod;
}): RegistrationState {
  return {
    status: 'stopped',
    configured: true,
    registryUrl: registryBase(input.registryUrl),
    environmentId: rustTrim(input.environmentId),
    name: input.name ?? null,
    transport: input.transport,
    authMethod: input.authMethod,
    registrationId: null,
    nextAttemptAtMs: null,
    attempts: 0,
    onlineSinceMs: null,
    lastError: null,
    lastErrorAtMs: null,
  };
}

export class LinkState {
  readonly fatal: Promise<Fatal>;
  private settleFatal!: (fatal: Fatal) => void;
  private fatalSettled = false;
  private state: RegistrationState;
  private readonly listeners = new Set<(event: RemoteLinkEvent) => void>();
  private run: { abort: AbortController; done: Promise<void> } | null = null;
  /** Ends the current backoff or retry wait early. */
  private wakeWait: (() => void) | null = null;

  constructor(
    initial: RegistrationState,
    private readonly clock: LinkClock,
    private readonly log: Logger,
  ) {
    this.state = initial;
    this.fatal = new Promise((resolve) => (this.settleFatal = resolve));
  }

  get current(): RegistrationState {
    return this.state;
  }

  subscribe(listener: (event: RemoteLinkEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every listener; a listener that throws is logged, never the link's problem. */
  emit(event: RemoteLinkEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.log.error('remote link listener failed', { error: String(error) });
      }
    }
  }

  /** A new state object with `patch`, published. */
  set(patch: Partial<RegistrationState>): void {
    this.state = { ...this.state, ...patch };
    this.emit({ type: 'state', state: this.state });
  }

  /** Records why the last attempt failed; published with the next state change. */
  noteError(message: string): void {
    this.state = { ...this.state, lastError: message, lastErrorAtMs: this.clock.now() };
  }

  /** Settles `fatal` (once; later calls are ignored). */
  finish(code: number, message: string): void {
    if (this.fatalSettled) return;
    this.fatalSettled = true;
    this.settleFatal({ code, message });
  }

  /**
   * The link cannot work again: state 'auth_needed' or 'error' with the message, and `fatal`
   * with 0.169.0's text (the error, then its `causes` under `Caused by:`). Not logged here: the
   * hosting runtime logs the failure once for every kind of link.
   */
  fail(error: unknown, how: { authNeeded: boolean; causes: readonly string[] }): void {
    const message = error instanceof Error ? error.message : String(error);
    this.noteError(message);
    this.set({ status: how.authNeeded ? 'auth_needed' : 'error', nextAttemptAtMs: null, onlineSinceMs: null });
    this.finish(1, fatalErrorText(message, how.causes));
  }

  /** Runs `loop` from state 'registering', unless it already runs. */
  start(loop: (signal: AbortSignal) => Promise<void>): void {
    if (this.run) return;
    const abort = new AbortController();
    this.set({ status: 'registering', attempts: 0, nextAttemptAtMs: null, onlineSinceMs: null, registrationId: null });
    const done = loop(abort.signal).finally(() => {
      if (this.run?.abort === abort) this.run = null;
    });
    this.run = { abort, done };
  }

  /** Aborts the loop, lets `drop` end the live connection, waits for the loop; state 'stopped'. */
  async stop(drop: () => void): Promise<void> {
    const run = this.run;
    if (run) {
      run.abort.abort(new Error('stopped'));
      drop();
      await run.done;
    }
    if (this.state.status !== 'stopped') this.set({ status: 'stopped', nextAttemptAtMs: null, onlineSinceMs: null });
  }

  /** Waits `ms` on the link's clock; `wake()` ends it early, the signal rejects it. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const woken = new AbortController();
    this.wakeWait = () => woken.abort();
    const both = signal ? AbortSignal.any([signal, woken.signal]) : woken.signal;
    return clockSleep(this.clock, ms, both).then(
      () => {
        this.wakeWait = null;
      },
      (error) => {
        this.wakeWait = null;
        if (signal?.aborted) throw error;
      },
    );
  }

  /** "Reconnect now": skips whatever wait is running (no-op otherwise). */
  wake(): void {
    this.wakeWait?.();
  }
}
