import { type Clock, abortReason } from "../runtime/clock.ts";
import { formatDuration } from "../runtime/duration.ts";

/**
 * Waits out a wave's soak on the injected clock, with a progress line at most every `tickMs`
 * so a long soak does not look like a hung step. Cancellation ends it at once: it rejects
 * with the signal's reason.
 */
export async function soak(o: {
  clock: Clock;
  ms: number;
  signal: AbortSignal;
  /** Told the time left before each wait. */
  onTick?(msLeft: number, line: string): void;
  /** What is soaking, for the progress line ("wave 1 of 4"). */
  label: string;
  tickMs?: number;
}): Promise<void> {
  const tick = Math.max(1, o.tickMs ?? 60_000);
  const end = o.clock.now() + Math.max(0, o.ms);
  for (;;) {
    if (o.signal.aborted) throw abortReason(o.signal);
    const left = end - o.clock.now();
    if (left <= 0) return;
    o.onTick?.(left, `Soaking ${o.label}: ${formatDuration(left)} left before the gate is judged.`);
    await o.clock.sleep(Math.min(tick, left), o.signal);
  }
}
