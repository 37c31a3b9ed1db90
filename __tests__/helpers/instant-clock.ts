import { setImmediate as nextMacrotask } from "node:timers/promises";
import { type Clock, abortReason } from "../../src/runtime/clock.ts";

/**
 * A clock for tests that do real I/O: `sleep` returns on the next turn of the event loop instead
 * of waiting, moves `now()` forward by the time asked, and records every wait so a test can check
 * backoff and Retry-After without waiting for them.
 */
export class InstantClock implements Clock {
  readonly waits: number[] = [];
  private offset = 0;
  /** When set, time stands still at this instant except for sleeps and skips (for HTTP-date tests). */
  private readonly frozenAt: number | undefined;
  constructor(opts: { frozenAt?: number } = {}) {
    this.frozenAt = opts.frozenAt;
  }
  now(): number {
    return (this.frozenAt ?? Date.now()) + this.offset;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortReason(signal);
    this.waits.push(ms);
    // Concurrent sleepers share one timeline: time moves to the latest instant asked for.
    this.offset = Math.max(this.offset, this.now() + Math.max(0, ms) - (this.frozenAt ?? Date.now()));
    await nextMacrotask();
    if (signal?.aborted) throw abortReason(signal);
  }
  /** Moves time forward without a sleep (e.g. to expire tokens). */
  skip(ms: number): void {
    this.offset += ms;
  }
}
