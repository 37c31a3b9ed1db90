import { setImmediate as nextMacrotask } from "node:timers/promises";
import { type Clock, abortReason } from "../../src/runtime/clock.ts";

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * A virtual clock: time moves only when a test says so. `sleep()` resolves when the test
 * advances past its due time (in due order, flushing promise callbacks between timers), and
 * rejects at once with the signal's reason when the signal aborts. Nothing waits on real time.
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];
  /** How many times sleep() was called. */
  sleeps = 0;

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps++;
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const timer: Timer = {
        at: this.t + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(abortReason(signal!));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  /** Timers not yet due. */
  get pending(): number {
    return this.timers.length;
  }

  nextDue(): number | undefined {
    let next: number | undefined;
    for (const x of this.timers) if (next === undefined || x.at < next) next = x.at;
    return next;
  }

  /** Lets every pending promise callback run (no time passes). */
  async flush(): Promise<void> {
    await nextMacrotask();
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.t + ms);
  }

  async advanceTo(target: number): Promise<void> {
    await this.flush();
    for (;;) {
      const due = this.popDue(target);
      if (due === undefined) break;
      this.t = Math.max(this.t, due.at);
      due.resolve();
      await this.flush();
    }
    this.t = Math.max(this.t, target);
    await this.flush();
  }

  /**
   * Runs virtual time until `p` settles, jumping to each next timer. Fails when nothing is
   * pending and `p` is still unsettled (a deadlock), or after `maxSteps` timers.
   */
  async run<T>(p: Promise<T>, maxSteps = 1_000_000): Promise<T> {
    let settled = false;
    const watched = p.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined);
    await this.flush();
    for (let steps = 0; !settled; steps++) {
      const next = this.nextDue();
      if (next === undefined) throw new Error("FakeClock.run: promise unsettled and no timer pending");
      if (steps >= maxSteps) throw new Error("FakeClock.run: too many steps");
      await this.advanceTo(next);
    }
    return watched;
  }

  private popDue(target: number): Timer | undefined {
    let best: Timer | undefined;
    for (const x of this.timers) {
      if (x.at <= target && (best === undefined || x.at < best.at || (x.at === best.at && x.seq < best.seq))) best = x;
    }
    if (best !== undefined) this.timers = this.timers.filter((x) => x !== best);
    return best;
  }
}

/** A deterministic random source (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
