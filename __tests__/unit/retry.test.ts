import { describe, expect, it } from "vitest";
import { TransportError, parseRetryAfter, shouldRetry, toTransportError } from "../../src/http/retry.ts";
import { backoffMs, defaultRetryPolicy, delayBeforeRetry } from "../../src/runtime/retry-policy.ts";

describe("retry policy", () => {
  it("parses Retry-After in seconds and as an HTTP date", () => {
    const now = Date.parse("2026-11-22T10:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Sun, 22 Nov 2026 10:00:07 GMT", now)).toBe(7000);
    expect(parseRetryAfter("Sun, 22 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });

  it("uses full jitter under an exponential ceiling", () => {
    const p = { ...defaultRetryPolicy, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffMs(1, p, () => 0.999)).toBe(99);
    expect(backoffMs(3, p, () => 0.999)).toBe(399);
    expect(backoffMs(10, p, () => 0.999)).toBe(999);
    expect(backoffMs(3, p, () => 0)).toBe(0);
  });

  it("never comes back sooner than Retry-After, and gives up past the longest accepted wait", () => {
    const p = { ...defaultRetryPolicy, baseDelayMs: 100, maxRetryAfterMs: 60_000 };
    expect(delayBeforeRetry(1, p, 5000, () => 0.5)).toBe(5000);
    expect(delayBeforeRetry(1, p, 10, () => 0.5)).toBe(50);
    expect(delayBeforeRetry(1, p, 61_000, () => 0.5)).toBeUndefined();
  });

  it("retries idempotent calls on 429, 5xx and transient network errors only", () => {
    for (const s of [429, 500, 502, 503, 504]) expect(shouldRetry("idempotent", { status: s })).toBe(true);
    for (const s of [400, 401, 403, 404, 409, 501]) expect(shouldRetry("idempotent", { status: s })).toBe(false);
    expect(shouldRetry("idempotent", toTransportError({ code: "ECONNRESET", message: "x" }))).toBe(true);
    expect(shouldRetry("idempotent", toTransportError({ code: "ENOTFOUND", message: "x" }))).toBe(false);
  });

  it("retries a non-idempotent call only when the server surely did not act", () => {
    expect(shouldRetry("unsent-only", { status: 429 })).toBe(true);
    expect(shouldRetry("unsent-only", { status: 503 })).toBe(false);
    expect(shouldRetry("unsent-only", toTransportError({ code: "ECONNREFUSED", message: "x" }))).toBe(true);
    expect(shouldRetry("unsent-only", toTransportError({ code: "ECONNRESET", message: "x" }))).toBe(false);
    expect(shouldRetry("none", { status: 503 })).toBe(false);
  });

  it("describes network errors readably", () => {
    const e = toTransportError(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }));
    expect(e).toBeInstanceOf(TransportError);
    expect(e.message).toMatch(/^connection dropped/);
    expect(e.transient).toBe(true);
    expect(e.unsent).toBe(false);
  });
});
