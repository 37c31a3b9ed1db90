import { formatDuration } from "../runtime/duration.ts";
import { type RetryPolicy, delayBeforeRetry } from "../runtime/retry-policy.ts";

/** What the pool does with an item after a `retry` result: wait `delayMs` and try again, or give up. */
export type RetryPlan = { kind: "wait"; delayMs: number } | { kind: "give-up"; reason?: string };

/**
 * The retry decision for one item, pure. `attempts` counts every attempt made; up to
 * `rateLimitedRetries` of the `rateLimited` ones (429: refused unprocessed, "slow down") do not
 * count against `policy.maxAttempts`. A Retry-After the policy will not wait for ends the item at
 * once, with a reason that says so.
 */
export function planRetry(
  item: { attempts: number; rateLimited: number },
  policy: RetryPolicy,
  rateLimitedRetries: number,
  retryAfterMs: number | undefined,
  reason: string,
  random: () => number,
  bound?: { elapsedMs: number; boundMs: number },
): RetryPlan {
  const counted = item.attempts - Math.min(item.rateLimited, rateLimitedRetries);
  if (counted >= policy.maxAttempts) return { kind: "give-up" };
  const delayMs = delayBeforeRetry(item.attempts, policy, retryAfterMs, random);
  if (delayMs !== undefined && bound && bound.elapsedMs + delayMs >= bound.boundMs) {
    const asked = retryAfterMs !== undefined && retryAfterMs >= delayMs ? `the server asked to retry after ${formatDuration(retryAfterMs)}, which` : "another try";
    return { kind: "give-up", reason: `${reason}; ${asked} would pass this item's bound of ${formatDuration(bound.boundMs)} (max-attempts x request-timeout-seconds)` };
  }
  if (delayMs !== undefined) return { kind: "wait", delayMs };
  return {
    kind: "give-up",
    reason: `${reason}; the server asked to retry after ${formatDuration(retryAfterMs ?? 0)}, longer than the ${formatDuration(policy.maxRetryAfterMs)} this run waits`,
  };
}
