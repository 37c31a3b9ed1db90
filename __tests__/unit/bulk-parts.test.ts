import { describe, expect, it } from "vitest";
import { DueHeap } from "../../src/bulk/due-heap.ts";
import { planRetry } from "../../src/bulk/retry-plan.ts";
import type { RetryPolicy } from "../../src/runtime/retry-policy.ts";

describe("DueHeap", () => {
  it("pops by due time, ties by start order, whatever the push order", () => {
    const h = new DueHeap<{ dueAt: number; seq: number; id: string }>();
    const items = [
      { dueAt: 50, seq: 3, id: "c" },
      { dueAt: 10, seq: 9, id: "a" },
      { dueAt: 50, seq: 1, id: "b" },
      { dueAt: 70, seq: 0, id: "d" },
      { dueAt: 10, seq: 2, id: "a0" },
    ];
    for (const i of items) h.push(i);
    expect(h.size).toBe(5);
    expect(h.peek()?.id).toBe("a0");
    const order: string[] = [];
    for (let x = h.pop(); x !== undefined; x = h.pop()) order.push(x.id);
    expect(order).toEqual(["a0", "a", "b", "c", "d"]);
    expect(h.size).toBe(0);
    expect(h.pop()).toBeUndefined();
  });

  it("stays ordered over many random pushes and pops", () => {
    const h = new DueHeap<{ dueAt: number; seq: number }>();
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let last = -Infinity;
    for (let i = 0; i < 2000; i++) h.push({ dueAt: Math.floor(rnd() * 500), seq: i });
    for (let x = h.pop(); x !== undefined; x = h.pop()) {
      expect(x.dueAt).toBeGreaterThanOrEqual(last);
      last = x.dueAt;
    }
  });
});

describe("planRetry", () => {
  const policy: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 10_000 };
  const half = () => 0.5;

  it("waits the backoff (Retry-After as a floor) while attempts are left", () => {
    expect(planRetry({ attempts: 1, rateLimited: 0 }, policy, 20, undefined, "HTTP 503", half)).toEqual({ kind: "wait", delayMs: 50 });
    expect(planRetry({ attempts: 2, rateLimited: 0 }, policy, 20, 3000, "HTTP 503", half)).toEqual({ kind: "wait", delayMs: 3000 });
  });

  it("gives up once the counted attempts are spent; rate-limited ones count only past rateLimitedRetries", () => {
    expect(planRetry({ attempts: 3, rateLimited: 0 }, policy, 20, undefined, "r", half)).toEqual({ kind: "give-up" });
    expect(planRetry({ attempts: 3, rateLimited: 2 }, policy, 20, undefined, "r", half).kind).toBe("wait");
    expect(planRetry({ attempts: 3, rateLimited: 2 }, policy, 0, undefined, "r", half)).toEqual({ kind: "give-up" });
  });

  it("gives up at once on a Retry-After longer than the policy waits, and says so", () => {
    const plan = planRetry({ attempts: 1, rateLimited: 1 }, policy, 20, 60_000, "HTTP 429", half);
    expect(plan).toEqual({ kind: "give-up", reason: "HTTP 429; the server asked to retry after 1 min 00 s, longer than the 10.0 s this run waits" });
  });
});

describe("planRetry with a bound", () => {
  const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 120_000 };
  it("ends the item when the next wait would pass its bound, quoting a Retry-After", () => {
    const bound = { elapsedMs: 4000, boundMs: 10_000 };
    expect(planRetry({ attempts: 1, rateLimited: 0 }, policy, 20, 5000, "HTTP 429", () => 0.5, bound)).toEqual({ kind: "wait", delayMs: 5000 });
    expect(planRetry({ attempts: 1, rateLimited: 0 }, policy, 20, 6000, "HTTP 429", () => 0.5, bound)).toEqual({
      kind: "give-up",
      reason: "HTTP 429; the server asked to retry after 6.0 s, which would pass this item's bound of 10.0 s (max-attempts x request-timeout-seconds)",
    });
  });
});

describe("RefusalWatch", () => {
  it("says stop only once every answer for the window was a refusal", async () => {
    const { RefusalWatch } = await import("../../src/bulk/refusal-watch.ts");
    const w = new RefusalWatch(10_000, 0);
    expect(w.refused(5000)).toBeUndefined();
    w.answered(6000);
    expect(w.refused(15_000)).toBeUndefined();
    expect(w.refused(16_000)).toMatch(/^every answer for 10\.0 s \(2 of them\) was a refusal \(429 or 5xx\) and none a success/);
  });
});
