/**
 * Waiting for the Controller to report something, with backoff (1 s doubling up to 10 s by
 * default), a deadline, cancellation through the clock, and a progress line when what is seen
 * changes (and now and then while it does not).
 */
import type { Clock } from "../../runtime/clock.ts";
import { ExpectedError } from "../../runtime/errors.ts";

/** Delays between looks: `initialMs`, doubling up to `maxMs` (pollUntil is the one implementation). */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/** What one look found: the awaited value (and how it looks), or what is seen instead (a short note). */
export type Probe<T> = { done: true; value: T; seen?: string } | { done: false; seen: string };

export interface PollOptions {
  clock: Clock;
  signal: AbortSignal;
  backoff: Backoff;
  /** Epoch ms after which waiting fails with PollTimeoutError. */
  deadline: number;
  /** What is awaited, for the timeout message ("upgrade status success"). */
  awaiting: string;
  /** Wait one initial delay before the first look (after a change was just asked for). */
  delayFirst?: boolean;
  /** Called when what is seen changes, and every `heartbeatMs` while it does not. */
  onSeen?: (seen: string, sinceMs: number) => void;
  heartbeatMs?: number;
}

export class PollTimeoutError extends ExpectedError {
  readonly lastSeen: string | undefined;
  constructor(awaiting: string, waitedMs: number, lastSeen: string | undefined) {
    super(`timed out after ${Math.round(waitedMs / 1000)} s waiting for ${awaiting}${lastSeen ? ` (last seen: ${lastSeen})` : ""}`);
    this.name = "PollTimeoutError";
    this.lastSeen = lastSeen;
  }
}

/**
 * Looks with `probe` until it reports done. The delay starts again from the initial one when
 * what is seen changes, since a change means the next one may come soon.
 */
export async function pollUntil<T>(probe: () => Promise<Probe<T>>, o: PollOptions): Promise<T> {
  const started = o.clock.now();
  let delay = o.backoff.initialMs;
  let lastSeen: string | undefined;
  let seenSince = started;
  let lastReport = started;
  if (o.delayFirst) {
    await sleepUntilDeadline(o, delay);
    delay = Math.min(o.backoff.maxMs, delay * 2);
  }
  for (;;) {
    const r = await probe();
    if (r.done) return r.value;
    const now = o.clock.now();
    if (r.seen !== lastSeen) {
      if (lastSeen !== undefined) delay = o.backoff.initialMs;
      lastSeen = r.seen;
      seenSince = now;
      lastReport = now;
      o.onSeen?.(r.seen, 0);
    } else if (o.heartbeatMs !== undefined && now - lastReport >= o.heartbeatMs) {
      lastReport = now;
      o.onSeen?.(r.seen, now - seenSince);
    }
    if (now >= o.deadline) throw new PollTimeoutError(o.awaiting, now - started, lastSeen);
    await sleepUntilDeadline(o, delay);
    delay = Math.min(o.backoff.maxMs, delay * 2);
  }
}

async function sleepUntilDeadline(o: PollOptions, ms: number): Promise<void> {
  const left = o.deadline - o.clock.now();
  await o.clock.sleep(Math.max(0, Math.min(ms, left)), o.signal);
}
