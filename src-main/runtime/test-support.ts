/** Helpers for runtime tests: an event recorder with waits, a reversible test SecretBox, polling. */
import type { RuntimeEvent } from '../control/contract.ts';
import type { SecretBox } from './settings-store.ts';

export class EventRecorder {
  readonly events: RuntimeEvent[] = [];
  private waiters: Array<{ match: (e: RuntimeEvent) => boolean; resolve: (e: RuntimeEvent) => void }> = [];
  readonly stop: () => void;

  constructor(source: { subscribe(listener: (event: RuntimeEvent) => void): () => void }) {
    this.stop = source.subscribe((event) => {
      this.events.push(event);
      this.waiters = this.waiters.filter((w) => (w.match(event) ? (w.resolve(event), false) : true));
    });
  }

  /** The first event from now on that matches (events already seen are not considered). */
  next<T extends RuntimeEvent>(match: (e: RuntimeEvent) => boolean, timeoutMs = 10_000, what = 'event'): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e as T);
        },
      });
    });
  }

  /** A matching event already recorded, or the next one. */
  seen<T extends RuntimeEvent>(match: (e: RuntimeEvent) => boolean, timeoutMs = 10_000, what = 'event'): Promise<T> {
    const hit = this.events.find(match);
    return hit ? Promise.resolve(hit as T) : this.next<T>(match, timeoutMs, what);
  }
}

/** Reversible and obviously not secure: proves the store keeps only what the box returns. */
export const testSecretBox: SecretBox = {
  available: () => true,
  encrypt: (text) => Buffer.from([...Buffer.from(text, 'utf8')].map((b) => b ^ 0x5a)),
  decrypt: (buf) => Buffer.from([...buf].map((b) => b ^ 0x5a)).toString('utf8'),
};

export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
