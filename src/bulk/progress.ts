import { formatDuration } from "../runtime/duration.ts";

/** Where a bulk run stands, for progress lines. */
export interface Progress {
  done: number;
  /** Undefined while the items are still being read (a listing not yet at its end). */
  total: number | undefined;
  succeeded: number;
  skipped: number;
  failed: number;
  /** Items done per second since the run started. */
  ratePerSec: number;
  /** Estimated time left at that rate; undefined while no rate is known. */
  etaMs: number | undefined;
  /** The current concurrency limit. */
  concurrency: number;
  elapsedMs: number;
}

/** The progress of a run from its counts. */
export function progressOf(
  counts: { succeeded: number; skipped: number; failed: number },
  total: number | undefined,
  concurrency: number,
  elapsedMs: number,
): Progress {
  const done = counts.succeeded + counts.skipped + counts.failed;
  const ratePerSec = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  return {
    done,
    total,
    succeeded: counts.succeeded,
    skipped: counts.skipped,
    failed: counts.failed,
    ratePerSec,
    etaMs: ratePerSec > 0 && total !== undefined ? Math.round(((total - done) / ratePerSec) * 1000) : undefined,
    concurrency,
    elapsedMs,
  };
}

/**
 * One progress line: `1234/10000 done (12.3%), 850/s, 3 failed, ETA 10 s, concurrency 32`; while
 * the items are still being read: `1234 done (total unknown: still reading the list), 850/s, …`.
 */
export function formatProgress(p: Progress): string {
  if (p.total === undefined) {
    const parts = [`${p.done} done (total unknown: still reading the list)`, `${formatRate(p.ratePerSec)}/s`];
    if (p.skipped > 0) parts.push(`${p.skipped} skipped`);
    if (p.failed > 0) parts.push(`${p.failed} failed`);
    parts.push(`concurrency ${p.concurrency}`);
    return parts.join(", ");
  }
  const pct = p.total === 0 ? 100 : (p.done / p.total) * 100;
  const parts = [`${p.done}/${p.total} done (${pct.toFixed(1)}%)`, `${formatRate(p.ratePerSec)}/s`];
  if (p.skipped > 0) parts.push(`${p.skipped} skipped`);
  if (p.failed > 0) parts.push(`${p.failed} failed`);
  if (p.done < p.total) parts.push(p.etaMs === undefined ? "ETA unknown" : `ETA ${formatDuration(p.etaMs)}`);
  parts.push(`concurrency ${p.concurrency}`);
  return parts.join(", ");
}

function formatRate(r: number): string {
  return r >= 10 ? String(Math.round(r)) : r.toFixed(1);
}

/**
 * Calls `tick` every `everyMs` until the returned stop function is called: a real, unref'd
 * interval timer, so a test clock whose sleeps return at once cannot make it spin.
 */
export function realTicker(tick: () => void, everyMs: number): () => void {
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * When to report progress: at most every `intervalMs` as items finish (`onDone`), and from a
 * ticker when nothing finishes for a whole interval. A callback that throws goes to `onError`.
 */
export class ProgressSchedule {
  private last: number;
  private readonly intervalMs: number;
  private readonly emit: ((now: number) => void) | undefined;
  private readonly onError: (err: unknown) => void;

  constructor(opts: { startedAt: number; intervalMs: number; emit: ((now: number) => void) | undefined; onError: (err: unknown) => void }) {
    this.last = opts.startedAt;
    this.intervalMs = opts.intervalMs;
    this.emit = opts.emit;
    this.onError = opts.onError;
  }

  /** Starts the quiet-period ticker (when progress is wanted at all); returns its stop function. */
  startTicker(ticker: (tick: () => void, everyMs: number) => () => void, now: () => number, active: () => boolean): (() => void) | undefined {
    if (!this.emit || !(this.intervalMs > 0) || !Number.isFinite(this.intervalMs)) return undefined;
    return ticker(() => {
      if (active()) this.maybe(now());
    }, this.intervalMs);
  }

  /** Reports when an interval has passed since the last report. */
  maybe(now: number): void {
    if (!this.emit || now - this.last < this.intervalMs) return;
    this.last = now;
    try {
      this.emit(now);
    } catch (err) {
      this.onError(err);
    }
  }
}
