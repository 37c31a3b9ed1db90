/**
 * One failed HTTP try, classified for a caller that retries on its own schedule (the bulk pool):
 * transient (try again, with the server's Retry-After and whether it was a 429) or not (left to
 * the caller's own mapping of 2xx/4xx/permanent network errors).
 */
import type { TransientFailure } from "../runtime/retry-policy.ts";
import type { HttpResponse } from "./client.ts";
import { type Retryability, TransportError, mayHaveActed, parseRetryAfter, shouldRetry } from "./retry.ts";

/**
 * A transient status (429, 5xx) or a transient network error becomes a TransientFailure (as far
 * as `retry` allows; bulk calls are idempotent). Anything else is for the caller to map: undefined.
 */
export function classifyHttp(
  outcome: HttpResponse | TransportError | unknown,
  nowMs: number,
  retry: Retryability = "idempotent",
): (TransientFailure & { mayHaveActed: boolean }) | undefined {
  if (outcome instanceof TransportError) {
    return shouldRetry(retry, outcome)
      ? { kind: "retry", reason: outcome.message, code: outcome.code, mayHaveActed: mayHaveActed(outcome) }
      : undefined;
  }
  if (!isHttpResponse(outcome) || outcome.status < 400 || !shouldRetry(retry, outcome)) return undefined;
  const retryAfterMs = parseRetryAfter(outcome.headers["retry-after"], nowMs);
  return {
    kind: "retry",
    reason: describeHttpFailure(outcome),
    status: outcome.status,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    rateLimited: outcome.status === 429,
    mayHaveActed: mayHaveActed(outcome),
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
