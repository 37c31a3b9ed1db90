/**
 * The bulk engine: runs one operation (`attempt`) for each of up to 100,000 items through a
 * bounded, adaptive pool, with the action's one retry policy (http/retry.ts).
 *
 * How it works
 * - A single dispatcher (`pump`) starts attempts while fewer than `limit` are in flight. Items
 *   come from two places: retries that are due (first, so started items finish and their state
 *   is freed) and the next fresh item. No state exists for an item before its first attempt, and
 *   none after its outcome has been handed to `onOutcome`: memory is O(in flight + waiting).
 * - An item waiting for its backoff holds no slot: it sits in a min-heap ordered by due time,
 *   and one clock timer (not one per item) wakes the dispatcher at the earliest due time.
 *   When no wait is needed nothing is timed at all.
 * - A `retryAfterMs` on any answer pauses the whole pool: no attempt of any item starts before
 *   that instant (attempts in flight finish). A Retry-After longer than the policy's
 *   `maxRetryAfterMs` is not honoured: the item fails at once and the pool is not paused, since
 *   this run will not wait that long anyway.
 * - AIMD: a rate-limited answer multiplies the limit by 0.7 (floor 1), at most once per
 *   congestion window: answers to attempts started before the last decrease are ignored, so a
 *   burst of 429s that were in flight together lowers the limit once. Every definitive answer
 *   (succeeded, skipped, failed) adds 1/limit, i.e. +1 per `limit` answers (about one per round
 *   trip), up to `concurrency`; near the limit last refused the step shrinks (see increase()),
 *   so the pool overshoots the server's limit rarely instead of every few round trips.
 * - Attempt accounting: `policy.maxAttempts` bounds the attempts of an item, but attempts the
 *   server refused as rate limited (429: not processed, only "slow down") do not count against
 *   it, up to `rateLimitedRetries` of them (default 20, or 0 when the policy allows a single
 *   attempt). The pool slows itself down on 429s; the item should not fail because of the
 *   pool's own probing for the server's limit. `ItemOutcome.attempts` counts every attempt.
 * - Cancellation (`signal`): nothing new starts, timers stop, attempts in flight get an aborted
 *   signal and `cancelGraceMs` to settle (an answer that still arrives is recorded as it is);
 *   every other item ends failed with `cancelled: true`. runBulk resolves, it does not reject.
 */
import { setMaxListeners } from "node:events";
import type { HttpResponse } from "../http/client.ts";
import {
  type RetryPolicy,
  type Retryability,
  TransportError,
  delayBeforeRetry,
  parseRetryAfter,
  shouldRetry,
} from "../http/retry.ts";
import { type Clock, CancelledError, isCancelled } from "../runtime/clock.ts";
import { formatDuration } from "../runtime/duration.ts";
import type { Logger } from "../runtime/logger.ts";

/** The result of one try for one item. */
export type AttemptResult =
  | { kind: "succeeded"; detail?: string }
  | { kind: "skipped"; reason: string }
  /** Final: never retried. */
  | { kind: "failed"; reason: string; status?: number; code?: string }
  | {
      kind: "retry";
      reason: string;
      status?: number;
      code?: string;
      /** The server's Retry-After: pauses the whole pool and is a floor for this item's wait. */
      retryAfterMs?: number;
      /** The server refused for load (429): lowers the pool's concurrency. */
      rateLimited?: boolean;
    };

/** What became of one item; `onOutcome` gets exactly one per item. */
export interface ItemOutcome {
  name: string;
  outcome: "succeeded" | "skipped" | "failed";
  /** Attempts made, rate-limited ones included (0 when the run was cancelled before the first). */
  attempts: number;
  /** Why it was skipped or failed (the last attempt's reason). */
  reason?: string;
  /** The `detail` of a success. */
  detail?: string;
  status?: number;
  code?: string;
  /** Set when the item failed only because the run was cancelled. */
  cancelled?: boolean;
  /** From the start of the first attempt to the outcome (0 when never started). */
  durationMs: number;
}

export interface Progress {
  done: number;
  total: number;
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

export interface BulkOptions {
  items: readonly string[];
  /** The most attempts in flight at once: the ceiling the adaptive limit starts at. */
  concurrency: number;
  policy: RetryPolicy;
  clock: Clock;
  /** Cancels the run (workflow cancellation). */
  signal?: AbortSignal;
  /** For the backoff jitter; Math.random by default. */
  random?: () => number;
  /** One try for one item. `signal` aborts when the run is cancelled. May throw: see BulkRun. */
  attempt(name: string, signal: AbortSignal): Promise<AttemptResult>;
  /** Called exactly once per item, as soon as its outcome is known. */
  onOutcome?(o: ItemOutcome): void;
  /** Called at most every `progressIntervalMs`, also when nothing finishes for a while. */
  onProgress?(p: Progress): void;
  /** Default 5000. */
  progressIntervalMs?: number;
  /**
   * Calls `tick` every `everyMs` until the returned stop function is called; drives progress
   * lines in quiet periods (nothing finishing). Default: a real, unref'd interval timer, so a
   * test clock whose sleeps return at once cannot make it spin. Tests inject their own.
   */
  progressTicker?: (tick: () => void, everyMs: number) => () => void;
  /** Rate-limited attempts per item that do not count against `policy.maxAttempts`; see above. */
  rateLimitedRetries?: number;
  /** How long cancellation waits for attempts in flight to settle; default 1000. */
  cancelGraceMs?: number;
  /** Debug lines about concurrency changes and pauses. */
  logger?: Logger;
}

export interface BulkResult {
  succeeded: number;
  skipped: number;
  /** Failed items, cancelled ones included. */
  failed: number;
  /** Of `failed`, the items not done because the run was cancelled. */
  cancelledItems: number;
  cancelled: boolean;
  elapsedMs: number;
  total: number;
  finalConcurrency: number;
  minConcurrency: number;
  /** Answers flagged `rateLimited`. */
  rateLimitedResponses: number;
  /** Attempts scheduled again after a `retry` result. */
  retries: number;
}

export const CANCELLED_REASON = "not done: the run was cancelled";
/** AIMD: the limit is multiplied by this on a rate-limited answer (once per window). */
export const AIMD_DECREASE_FACTOR = 0.7;
/** AIMD: the smallest additive step per round trip, used right at the plateau. */
export const AIMD_PROBE_STEP = 1 / 16;
export const DEFAULT_RATE_LIMITED_RETRIES = 20;
export const DEFAULT_PROGRESS_INTERVAL_MS = 5000;
export const DEFAULT_CANCEL_GRACE_MS = 1000;

/** Runs `attempt` for every item; resolves once every item has an outcome. */
export async function runBulk(opts: BulkOptions): Promise<BulkResult> {
  return new BulkRun(opts).run();
}

interface ItemState {
  name: string;
  attempts: number;
  /** Attempts answered as rate limited. */
  rateLimited: number;
  firstStartedAt: number;
  /** Start order of the latest attempt (for the AIMD window). */
  seq: number;
  /** When a waiting retry may start. */
  dueAt: number;
  /** Set once the outcome is out; a late answer is then ignored. */
  done: boolean;
}

class BulkRun {
  private readonly o: BulkOptions;
  private readonly items: readonly string[];
  private readonly total: number;
  private readonly ceiling: number;
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly rateLimitedRetries: number;
  private readonly progressIntervalMs: number;
  private readonly cancelGraceMs: number;

  /** The adaptive limit (fractional; floor() of it is used). */
  private limit: number;
  private minLimit: number;
  private cursor = 0;
  private readonly inFlight = new Set<ItemState>();
  private readonly waiting = new DueHeap();
  private pausedUntil = 0;
  private seq = 0;
  /** Rate-limited answers to attempts with seq below this do not lower the limit again. */
  private decreaseBarrier = 0;
  /** The highest limit that was not rate limited before the last decrease; probed slowly. */
  private plateau = Infinity;

  private succeeded = 0;
  private skipped = 0;
  private failed = 0;
  private cancelledItems = 0;
  private retries = 0;
  private rateLimitedResponses = 0;

  private cancelling = false;
  private finished = false;
  private fatal: { error: unknown } | undefined;
  private readonly startedAt: number;
  private lastProgressAt: number;

  /** Aborts the attempts in flight on cancellation. */
  private readonly attemptCtl = new AbortController();
  /** Aborts the pool's own timers (progress, cancellation grace) when the run ends. */
  private readonly timerCtl = new AbortController();
  private wakeCtl: AbortController | undefined;
  private wakeAt = Infinity;
  private resolveDone: () => void = () => undefined;

  constructor(o: BulkOptions) {
    if (!Number.isInteger(o.concurrency) || o.concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number of at least 1; got ${o.concurrency}`);
    }
    this.o = o;
    this.items = o.items;
    this.total = o.items.length;
    this.ceiling = o.concurrency;
    this.limit = o.concurrency;
    this.minLimit = o.concurrency;
    this.policy = o.policy;
    this.clock = o.clock;
    this.random = o.random ?? Math.random;
    this.rateLimitedRetries =
      o.rateLimitedRetries ?? (o.policy.maxAttempts > 1 ? DEFAULT_RATE_LIMITED_RETRIES : 0);
    this.progressIntervalMs = o.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
    this.cancelGraceMs = o.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
    this.startedAt = this.clock.now();
    this.lastProgressAt = this.startedAt;
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
      if (this.o.onProgress && this.progressIntervalMs > 0 && Number.isFinite(this.progressIntervalMs)) {
        const ticker = this.o.progressTicker ?? realTicker;
        const stop = ticker(() => this.onTick(), this.progressIntervalMs);
        this.timerCtl.signal.addEventListener("abort", stop, { once: true });
      }
      this.pump();
    }
    await done;
    external?.removeEventListener("abort", onAbort);
    if (this.fatal) throw this.fatal.error;
    return {
      succeeded: this.succeeded,
      skipped: this.skipped,
      failed: this.failed,
      cancelledItems: this.cancelledItems,
      cancelled: this.cancelling,
      elapsedMs: this.clock.now() - this.startedAt,
      total: this.total,
      finalConcurrency: Math.floor(this.limit),
      minConcurrency: this.minLimit,
      rateLimitedResponses: this.rateLimitedResponses,
      retries: this.retries,
    };
  }

  /** Starts attempts while there is room, work that may start now, and no pause. */
  private pump(): void {
    if (this.cancelling || this.finished) return;
    const now = this.clock.now();
    while (!this.cancelling && this.inFlight.size < Math.floor(this.limit)) {
      if (now < this.pausedUntil) {
        this.wakeAtTime(this.pausedUntil);
        break;
      }
      const head = this.waiting.peek();
      let st: ItemState;
      if (head !== undefined && head.dueAt <= now) {
        this.waiting.pop();
        st = head;
      } else if (this.cursor < this.total) {
        st = newState(this.items[this.cursor++]!, now);
      } else {
        if (head !== undefined) this.wakeAtTime(head.dueAt);
        break;
      }
      this.start(st, now);
    }
    if (this.inFlight.size === 0 && this.waiting.size === 0 && this.cursor >= this.total) this.finish();
  }

  private start(st: ItemState, now: number): void {
    if (st.attempts === 0) st.firstStartedAt = now;
    st.attempts++;
    st.seq = this.seq++;
    this.inFlight.add(st);
    let p: Promise<AttemptResult>;
    try {
      p = this.o.attempt(st.name, this.attemptCtl.signal);
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
    if (this.cancelling && this.isCancellation(err)) {
      this.finalizeCancelled(st);
    } else {
      const code = err instanceof TransportError ? err.code : undefined;
      this.finalize(st, "failed", { reason: errorMessage(err), ...(code !== undefined ? { code } : {}) });
    }
    this.afterSettle();
  }

  private onResult(st: ItemState, r: AttemptResult): void {
    if (st.done) return;
    this.inFlight.delete(st);
    switch (r?.kind) {
      case "succeeded":
        this.increase();
        this.finalize(st, "succeeded", r.detail !== undefined ? { detail: r.detail } : {});
        break;
      case "skipped":
        this.increase();
        this.finalize(st, "skipped", { reason: r.reason });
        break;
      case "failed":
        this.increase();
        this.finalize(st, "failed", statusFields(r));
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
      this.decrease(st);
    }
    const ra = r.retryAfterMs;
    if (ra !== undefined && ra > 0 && ra <= this.policy.maxRetryAfterMs && now + ra > this.pausedUntil) {
      this.pausedUntil = now + ra;
      this.o.logger?.debug(`bulk: the server asked to wait ${formatDuration(ra)}; pausing all requests`);
    }
    if (this.cancelling) {
      this.finalizeCancelled(st);
      return;
    }
    const counted = st.attempts - Math.min(st.rateLimited, this.rateLimitedRetries);
    if (counted >= this.policy.maxAttempts) {
      this.finalize(st, "failed", statusFields(r));
      return;
    }
    const delay = delayBeforeRetry(st.attempts, this.policy, ra, this.random);
    if (delay === undefined) {
      const reason = `${r.reason}; the server asked to retry after ${formatDuration(ra ?? 0)}, longer than the ${formatDuration(this.policy.maxRetryAfterMs)} this run waits`;
      this.finalize(st, "failed", { ...statusFields(r), reason });
      return;
    }
    st.dueAt = now + delay;
    this.waiting.push(st);
    this.retries++;
  }

  private afterSettle(): void {
    if (this.cancelling) {
      if (this.inFlight.size === 0) this.finish();
      return;
    }
    this.pump();
  }

  /** Multiplicative decrease, once per window. */
  private decrease(st: ItemState): void {
    if (st.seq < this.decreaseBarrier) return;
    const before = Math.floor(this.limit);
    this.plateau = Math.max(1, before - 1);
    this.limit = Math.max(1, this.limit * AIMD_DECREASE_FACTOR);
    this.decreaseBarrier = this.seq;
    const after = Math.floor(this.limit);
    if (after < this.minLimit) this.minLimit = after;
    if (after !== before) this.o.logger?.debug(`bulk: rate limited; concurrency ${before} -> ${after}`);
  }

  /**
   * Additive increase: +1 per `limit` definitive answers (about +1 per round trip), up to the
   * ceiling. At and above the plateau (one below the limit that was last rate limited) the
   * step shrinks to 1/16 and grows back to 1 as the limit moves away from it (+2 above), so
   * the pool lingers just under the server's limit instead of overshooting it every few round
   * trips, and still finds a higher limit when the server recovers.
   */
  private increase(): void {
    if (this.limit >= this.ceiling) return;
    let step = 1;
    if (this.limit >= this.plateau) step = Math.min(1, Math.max(AIMD_PROBE_STEP, (this.limit - this.plateau) / 2));
    this.limit = Math.min(this.ceiling, this.limit + step / this.limit);
  }

  /** One clock timer wakes the dispatcher for the earliest pause end or due retry. */
  private wakeAtTime(at: number): void {
    if (this.wakeCtl !== undefined && this.wakeAt <= at) return;
    this.wakeCtl?.abort();
    const ctl = new AbortController();
    this.wakeCtl = ctl;
    this.wakeAt = at;
    this.clock.sleep(Math.max(0, at - this.clock.now()), ctl.signal).then(
      () => {
        if (this.wakeCtl !== ctl) return;
        this.wakeCtl = undefined;
        this.wakeAt = Infinity;
        this.pump();
      },
      () => undefined,
    );
  }

  private stopWake(): void {
    this.wakeCtl?.abort();
    this.wakeCtl = undefined;
    this.wakeAt = Infinity;
  }

  private finalize(st: ItemState, outcome: ItemOutcome["outcome"], fields: Partial<ItemOutcome>): void {
    st.done = true;
    const now = this.clock.now();
    if (outcome === "succeeded") this.succeeded++;
    else if (outcome === "skipped") this.skipped++;
    else this.failed++;
    if (fields.cancelled) this.cancelledItems++;
    this.emitOutcome({
      name: st.name,
      outcome,
      attempts: st.attempts,
      ...fields,
      durationMs: st.attempts === 0 ? 0 : now - st.firstStartedAt,
    });
    if (this.o.onProgress && !this.cancelling && now - this.lastProgressAt >= this.progressIntervalMs) {
      this.emitProgress(now);
    }
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

  private emitProgress(now: number): void {
    this.lastProgressAt = now;
    try {
      this.o.onProgress?.(this.progress(now));
    } catch (err) {
      this.fail(err);
    }
  }

  private progress(now: number): Progress {
    const done = this.succeeded + this.skipped + this.failed;
    const elapsedMs = now - this.startedAt;
    const ratePerSec = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
    return {
      done,
      total: this.total,
      succeeded: this.succeeded,
      skipped: this.skipped,
      failed: this.failed,
      ratePerSec,
      etaMs: ratePerSec > 0 ? Math.round(((this.total - done) / ratePerSec) * 1000) : undefined,
      concurrency: Math.floor(this.limit),
      elapsedMs,
    };
  }

  /** Reports progress when nothing finished for a whole interval. */
  private onTick(): void {
    if (this.finished || this.cancelling) return;
    const now = this.clock.now();
    if (now - this.lastProgressAt >= this.progressIntervalMs) this.emitProgress(now);
  }

  /** Cancellation: nothing new starts, waiting items end now, in-flight ones get a grace period. */
  private cancel(): void {
    if (this.cancelling || this.finished) return;
    this.cancelling = true;
    const external = this.o.signal;
    const reason: unknown = external?.aborted ? external.reason : undefined;
    this.attemptCtl.abort(reason instanceof Error ? reason : new CancelledError("the run was cancelled"));
    this.stopWake();
    for (let st = this.waiting.pop(); st !== undefined; st = this.waiting.pop()) this.finalizeCancelled(st);
    while (this.cursor < this.total) this.finalizeCancelled(newState(this.items[this.cursor++]!, 0));
    if (this.inFlight.size === 0) {
      this.finish();
      return;
    }
    this.clock.sleep(this.cancelGraceMs, this.timerCtl.signal).then(
      () => {
        for (const st of this.inFlight) this.finalizeCancelled(st);
        this.inFlight.clear();
        this.finish();
      },
      () => undefined,
    );
  }

  /** Whether a thrown error is the consequence of this run's cancellation. */
  private isCancellation(err: unknown): boolean {
    const reasons = [this.attemptCtl.signal.reason, this.o.signal?.reason];
    let e: unknown = err;
    for (let depth = 0; depth < 5 && e !== undefined && e !== null; depth++) {
      if (isCancelled(e) || reasons.includes(e)) return true;
      e = (e as { cause?: unknown }).cause;
    }
    return false;
  }

  /** A callback threw: stop as if cancelled, then reject runBulk with the first such error. */
  private fail(err: unknown): void {
    if (this.fatal === undefined) this.fatal = { error: err };
    this.cancel();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stopWake();
    this.timerCtl.abort();
    this.resolveDone();
  }
}

function realTicker(tick: () => void, everyMs: number): () => void {
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

function newState(name: string, now: number): ItemState {
  return { name, attempts: 0, rateLimited: 0, firstStartedAt: now, seq: 0, dueAt: 0, done: false };
}

function statusFields(r: { reason: string; status?: number; code?: string }): Partial<ItemOutcome> {
  return {
    reason: r.reason,
    ...(r.status !== undefined ? { status: r.status } : {}),
    ...(r.code !== undefined ? { code: r.code } : {}),
  };
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** A binary min-heap of waiting items by due time (ties: earlier start first). */
class DueHeap {
  private readonly a: ItemState[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): ItemState | undefined {
    return this.a[0];
  }

  push(st: ItemState): void {
    const a = this.a;
    a.push(st);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): ItemState | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && before(a[l]!, a[m]!)) m = l;
      if (r < a.length && before(a[r]!, a[m]!)) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
    return top;
  }
}

function before(x: ItemState, y: ItemState): boolean {
  return x.dueAt < y.dueAt || (x.dueAt === y.dueAt && x.seq < y.seq);
}

/**
 * The generic part of classifying one HTTP try for the pool: a transient status (429, 5xx) or a
 * transient network error becomes `retry` (as far as `retry` allows; bulk calls are idempotent),
 * with the Retry-After and the rate-limited flag of a 429. Anything else is for the operation
 * to map (2xx, 4xx, a permanent network error): undefined.
 */
export function classifyHttp(
  outcome: HttpResponse | TransportError | unknown,
  nowMs: number,
  retry: Retryability = "idempotent",
): AttemptResult | undefined {
  if (outcome instanceof TransportError) {
    return shouldRetry(retry, outcome) ? { kind: "retry", reason: outcome.message, code: outcome.code } : undefined;
  }
  if (!isHttpResponse(outcome) || outcome.status < 400 || !shouldRetry(retry, outcome)) return undefined;
  const retryAfterMs = parseRetryAfter(outcome.headers["retry-after"], nowMs);
  return {
    kind: "retry",
    reason: describeHttpFailure(outcome),
    status: outcome.status,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    rateLimited: outcome.status === 429,
  };
}

function isHttpResponse(x: unknown): x is HttpResponse {
  const r = x as Partial<HttpResponse> | null;
  return typeof r === "object" && r !== null && typeof r.status === "number" && typeof r.headers === "object";
}

/** `HTTP 404: <start of the body>`, for an item's reason. */
export function describeHttpFailure(res: Pick<HttpResponse, "status" | "body">, maxBodyChars = 200): string {
  let text = Buffer.isBuffer(res.body) ? res.body.toString("utf8").replace(/\s+/g, " ").trim() : "";
  if (text.length > maxBodyChars) text = `${text.slice(0, maxBodyChars)}…`;
  return text === "" ? `HTTP ${res.status}` : `HTTP ${res.status}: ${text}`;
}

/** One progress line: `1234/10000 done (12.3%), 850/s, 3 failed, ETA 10 s, concurrency 32`. */
export function formatProgress(p: Progress): string {
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

