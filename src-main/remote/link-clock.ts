/**
 * Time as the remote link sees it: the wall clock for published times and one-shot timers for
 * keepalive, backoff and stream retention. Injectable so tests of the 30 s ping / 60 s pong
 * deadline and of the backoff run in milliseconds with a manual clock.
 */
export interface LinkClock {
  now(): number;
  /** `weak`: the timer alone must not keep the process alive (view bookkeeping). */
  setTimeout(callback: () => void, ms: number, options?: { weak?: boolean }): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: LinkClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms, options) => {
    const timer = setTimeout(callback, ms);
    if (options?.weak) timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when it aborts. */
export function clockSleep(clock: LinkClock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const reason = () => (signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal?.aborted) return reject(reason());
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(reason());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
