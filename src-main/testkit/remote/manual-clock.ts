/**
 * A LinkClock that only moves when a test says so: `advance(ms)` fires every timer that falls
 * due, in order, so 30 s keepalive pings and 60 s pong deadlines are tested without waiting.
 */
import type { LinkClock } from '../../remote/link-clock.ts';

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

export class ManualClock implements LinkClock {
  private time: number;
  private nextId = 1;
  private timers: Timer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Timers still waiting (for assertions such as "no new ping while one is outstanding"). */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing due timers in time order (timers they set are honoured too). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.callback();
    }
    this.time = end;
  }
}
