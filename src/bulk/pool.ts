/**
 * The bulk scheduler: runs one operation (`attempt`) for each of up to 100,000 items through a
 * bounded, adaptive pool, with the action's one retry policy (runtime/retry-policy.ts). It knows
 * nothing of HTTP: the operation classifies its answers. Its parts live beside it: where items
 * come from (feed.ts), the adaptive limit (aimd.ts), waiting retries (due-heap.ts, one timer in
 * wake-timer.ts), the retry decision (retry-plan.ts) and progress lines (progress.ts).
 *
 * - One dispatcher (`pump`) starts attempts while fewer than the limit are in flight: due
 *   retries first (so started items finish and their state is freed), then the next item of the
 *   feed (a list, or an async source read with a bounded read-ahead, each read in a slot of its
 *   own). An item has state only from its first attempt to its outcome: memory is O(in flight +
 *   waiting).
 * - An item waiting for its backoff holds no slot; when no wait is needed nothing is timed.
 * - A `retryAfterMs` pauses the whole pool until then (attempts in flight finish); one longer
 *   than the policy's `maxRetryAfterMs` fails the item at once and pauses nothing.
 * - Bounds against a server that only refuses: an item's attempts and waits stay within
 *   `itemBoundMs`, and the run stops when every answer for `refusalWindowMs` was a refusal.
 * - Cancellation (`signal`): nothing new starts, timers stop, attempts in flight get an aborted
 *   signal and `cancelGraceMs` to settle (an answer that still arrives is recorded as it is);
 *   every other item ends failed with `cancelled: true`. runBulk resolves, it does not reject.
 */
import { setMaxListeners } from "node:events";
import { type Clock, CancelledError, causedByCancellation } from "../runtime/clock.ts";
import { formatDuration } from "../runtime/duration.ts";
import type { RetryPolicy } from "../runtime/retry-policy.ts";
import { AimdLimit } from "./aimd.ts";
import { ItemFeed } from "./feed.ts";
import { type ItemState, codeOf, errorMessage, newState, statusFields } from "./item-state.ts";
import { ProgressSchedule, progressOf, realTicker } from "./progress.ts";
import { planRetry } from "./retry-plan.ts";
import {
  type AttemptResult,
  type BulkOptions,
  type BulkResult,
  CANCELLED_REASON,
  STOPPED_REASON,
  DEFAULT_CANCEL_GRACE_MS,
  DEFAULT_PROGRESS_INTERVAL_MS,
  DEFAULT_RATE_LIMITED_RETRIES,
  DEFAULT_READ_AHEAD,
  type ItemOutcome,
} from "./types.ts";
import { RefusalWatch } from "./refusal-watch.ts";
import { WaitingRoom } from "./waiting-room.ts";
import { WakeTimer } from "./wake-timer.ts";

/** Runs `attempt` for every item; resolves once every item has an outcome. */
export async function runBulk(opts: BulkOptions): Promise<BulkResult> {
  return new BulkRun(opts).run();
}

class BulkRun {
  private readonly o: BulkOptions;
  private readonly feed: ItemFeed; // a list, or a source read as the run goes (bounded read-ahead)
  private readonly clock: Clock;
  private readonly cfg: { policy: RetryPolicy; random: () => number; rateLimitedRetries: number; cancelGraceMs: number };
  private readonly limit: AimdLimit; // the adaptive concurrency limit
  private readonly inFlight = new Set<ItemState>();
  /** Retries waiting for their time, and items that deferred their attempt (as many as the read-ahead). */
  private readonly waiting: WaitingRoom;
  private readonly readAhead: number;
  private pausedUntil = 0;
  private seq = 0;
  private readonly counts = { succeeded: 0, skipped: 0, failed: 0, cancelled: 0, retries: 0, rateLimited: 0 };

  private cancelling = false;
  private stopped: string | undefined; // why the run stopped on its own (RefusalWatch)
  private readonly refusals: RefusalWatch | undefined;
  private finished = false;
  private fatal: { error: unknown } | undefined;
  private readonly startedAt: number;
  private readonly progress: ProgressSchedule;

  /** Aborts the attempts in flight on cancellation. */
  private readonly attemptCtl = new AbortController();
  /** Aborts the pool's own timers (progress, cancellation grace) when the run ends. */
  private readonly timerCtl = new AbortController();
  private readonly wake: WakeTimer;
  private resolveDone: () => void = () => undefined;

  constructor(o: BulkOptions) {
    this.limit = new AimdLimit(o.concurrency);
    this.o = o;
    this.readAhead = o.readAhead ?? Math.max(DEFAULT_READ_AHEAD, 4 * o.concurrency);
    this.feed = new ItemFeed(o.items, {
      readAhead: this.readAhead,
      onReady: () => (this.cancelling ? this.finishIfSettled() : this.pump()),
      onError: (err) => this.fail(err),
      // An item that was on its way from the source when the run was cancelled.
      onLate: (name) => {
        if (!this.finished) this.finalizeCancelled(newState(name, 0));
      },
    });
    this.clock = o.clock;
    this.waiting = new WaitingRoom(() => this.clock.now(), () => this.pump());
    this.cfg = {
      policy: o.policy,
      random: o.random ?? Math.random,
      rateLimitedRetries: o.rateLimitedRetries ?? (o.policy.maxAttempts > 1 ? DEFAULT_RATE_LIMITED_RETRIES : 0),
      cancelGraceMs: o.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS,
    };
    this.startedAt = this.clock.now();
    this.refusals = o.refusalWindowMs !== undefined ? new RefusalWatch(o.refusalWindowMs, this.startedAt) : undefined;
    const onProgress = o.onProgress;
    this.progress = new ProgressSchedule({
      startedAt: this.startedAt,
      intervalMs: o.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS,
      emit: onProgress && ((now) => onProgress(progressOf(this.counts, this.feed.total, this.limit.current, now - this.startedAt))),
      onError: (err) => this.fail(err),
    });
    this.wake = new WakeTimer(this.clock, () => this.pump());
    // Every attempt in flight may listen on this one signal (undici does).
    setMaxListeners(0, this.attemptCtl.signal);
  }

  async run(): Promise<BulkResult> {
    const done = new Promise<void>((resolve) => (this.resolveDone = resolve));
    const external = this.o.signal;
    const onAbort = (): void => this.cancel();
    if (external?.aborted) this.cancel();
    else external?.addEventListener("abort", onAbort, { once: true });
    if (!this.cancelling) {
      const stop = this.progress.startTicker(this.o.progressTicker ?? realTicker, () => this.clock.now(), () => !this.finished && !this.cancelling);
      if (stop) this.timerCtl.signal.addEventListener("abort", stop, { once: true });
      this.pump();
    }
    await done;
    external?.removeEventListener("abort", onAbort);
    if (this.fatal) throw this.fatal.error;
    return {
      succeeded: this.counts.succeeded,
      skipped: this.counts.skipped,
      failed: this.counts.failed,
      cancelledItems: this.counts.cancelled,
      cancelled: this.cancelling,
      elapsedMs: this.clock.now() - this.startedAt,
      total: this.feed.seen,
      finalConcurrency: this.limit.current,
      minConcurrency: this.limit.lowest,
      rateLimitedResponses: this.counts.rateLimited,
      retries: this.counts.retries,
      ...(this.stopped !== undefined ? { stopped: this.stopped } : {}),
    };
  }

  /** Starts attempts while there is room, work that may start now, and no pause. */
  private pump(): void {
    if (this.cancelling || this.finished) return;
    const now = this.clock.now();
    while (!this.cancelling) {
      if (now < this.pausedUntil) {
        this.wake.wakeAt(this.pausedUntil);
        break;
      }
      this.feed.fillIfRoom(this.inFlight.size, this.limit.current); // a read (a page) goes first
      if (this.inFlight.size + this.feed.slotsTaken(this.limit.current) >= this.limit.current) break;
      let st = this.waiting.takeDue(now);
      let fresh: string | undefined;
      if (st === undefined && this.waiting.deferredCount < this.readAhead && (fresh = this.feed.take()) !== undefined) st = newState(fresh, now);
      if (st === undefined) {
        // Nothing due and nothing at hand: a retry's time, or the source's next item, wakes us.
        const next = this.waiting.nextDueAt();
        if (next !== undefined) this.wake.wakeAt(next);
        break;
      }
      this.start(st, now);
    }
    if (this.inFlight.size === 0 && this.waiting.size === 0 && this.feed.exhausted) this.finish();
  }

  private start(st: ItemState, now: number): void {
    if (st.attempts === 0) st.firstStartedAt = now;
    st.attempts++;
    st.seq = this.seq++;
    this.inFlight.add(st);
    let p: Promise<AttemptResult>;
    try {
      p = this.o.attempt(st.name, this.attemptCtl.signal, { attempt: st.attempts, earlierMayHaveActed: st.mayHaveActed });
    } catch (err) {
      // settled later like any answer, so pump() never re-enters itself
      p = Promise.reject(err);
    }
    p.then(
      (r) => this.onResult(st, r),
      (err: unknown) => this.onThrow(st, err),
    ).catch((err: unknown) => this.fail(err));
  }

  private onThrow(st: ItemState, err: unknown): void {
    if (st.done) return;
    this.inFlight.delete(st);
    if (this.cancelling && causedByCancellation(err, [this.attemptCtl.signal.reason, this.o.signal?.reason])) {
      this.finalizeCancelled(st);
    } else {
      const code = codeOf(err);
      this.finalize(st, "failed", { reason: errorMessage(err), ...(code !== undefined ? { code } : {}) });
    }
    this.afterSettle();
  }

  private onResult(st: ItemState, r: AttemptResult): void {
    if (st.done) return;
    this.inFlight.delete(st);
    switch (r?.kind) {
      case "succeeded":
      case "skipped":
      case "failed":
        if (r.kind === "failed" && r.notSent) st.attempts--;
        else {
          this.limit.increase();
          this.refusals?.answered(this.clock.now());
        }
        this.finalize(st, r.kind, r.kind === "succeeded" ? (r.detail !== undefined ? { detail: r.detail } : {}) : statusFields(r));
        break;
      case "defer":
        st.attempts--; // not an attempt: the item waits, holding no slot, then starts again
        this.waiting.defer(st, r.until);
        break;
      case "retry":
        this.onRetry(st, r);
        break;
      default:
        this.finalize(st, "failed", { reason: `the attempt returned no valid result (${JSON.stringify(r)})` });
    }
    this.afterSettle();
  }

  private onRetry(st: ItemState, r: Extract<AttemptResult, { kind: "retry" }>): void {
    const now = this.clock.now();
    if (r.rateLimited) {
      this.counts.rateLimited++;
      st.rateLimited++;
      const change = this.limit.decrease(st.seq, this.seq);
      if (change && change.after !== change.before) this.o.logger?.debug(`bulk: rate limited; concurrency ${change.before} -> ${change.after}`);
    }
    if (r.mayHaveActed) st.mayHaveActed = true;
    const why = r.rateLimited || (r.status ?? 0) >= 500 ? this.refusals?.refused(now) : undefined;
    if (why !== undefined && this.stopped === undefined) {
      this.stopped = why;
      this.cancel();
    }
    const ra = r.retryAfterMs;
    if (ra !== undefined && ra > 0 && ra <= this.cfg.policy.maxRetryAfterMs && now + ra > this.pausedUntil) {
      this.pausedUntil = now + ra;
      this.o.logger?.debug(`bulk: the server asked to wait ${formatDuration(ra)}; pausing all requests`);
    }
    if (this.cancelling) {
      this.finalizeCancelled(st);
      return;
    }
    const bound = this.o.itemBoundMs !== undefined ? { elapsedMs: now - st.firstStartedAt, boundMs: this.o.itemBoundMs } : undefined;
    const plan = planRetry(st, this.cfg.policy, this.cfg.rateLimitedRetries, ra, r.reason, this.cfg.random, bound);
    if (plan.kind === "give-up") {
      this.finalize(st, "failed", { ...statusFields(r), ...(plan.reason !== undefined ? { reason: plan.reason } : {}) });
      return;
    }
    this.waiting.retryAt(st, now + plan.delayMs);
    this.counts.retries++;
  }

  private afterSettle(): void {
    if (this.cancelling) {
      this.finishIfSettled();
      return;
    }
    this.pump();
  }

  /** While cancelling: done once no attempt is in flight and no item is on its way from the source. */
  private finishIfSettled(): void {
    if (this.inFlight.size === 0 && !this.feed.busy) this.finish();
  }

  private finalize(st: ItemState, outcome: ItemOutcome["outcome"], fields: Partial<ItemOutcome>): void {
    st.done = true;
    const now = this.clock.now();
    this.counts[outcome]++;
    if (fields.cancelled) this.counts.cancelled++;
    try {
      this.o.onOutcome?.({ name: st.name, outcome, attempts: st.attempts, ...fields, durationMs: st.attempts === 0 ? 0 : now - st.firstStartedAt });
    } catch (err) {
      this.fail(err);
    }
    if (!this.cancelling) this.progress.maybe(now);
  }

  private finalizeCancelled(st: ItemState): void {
    this.finalize(st, "failed", { reason: this.stopped !== undefined ? STOPPED_REASON : CANCELLED_REASON, cancelled: true });
  }

  /** Cancellation: nothing new starts, waiting items end now, in-flight ones get a grace period. */
  private cancel(): void {
    if (this.cancelling || this.finished) return;
    this.cancelling = true;
    const external = this.o.signal;
    const reason: unknown = external?.aborted ? external.reason : undefined;
    this.attemptCtl.abort(reason instanceof Error ? reason : new CancelledError("the run was cancelled"));
    this.wake.stop();
    for (const st of this.waiting.drain()) this.finalizeCancelled(st);
    for (const name of this.feed.stop()) this.finalizeCancelled(newState(name, 0));
    if (this.inFlight.size === 0) {
      this.finishIfSettled();
      return;
    }
    this.clock.sleep(this.cfg.cancelGraceMs, this.timerCtl.signal).then(
      () => {
        for (const st of this.inFlight) this.finalizeCancelled(st);
        this.inFlight.clear();
        this.finishIfSettled();
      },
      () => undefined,
    );
  }

  /** A callback threw: stop as if cancelled, then reject runBulk with the first such error. */
  private fail(err: unknown): void {
    if (this.fatal === undefined) this.fatal = { error: err };
    this.cancel();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.wake.stop();
    this.timerCtl.abort();
    this.resolveDone();
  }
}
