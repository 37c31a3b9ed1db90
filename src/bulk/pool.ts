/**
 * The bulk scheduler: runs one operation (`attempt`) for each of up to 100,000 items through a
 * bounded, adaptive pool, with the action's one retry policy (runtime/retry-policy.ts). Its
 * parts live beside it: the adaptive limit (aimd.ts), the waiting retries (due-heap.ts) and
 * progress lines (progress.ts). It knows nothing of HTTP: the operation classifies its answers.
 *
 * How it works
 * - A single dispatcher (`pump`) starts attempts while fewer than `limit` are in flight. Items
 *   come from two places: retries that are due (first, so started items finish and their state
 *   is freed) and the next fresh item from the feed (feed.ts: a list, or an async source such as
 *   a listing read page by page with a bounded read-ahead, so the first request goes out as soon
 *   as the first page is in; the total is unknown until the source ends). No state exists for an item before its first attempt, and
 *   none after its outcome has been handed to `onOutcome`: memory is O(in flight + waiting).
 * - An item waiting for its backoff holds no slot: it sits in a min-heap ordered by due time,
 *   and one clock timer (not one per item) wakes the dispatcher at the earliest due time.
 *   When no wait is needed nothing is timed at all.
 * - A `retryAfterMs` on any answer pauses the whole pool: no attempt of any item starts before
 *   that instant (attempts in flight finish). A Retry-After longer than the policy's
 *   `maxRetryAfterMs` is not honoured: the item fails at once and the pool is not paused, since
 *   this run will not wait that long anyway.
 * - AIMD (aimd.ts): a rate-limited answer lowers the limit (once per congestion window); every
 *   definitive answer (succeeded, skipped, failed) raises it a little, up to `concurrency`.
 * - Attempt accounting (retry-plan.ts): rate-limited attempts (429) do not count against
 *   `policy.maxAttempts`, up to `rateLimitedRetries` of them: the item should not fail because
 *   of the pool's own probing for the server's limit. `ItemOutcome.attempts` counts every one.
 * - "An earlier attempt may have acted": a `retry` result says whether the server may have
 *   carried that attempt out (`mayHaveActed`); the pool remembers it per item and hands it to the
 *   item's next attempts, so the operation can read an answer such as a 404 after a lost delete.
 * - Cancellation (`signal`): nothing new starts, timers stop, attempts in flight get an aborted
 *   signal and `cancelGraceMs` to settle (an answer that still arrives is recorded as it is);
 *   every other item ends failed with `cancelled: true`. runBulk resolves, it does not reject.
 */
import { setMaxListeners } from "node:events";
import { type Clock, CancelledError, causedByCancellation } from "../runtime/clock.ts";
import { formatDuration } from "../runtime/duration.ts";
import type { RetryPolicy } from "../runtime/retry-policy.ts";
import { AimdLimit } from "./aimd.ts";
import { DueHeap } from "./due-heap.ts";
import { ItemFeed } from "./feed.ts";
import { type ItemState, codeOf, errorMessage, newState, statusFields } from "./item-state.ts";
import { ProgressSchedule, progressOf, realTicker } from "./progress.ts";
import { planRetry } from "./retry-plan.ts";
import {
  type AttemptResult,
  type BulkOptions,
  type BulkResult,
  CANCELLED_REASON,
  DEFAULT_CANCEL_GRACE_MS,
  DEFAULT_PROGRESS_INTERVAL_MS,
  DEFAULT_RATE_LIMITED_RETRIES,
  DEFAULT_READ_AHEAD,
  type ItemOutcome,
} from "./types.ts";
import { WakeTimer } from "./wake-timer.ts";

/** Runs `attempt` for every item; resolves once every item has an outcome. */
export async function runBulk(opts: BulkOptions): Promise<BulkResult> {
  return new BulkRun(opts).run();
}

class BulkRun {
  private readonly o: BulkOptions;
  /** The items: a list, or a source read as the run goes (bounded read-ahead). */
  private readonly feed: ItemFeed;
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly rateLimitedRetries: number;
  private readonly cancelGraceMs: number;

  /** The adaptive concurrency limit. */
  private readonly limit: AimdLimit;
  private readonly inFlight = new Set<ItemState>();
  private readonly waiting = new DueHeap<ItemState>();
  /** Items that deferred their attempt (see AttemptResult "defer"): no slot held; as many as the read-ahead. */
  private readonly deferred = new Set<ItemState>();
  private readonly readAhead: number;
  private pausedUntil = 0;
  private seq = 0;

  private readonly counts = { succeeded: 0, skipped: 0, failed: 0, cancelled: 0 };
  private retries = 0;
  private rateLimitedResponses = 0;

  private cancelling = false;
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
    this.policy = o.policy;
    this.clock = o.clock;
    this.random = o.random ?? Math.random;
    this.rateLimitedRetries =
      o.rateLimitedRetries ?? (o.policy.maxAttempts > 1 ? DEFAULT_RATE_LIMITED_RETRIES : 0);
    this.cancelGraceMs = o.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
    this.startedAt = this.clock.now();
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
      rateLimitedResponses: this.rateLimitedResponses,
      retries: this.retries,
    };
  }

  /** Starts attempts while there is room, work that may start now, and no pause. */
  private pump(): void {
    if (this.cancelling || this.finished) return;
    const now = this.clock.now();
    while (!this.cancelling && this.inFlight.size < this.limit.current) {
      if (now < this.pausedUntil) {
        this.wake.wakeAt(this.pausedUntil);
        break;
      }
      const head = this.waiting.peek();
      let st: ItemState;
      let fresh: string | undefined;
      if (head !== undefined && head.dueAt <= now) {
        this.waiting.pop();
        st = head;
      } else if (this.deferred.size < this.readAhead && (fresh = this.feed.take()) !== undefined) {
        st = newState(fresh, now);
      } else {
        // Nothing due and nothing at hand: a retry's time, or the source's next item, wakes us.
        if (head !== undefined) this.wake.wakeAt(head.dueAt);
        break;
      }
      this.start(st, now);
    }
    if (this.inFlight.size === 0 && this.waiting.size === 0 && this.deferred.size === 0 && this.feed.exhausted) this.finish();
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
        this.limit.increase();
        this.finalize(st, "succeeded", r.detail !== undefined ? { detail: r.detail } : {});
        break;
      case "skipped":
        this.limit.increase();
        this.finalize(st, "skipped", { reason: r.reason });
        break;
      case "failed":
        if (r.notSent) st.attempts--;
        else this.limit.increase();
        this.finalize(st, "failed", statusFields(r));
        break;
      case "defer":
        this.onDefer(st, r.until);
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
      this.rateLimitedResponses++;
      st.rateLimited++;
      const change = this.limit.decrease(st.seq, this.seq);
      if (change && change.after !== change.before) this.o.logger?.debug(`bulk: rate limited; concurrency ${change.before} -> ${change.after}`);
    }
    if (r.mayHaveActed) st.mayHaveActed = true;
    const ra = r.retryAfterMs;
    if (ra !== undefined && ra > 0 && ra <= this.policy.maxRetryAfterMs && now + ra > this.pausedUntil) {
      this.pausedUntil = now + ra;
      this.o.logger?.debug(`bulk: the server asked to wait ${formatDuration(ra)}; pausing all requests`);
    }
    if (this.cancelling) {
      this.finalizeCancelled(st);
      return;
    }
    const plan = planRetry(st, this.policy, this.rateLimitedRetries, ra, r.reason, this.random);
    if (plan.kind === "give-up") {
      this.finalize(st, "failed", { ...statusFields(r), ...(plan.reason !== undefined ? { reason: plan.reason } : {}) });
      return;
    }
    st.dueAt = now + plan.delayMs;
    this.waiting.push(st);
    this.retries++;
  }

  private onDefer(st: ItemState, until: Promise<unknown>): void {
    st.attempts--;
    this.deferred.add(st);
    const resume = (): void => {
      if (!this.deferred.delete(st) || st.done) return;
      st.dueAt = this.clock.now();
      this.waiting.push(st);
      this.pump();
    };
    until.then(resume, resume);
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
    this.emitOutcome({
      name: st.name,
      outcome,
      attempts: st.attempts,
      ...fields,
      durationMs: st.attempts === 0 ? 0 : now - st.firstStartedAt,
    });
    if (!this.cancelling) this.progress.maybe(now);
  }

  private finalizeCancelled(st: ItemState): void {
    this.finalize(st, "failed", { reason: CANCELLED_REASON, cancelled: true });
  }

  private emitOutcome(o: ItemOutcome): void {
    if (!this.o.onOutcome) return;
    try {
      this.o.onOutcome(o);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Cancellation: nothing new starts, waiting items end now, in-flight ones get a grace period. */
  private cancel(): void {
    if (this.cancelling || this.finished) return;
    this.cancelling = true;
    const external = this.o.signal;
    const reason: unknown = external?.aborted ? external.reason : undefined;
    this.attemptCtl.abort(reason instanceof Error ? reason : new CancelledError("the run was cancelled"));
    this.wake.stop();
    for (let st = this.waiting.pop(); st !== undefined; st = this.waiting.pop()) this.finalizeCancelled(st);
    for (const st of this.deferred) this.finalizeCancelled(st);
    this.deferred.clear();
    for (const name of this.feed.stop()) this.finalizeCancelled(newState(name, 0));
    if (this.inFlight.size === 0) {
      this.finishIfSettled();
      return;
    }
    this.clock.sleep(this.cancelGraceMs, this.timerCtl.signal).then(
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
