/**
 * The one retry policy of the action, as numbers and pure functions: how many attempts, how long
 * to wait before the next one (exponential backoff with full jitter, never shorter than the
 * server's Retry-After), and which Retry-After is too long to wait for. The HTTP retry loop
 * (http/client.ts) and the bulk scheduler (bulk/pool.ts) both use it, so the rules live only here.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included (1 = never retry). */
  maxAttempts: number;
  /** Backoff ceiling of the first retry; doubles with each further attempt. */
  baseDelayMs: number;
  /** Backoff never exceeds this (Retry-After may ask for more, up to maxRetryAfterMs). */
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the failure is final. */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 15_000,
  maxRetryAfterMs: 120_000,
};

/** Full-jitter backoff for the `retryNumber`-th retry (1 = first retry). */
export function backoffMs(retryNumber: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retryNumber - 1));
  return Math.floor(random() * ceiling);
}

/**
 * How long to wait before the next attempt, or undefined when the server asked for a wait
 * longer than the policy accepts. Retry-After is a floor: we never come back sooner.
 */
export function delayBeforeRetry(
  retryNumber: number,
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) return undefined;
  const jitter = backoffMs(retryNumber, policy, random);
  return retryAfterMs === undefined ? jitter : Math.max(retryAfterMs, jitter);
}

/**
 * A transient failure: worth another attempt. The HTTP layer classifies answers into it and the
 * bulk pool schedules on it, so both speak this one shape.
 */
export interface TransientFailure {
  kind: "retry";
  reason: string;
  status?: number;
  code?: string;
  /** The server's Retry-After, in ms from now: pauses the whole pool and is a floor for this item's wait. */
  retryAfterMs?: number;
  /** The server refused for load (429): lowers the pool's concurrency. */
  rateLimited?: boolean;
  /** The server may have carried this try out although it failed (its answer was lost, or a 500/502/504). */
  mayHaveActed?: boolean;
}
