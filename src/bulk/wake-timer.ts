import type { Clock } from "../runtime/clock.ts";

/**
 * One clock timer for the whole pool: wakes it at the earliest time asked for (a pause's end or
 * the first due retry), instead of one timer per waiting item.
 */
export class WakeTimer {
  private readonly clock: Clock;
  private readonly onWake: () => void;
  private ctl: AbortController | undefined;
  private at = Infinity;

  constructor(clock: Clock, onWake: () => void) {
    this.clock = clock;
    this.onWake = onWake;
  }

  /** Wakes the pool at `time`, unless a wake-up at or before it is already set. */
  wakeAt(time: number): void {
    if (this.ctl !== undefined && this.at <= time) return;
    this.ctl?.abort();
    const ctl = new AbortController();
    this.ctl = ctl;
    this.at = time;
    this.clock.sleep(Math.max(0, time - this.clock.now()), ctl.signal).then(
      () => {
        if (this.ctl !== ctl) return;
        this.ctl = undefined;
        this.at = Infinity;
        this.onWake();
      },
      () => undefined,
    );
  }

  stop(): void {
    this.ctl?.abort();
    this.ctl = undefined;
    this.at = Infinity;
  }
}
