/** What the bulk scheduler (pool.ts) takes and gives: one attempt's result, one item's outcome, the run's options and result. */
import type { Clock } from "../runtime/clock.ts";
import type { Logger } from "../runtime/logger.ts";
import type { RetryPolicy, TransientFailure } from "../runtime/retry-policy.ts";
import type { Progress } from "./progress.ts";

/** The result of one try for one item. */
export type AttemptResult =
  | { kind: "succeeded"; detail?: string }
  | { kind: "skipped"; reason: string }
  /** Final: never retried. */
  | {
      kind: "failed";
      reason: string;
      status?: number;
      code?: string;
      /** Nothing was sent: the operation decided without a request (not counted as an attempt). */
      notSent?: boolean;
    }
  /**
   * Not now: the item waits, holding no slot, until `until` settles, then starts again (this try
   * is not counted as an attempt). E.g. instances waiting for a probe of their kind.
   */
  | { kind: "defer"; until: Promise<unknown> }
  | TransientFailure;

/** What the pool knows of an item's earlier attempts, handed to its next one. */
export interface AttemptHistory {
  /** This attempt's number, 1 for the first. */
  attempt: number;
  /** An earlier attempt failed in a way the server may have acted on. */
  earlierMayHaveActed: boolean;
}

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

export interface BulkOptions {
  /**
   * The items: a list, or an async source read while the run goes (each item is started as soon
   * as it is read). A source that throws stops the run like a callback that throws.
   */
  items: readonly string[] | AsyncIterable<string>;
  /** Items read ahead of the scheduler from an async source; default max(256, 4 × concurrency). */
  readAhead?: number;
  /** The most attempts in flight at once: the ceiling the adaptive limit starts at. */
  concurrency: number;
  policy: RetryPolicy;
  clock: Clock;
  /** Cancels the run (workflow cancellation). */
  signal?: AbortSignal;
  /** For the backoff jitter; Math.random by default. */
  random?: () => number;
  /** One try for one item. `signal` aborts when the run is cancelled. May throw: see BulkRun. */
  attempt(name: string, signal: AbortSignal, history: AttemptHistory): Promise<AttemptResult>;
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
  /**
   * One item's attempts and waits together take at most this long (max-attempts x the request
   * timeout): a retry whose wait would pass it ends the item. Default: no bound.
   */
  itemBoundMs?: number;
  /** The run stops when every answer for this long has been a refusal (429/5xx); see RefusalWatch. Default: never. */
  refusalWindowMs?: number;
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
  /** Items the run had (for a source: read before it ended or the run was cancelled). */
  total: number;
  finalConcurrency: number;
  minConcurrency: number;
  /** Answers flagged `rateLimited`. */
  rateLimitedResponses: number;
  /** Attempts scheduled again after a `retry` result. */
  retries: number;
  /** Why the run stopped early on its own (only refusals for too long); the items not done are `cancelledItems`. */
  stopped?: string;
}

export const CANCELLED_REASON = "not done: the run was cancelled";
export const STOPPED_REASON = "not done: the run stopped, the server only refused (429/5xx) for too long";
export const DEFAULT_RATE_LIMITED_RETRIES = 20;
export const DEFAULT_PROGRESS_INTERVAL_MS = 5000;
export const DEFAULT_CANCEL_GRACE_MS = 1000;
export const DEFAULT_READ_AHEAD = 256;
