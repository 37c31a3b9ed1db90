import { describe, expect, it } from "vitest";
import { runBulk } from "../../src/bulk/pool.ts";
import { type Progress, formatProgress } from "../../src/bulk/progress.ts";
import { type AttemptResult, type BulkOptions, type BulkResult, type ItemOutcome, CANCELLED_REASON } from "../../src/bulk/types.ts";
import { TransportError } from "../../src/http/retry.ts";
import type { RetryPolicy } from "../../src/runtime/retry-policy.ts";
import { CancelledError } from "../../src/runtime/clock.ts";
import { formatDuration } from "../../src/runtime/duration.ts";
import { FakeClock, seededRandom } from "../helpers/fake-clock.ts";

const policy: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 10_000 };
const ok: AttemptResult = { kind: "succeeded" };
const rateLimited: AttemptResult = { kind: "retry", reason: "HTTP 429", status: 429, rateLimited: true };

function names(n: number, prefix = "i-"): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

/** A run on a fake clock that records every outcome and every attempt start. */
/** A progress ticker driven by the fake clock: ticks every `everyMs` of virtual time. */
function clockTicker(clock: FakeClock): NonNullable<BulkOptions["progressTicker"]> {
  return (tick, everyMs) => {
    const ctl = new AbortController();
    void (async () => {
      for (;;) {
        try {
          await clock.sleep(everyMs, ctl.signal);
        } catch {
          return;
        }
        tick();
      }
    })();
    return () => ctl.abort();
  };
}

function harness(clock = new FakeClock()) {
  const outcomes: ItemOutcome[] = [];
  const starts: { name: string; at: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    clock,
    outcomes,
    starts,
    get maxInFlight() {
      return maxInFlight;
    },
    /** Wraps an attempt function to record starts and in-flight counts. */
    track(fn: BulkOptions["attempt"]): BulkOptions["attempt"] {
      return async (name, signal, history) => {
        starts.push({ name, at: clock.now() });
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          return await fn(name, signal, history);
        } finally {
          inFlight--;
        }
      };
    },
    options(o: Partial<BulkOptions> & Pick<BulkOptions, "items" | "attempt">): BulkOptions {
      return {
        concurrency: 4,
        policy,
        clock,
        random: () => 0.5,
        progressTicker: clockTicker(clock),
        onOutcome: (x) => outcomes.push(x),
        ...o,
        attempt: this.track(o.attempt),
      };
    },
    outcome(name: string): ItemOutcome {
      const found = outcomes.filter((x) => x.name === name);
      expect(found).toHaveLength(1);
      return found[0]!;
    },
  };
}

function expectEveryItemOnce(outcomes: ItemOutcome[], items: string[], result: BulkResult): void {
  expect(outcomes).toHaveLength(items.length);
  expect(new Set(outcomes.map((o) => o.name))).toEqual(new Set(items));
  expect(result.succeeded + result.skipped + result.failed).toBe(items.length);
  expect(result.total).toBe(items.length);
}

/** A server with `latencyMs` that answers 429 when more than `capacity(now)` requests are in flight. */
function fakeServer(clock: FakeClock, latencyMs: number, capacity: (now: number) => number) {
  let inFlight = 0;
  const server = {
    maxInFlight: 0,
    rejected: 0,
    attempt: async (_name: string, signal: AbortSignal): Promise<AttemptResult> => {
      inFlight++;
      server.maxInFlight = Math.max(server.maxInFlight, inFlight);
      const over = inFlight > capacity(clock.now());
      try {
        await clock.sleep(latencyMs, signal);
      } finally {
        inFlight--;
      }
      if (over) server.rejected++;
      return over ? rateLimited : ok;
    },
  };
  return server;
}

describe("runBulk: basics", () => {
  it("runs every item once and reports each outcome exactly once", async () => {
    const h = harness();
    const items = names(25);
    const t0 = h.clock.now();
    const result = await h.clock.run(
      runBulk(
        h.options({
          items,
          attempt: async (name) => {
            await h.clock.sleep(20);
            if (name === "i-3") return { kind: "skipped", reason: "already at the version" };
            return { kind: "succeeded", detail: `set ${name}` };
          },
        }),
      ),
    );
    expectEveryItemOnce(h.outcomes, items, result);
    expect(result).toMatchObject({ succeeded: 24, skipped: 1, failed: 0, cancelled: false, retries: 0 });
    expect(h.outcome("i-3")).toEqual({
      name: "i-3",
      outcome: "skipped",
      attempts: 1,
      reason: "already at the version",
      durationMs: 20,
    });
    expect(h.outcome("i-0")).toMatchObject({ outcome: "succeeded", detail: "set i-0", attempts: 1 });
    // 25 items, 4 at a time, 20 ms each: 7 waves
    expect(result.elapsedMs).toBe(140);
    expect(h.clock.now() - t0).toBe(140);
  });

  it("resolves at once for no items", async () => {
    const h = harness();
    const result = await runBulk(h.options({ items: [], attempt: async () => ok }));
    expect(result).toMatchObject({ total: 0, succeeded: 0, failed: 0, cancelled: false });
    expect(h.starts).toHaveLength(0);
  });

  it("rejects a concurrency that is not a whole number of at least 1", async () => {
    const h = harness();
    await expect(runBulk(h.options({ items: ["a"], concurrency: 0, attempt: async () => ok }))).rejects.toThrow(
      /concurrency/,
    );
    await expect(runBulk(h.options({ items: ["a"], concurrency: 2.5, attempt: async () => ok }))).rejects.toThrow(
      /concurrency/,
    );
  });

  it("never has more attempts in flight than the concurrency, and uses all of it", async () => {
    const h = harness();
    const rnd = seededRandom(7);
    const items = names(300);
    const result = await h.clock.run(
      runBulk(
        h.options({
          items,
          concurrency: 7,
          attempt: async () => {
            await h.clock.sleep(1 + Math.floor(rnd() * 50));
            return ok;
          },
        }),
      ),
    );
    expect(result.succeeded).toBe(300);
    expect(h.maxInFlight).toBe(7);
    expect(result.finalConcurrency).toBe(7);
  });

  it("sets no timer at all when nothing has to wait", async () => {
    const h = harness();
    const items = names(1000);
    const result = await runBulk(h.options({ items, concurrency: 16, attempt: async () => ok }));
    expect(result.succeeded).toBe(1000);
    expect(h.clock.sleeps).toBe(0);
  });

  it("handles 100,000 items", async () => {
    const clock = new FakeClock();
    const items = names(100_000);
    let outcomes = 0;
    const result = await runBulk({
      items,
      concurrency: 64,
      policy,
      clock,
      attempt: async (name) => (name.endsWith("7") ? { kind: "failed", reason: "no" } : ok),
      onOutcome: () => outcomes++,
    });
    expect(outcomes).toBe(100_000);
    expect(result).toMatchObject({ succeeded: 90_000, failed: 10_000, total: 100_000 });
  });
});

describe("runBulk: retries", () => {
  it("retries after the policy's backoff, then succeeds", async () => {
    const h = harness();
    const t0 = h.clock.now();
    let calls = 0;
    const result = await h.clock.run(
      runBulk(
        h.options({
          items: ["x"],
          attempt: async () =>
            ++calls < 3 ? { kind: "retry", reason: "HTTP 503", status: 503 } : { kind: "succeeded" },
        }),
      ),
    );
    expect(h.outcome("x")).toMatchObject({ outcome: "succeeded", attempts: 3, durationMs: 150 });
    expect(result.retries).toBe(2);
    // random 0.5: first retry after 0.5 * 100 ms, second after 0.5 * 200 ms
    expect(h.starts.map((s) => s.at - t0)).toEqual([0, 50, 150]);
  });

  it("tells each attempt its number and whether an earlier attempt of the item may have acted", async () => {
    const h = harness();
    const seen: Record<string, [number, boolean][]> = { lost: [], refused: [] };
    await h.clock.run(
      runBulk(
        h.options({
          items: ["lost", "refused"],
          attempt: async (name, _signal, history) => {
            seen[name]!.push([history.attempt, history.earlierMayHaveActed]);
            if (history.attempt === 1) return { kind: "retry", reason: "x", mayHaveActed: name === "lost" };
            if (history.attempt === 2) return { kind: "retry", reason: "HTTP 503", status: 503, mayHaveActed: false };
            return { kind: "succeeded" };
          },
        }),
      ),
    );
    // Once an attempt may have acted, every later attempt of that item is told so; other items are not.
    expect(seen).toEqual({ lost: [[1, false], [2, true], [3, true]], refused: [[1, false], [2, false], [3, false]] });
  });

  it("fails with the last reason, status, code and the attempt count once attempts are spent", async () => {
    const h = harness();
    let calls = 0;
    const result = await h.clock.run(
      runBulk(
        h.options({
          items: ["x", "y"],
          attempt: async (name) =>
            name === "x" ? { kind: "retry", reason: `HTTP 503 #${++calls}`, status: 503, code: "E503" } : ok,
        }),
      ),
    );
    expect(h.outcome("x")).toMatchObject({
      outcome: "failed",
      attempts: 3,
      reason: "HTTP 503 #3",
      status: 503,
      code: "E503",
    });
    expect(result).toMatchObject({ succeeded: 1, failed: 1, retries: 2, cancelledItems: 0 });
  });

  it("never retries a final failure", async () => {
    const h = harness();
    const result = await h.clock.run(
      runBulk(
        h.options({
          items: ["x"],
          attempt: async () => ({ kind: "failed", reason: "HTTP 404: no such instance", status: 404 }),
        }),
      ),
    );
    expect(h.outcome("x")).toEqual({
      name: "x",
      outcome: "failed",
      attempts: 1,
      reason: "HTTP 404: no such instance",
      status: 404,
      durationMs: 0,
    });
    expect(h.starts).toHaveLength(1);
    expect(result.retries).toBe(0);
  });

  it("an item waiting for its backoff holds no worker slot", async () => {
    const h = harness();
    const t0 = h.clock.now();
    let aCalls = 0;
    await h.clock.run(
      runBulk(
        h.options({
          items: ["a", "b", "c"],
          concurrency: 1,
          attempt: async (name) => {
            if (name === "a") return ++aCalls === 1 ? { kind: "retry", reason: "HTTP 500", status: 500 } : ok;
            await h.clock.sleep(10);
            return ok;
          },
        }),
      ),
    );
    // b and c run while a waits its 50 ms
    expect(h.starts.map((s) => [s.name, s.at - t0])).toEqual([
      ["a", 0],
      ["b", 0],
      ["c", 10],
      ["a", 50],
    ]);
  });

  it("a Retry-After pauses the whole pool: no attempt of any item starts before that instant", async () => {
    const h = harness();
    const t0 = h.clock.now();
    const items = names(20);
    let answered = false;
    const result = await h.clock.run(
      runBulk(
        h.options({
          items,
          attempt: async (name) => {
            if (name === "i-2" && !answered) {
              await h.clock.sleep(5);
              answered = true;
              return { kind: "retry", reason: "HTTP 503", status: 503, retryAfterMs: 1000 };
            }
            await h.clock.sleep(10);
            return ok;
          },
        }),
      ),
    );
    expect(result.succeeded).toBe(20);
    // i-2 answers at +5 asking for 1 s; i-0, i-1 and i-3 finish at +10 but free slots stay empty
    expect(h.starts.filter((s) => s.at >= t0 + 5 && s.at < t0 + 1005)).toEqual([]);
    expect(h.starts.filter((s) => s.at === t0 + 1005)).toHaveLength(4);
    const retried = h.starts.filter((s) => s.name === "i-2");
    expect(retried).toHaveLength(2);
    expect(retried[1]!.at).toBeGreaterThanOrEqual(t0 + 1005);
    expect(h.outcome("i-2").attempts).toBe(2);
  });

  it("a Retry-After longer than the policy accepts fails the item at once and pauses nothing", async () => {
    const h = harness();
    const items = names(8);
    const result = await h.clock.run(
      runBulk(
        h.options({
          items,
          attempt: async (name) => {
            await h.clock.sleep(10);
            return name === "i-0" ? { kind: "retry", reason: "HTTP 503", status: 503, retryAfterMs: 60_000 } : ok;
          },
        }),
      ),
    );
    expect(h.outcome("i-0")).toMatchObject({ outcome: "failed", attempts: 1, status: 503 });
    expect(h.outcome("i-0").reason).toMatch(/^HTTP 503; the server asked to retry after 1 min 00 s, longer than the 10.0 s/);
    expect(result.elapsedMs).toBe(20);
  });

  it("rate-limited answers do not spend the attempts budget (up to rateLimitedRetries)", async () => {
    const run = async (extra: Partial<BulkOptions>, p: RetryPolicy = { ...policy, maxAttempts: 2 }) => {
      const h = harness();
      let calls = 0;
      await h.clock.run(
        runBulk(h.options({ items: ["x"], policy: p, ...extra, attempt: async () => (++calls <= 5 ? rateLimited : ok) })),
      );
      return h.outcome("x");
    };
    expect(await run({})).toMatchObject({ outcome: "succeeded", attempts: 6 });
    expect(await run({ rateLimitedRetries: 0 })).toMatchObject({ outcome: "failed", attempts: 2, status: 429 });
    expect(await run({ rateLimitedRetries: 3 })).toMatchObject({ outcome: "failed", attempts: 5, status: 429 });
    // a policy of one attempt means never retry, 429 included
    expect(await run({}, { ...policy, maxAttempts: 1 })).toMatchObject({ outcome: "failed", attempts: 1 });
  });
});

describe("runBulk: adaptive concurrency", () => {
  it("lowers the limit once for a burst of 429s that were in flight together", async () => {
    const h = harness();
    let calls = 0;
    const items = names(200);
    const result = await h.clock.run(
      runBulk(
        h.options({
          items,
          concurrency: 32,
          attempt: async () => {
            const first = ++calls <= 32;
            await h.clock.sleep(20);
            return first ? rateLimited : ok;
          },
        }),
      ),
    );
    expect(result.rateLimitedResponses).toBe(32);
    expect(result.minConcurrency).toBe(22); // 32 * 0.7, once
    expect(result.failed).toBe(0);
  });

  it("finds a server's limit, then climbs back to the ceiling when the server recovers", async () => {
    const clock = new FakeClock();
    const h = harness(clock);
    const t0 = clock.now();
    const server = fakeServer(clock, 20, (now) => (now < t0 + 2000 ? 8 : Infinity));
    const items = names(3000);
    const concurrencyOverTime: number[] = [];
    const result = await clock.run(
      runBulk(
        h.options({
          items,
          concurrency: 20,
          policy: { ...policy, maxAttempts: 5 },
          random: seededRandom(1),
          attempt: server.attempt,
          progressIntervalMs: 100,
          onProgress: (p) => concurrencyOverTime.push(p.concurrency),
        }),
      ),
    );
    expect(result.failed).toBe(0);
    expect(result.rateLimitedResponses).toBeGreaterThan(0);
    expect(result.minConcurrency).toBeLessThanOrEqual(8);
    expect(result.finalConcurrency).toBe(20);
    // during the constrained phase the limit hovered around the server's capacity
    const constrained = concurrencyOverTime.slice(5, 19);
    expect(Math.max(...constrained)).toBeLessThanOrEqual(12);
    expect(h.maxInFlight).toBe(20);
  });

  it("bench shape (a): a server that takes the full concurrency runs at full speed", async () => {
    const clock = new FakeClock();
    const server = fakeServer(clock, 20, () => 64);
    const result = await clock.run(
      runBulk({ items: names(6400), concurrency: 64, policy, clock, attempt: server.attempt }),
    );
    expect(result.succeeded).toBe(6400);
    expect(result.elapsedMs).toBeLessThanOrEqual(1.2 * ((6400 * 20) / 64));
    expect(server.rejected).toBe(0);
  });

  it("bench shape (b): concurrency 32 against a server that takes 16 stays near 16 and loses nothing", async () => {
    const clock = new FakeClock();
    const server = fakeServer(clock, 20, () => 16);
    const items = names(4000);
    const result = await clock.run(
      runBulk({
        items,
        concurrency: 32,
        policy: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 15_000, maxRetryAfterMs: 120_000 },
        clock,
        random: seededRandom(42),
        attempt: server.attempt,
      }),
    );
    expect(result.failed).toBe(0);
    expect(result.succeeded).toBe(4000);
    expect(result.elapsedMs).toBeLessThanOrEqual(1.5 * ((4000 * 20) / 16));
    expect(result.rateLimitedResponses).toBe(server.rejected);
    // lingering just under the last limit that was refused (the plateau) keeps overshoots rare:
    // about 1.2x the ideal time and 12% refused here, against 1.4x and 22% with plain AIMD
    expect(result.elapsedMs).toBeLessThanOrEqual(1.3 * ((4000 * 20) / 16));
    expect(result.rateLimitedResponses).toBeLessThan(0.15 * 4000);
    expect(result.minConcurrency).toBeLessThan(16);
  });
});

describe("runBulk: cancellation", () => {
  it("mid-run: starts nothing new, aborts attempts in flight, accounts for every item, resolves at once", async () => {
    const h = harness();
    const ac = new AbortController();
    const items = names(50);
    const aborted: string[] = [];
    const p = runBulk(
      h.options({
        items,
        concurrency: 5,
        signal: ac.signal,
        attempt: async (name, signal) => {
          try {
            await h.clock.sleep(100, signal);
          } catch (err) {
            aborted.push(name);
            throw err;
          }
          return ok;
        },
      }),
    );
    let result: BulkResult | undefined;
    void p.then((r) => (result = r));
    await h.clock.advance(250); // two waves done, the third in flight
    expect(h.outcomes).toHaveLength(10);
    ac.abort();
    await h.clock.flush(); // no time passes
    expect(result).toBeDefined();
    expect(result).toMatchObject({ cancelled: true, succeeded: 10, failed: 40, cancelledItems: 40 });
    expectEveryItemOnce(h.outcomes, items, result!);
    expect(aborted).toEqual(["i-10", "i-11", "i-12", "i-13", "i-14"]);
    expect(h.starts).toHaveLength(15);
    for (const o of h.outcomes.filter((x) => x.outcome === "failed")) {
      expect(o).toMatchObject({ reason: CANCELLED_REASON, cancelled: true });
    }
    expect(h.outcome("i-12")).toMatchObject({ attempts: 1, durationMs: 50 });
    expect(h.outcome("i-40")).toMatchObject({ attempts: 0, durationMs: 0 });
    expect(h.clock.pending).toBe(0);
  });

  it("stops waiting for a backoff or a pause at once", async () => {
    const h = harness();
    const ac = new AbortController();
    const items = names(6);
    const p = runBulk(
      h.options({
        items,
        signal: ac.signal,
        attempt: async () => ({ kind: "retry", reason: "HTTP 503", status: 503, retryAfterMs: 5000 }),
      }),
    );
    let result: BulkResult | undefined;
    void p.then((r) => (result = r));
    await h.clock.advance(100);
    expect(h.clock.pending).toBeGreaterThan(0);
    ac.abort();
    await h.clock.flush();
    expect(result).toMatchObject({ cancelled: true, failed: 6, cancelledItems: 6 });
    expectEveryItemOnce(h.outcomes, items, result!);
    // the items that had been tried keep their attempt count
    expect(h.outcome("i-0")).toMatchObject({ attempts: 1, cancelled: true });
    expect(h.outcome("i-5")).toMatchObject({ attempts: 0, cancelled: true });
    expect(h.clock.pending).toBe(0);
  });

  it("gives attempts that ignore the signal a grace period, records what still answers, ignores what answers late", async () => {
    const h = harness();
    const ac = new AbortController();
    const items = ["quick", "slow", "never-started"];
    const p = runBulk(
      h.options({
        items,
        concurrency: 2,
        signal: ac.signal,
        cancelGraceMs: 1000,
        attempt: async (name) => {
          await h.clock.sleep(name === "quick" ? 600 : 5000); // ignores the signal
          return ok;
        },
      }),
    );
    let result: BulkResult | undefined;
    void p.then((r) => (result = r));
    await h.clock.advance(100);
    ac.abort();
    await h.clock.flush();
    expect(result).toBeUndefined();
    await h.clock.advance(1000);
    expect(result).toMatchObject({ cancelled: true, succeeded: 1, failed: 2, cancelledItems: 2 });
    expect(h.outcome("quick")).toMatchObject({ outcome: "succeeded" });
    expect(h.outcome("slow")).toMatchObject({ outcome: "failed", cancelled: true, attempts: 1 });
    await h.clock.advance(10_000); // the late answer of "slow" changes nothing
    expectEveryItemOnce(h.outcomes, items, result!);
  });

  it("starts nothing when the signal is already aborted", async () => {
    const h = harness();
    const items = names(5);
    const result = await runBulk(h.options({ items, signal: AbortSignal.abort(), attempt: async () => ok }));
    expect(h.starts).toHaveLength(0);
    expect(result).toMatchObject({ cancelled: true, failed: 5, cancelledItems: 5 });
    expectEveryItemOnce(h.outcomes, items, result);
  });

  it("a retry answer that arrives after cancellation ends the item as not done", async () => {
    const h = harness();
    const ac = new AbortController();
    const p = runBulk(
      h.options({
        items: ["x"],
        signal: ac.signal,
        attempt: async () => {
          await h.clock.sleep(100);
          return { kind: "retry", reason: "HTTP 503", status: 503 };
        },
      }),
    );
    await h.clock.advance(10);
    ac.abort();
    await h.clock.advance(100);
    const result = await p;
    expect(result).toMatchObject({ cancelled: true, failed: 1, retries: 0 });
    expect(h.outcome("x")).toMatchObject({ reason: CANCELLED_REASON, cancelled: true, attempts: 1 });
  });
});

describe("runBulk: errors thrown by an attempt", () => {
  it("fails the item with the error's message, never retries it, and keeps going", async () => {
    const h = harness();
    const items = ["async-throw", "sync-throw", "net", "cancel-not-by-us", "fine"];
    const result = await h.clock.run(
      runBulk(
        h.options({
          items,
          attempt: ((name: string) => {
            if (name === "sync-throw") throw new TypeError("bad thing");
            return (async (): Promise<AttemptResult> => {
              if (name === "async-throw") throw new Error("boom");
              if (name === "net") throw new TransportError("connection dropped", "ECONNRESET", false, true);
              if (name === "cancel-not-by-us") throw new CancelledError("timed out");
              return ok;
            })();
          }) as BulkOptions["attempt"],
        }),
      ),
    );
    expectEveryItemOnce(h.outcomes, items, result);
    expect(result).toMatchObject({ succeeded: 1, failed: 4, cancelled: false, retries: 0 });
    expect(h.outcome("async-throw")).toMatchObject({ outcome: "failed", reason: "boom", attempts: 1 });
    expect(h.outcome("sync-throw")).toMatchObject({ outcome: "failed", reason: "bad thing", attempts: 1 });
    expect(h.outcome("net")).toMatchObject({ outcome: "failed", reason: "connection dropped", code: "ECONNRESET" });
    expect(h.outcome("cancel-not-by-us")).toMatchObject({ outcome: "failed", reason: "timed out" });
    expect(h.outcome("cancel-not-by-us").cancelled).toBeUndefined();
  });

  it("survives 100,000 attempts that throw synchronously", async () => {
    const clock = new FakeClock();
    const result = await runBulk({
      items: names(100_000),
      concurrency: 8,
      policy,
      clock,
      attempt: () => {
        throw new Error("sync");
      },
    });
    expect(result).toMatchObject({ failed: 100_000, succeeded: 0 });
  });

  it("rejects when onOutcome throws, after accounting for the items, and starts nothing more", async () => {
    const clock = new FakeClock();
    let calls = 0;
    let starts = 0;
    const p = runBulk({
      items: names(100),
      concurrency: 2,
      policy,
      clock,
      attempt: async () => {
        starts++;
        await clock.sleep(10);
        return ok;
      },
      onOutcome: () => {
        if (++calls === 3) throw new Error("disk full");
      },
    });
    await expect(clock.run(p)).rejects.toThrow("disk full");
    expect(calls).toBe(100);
    expect(starts).toBe(4);
  });
});

describe("runBulk: progress", () => {
  it("reports at most every interval, and also when nothing finishes", async () => {
    const h = harness();
    const t0 = h.clock.now();
    const seen: { at: number; p: Progress }[] = [];
    const items = names(10);
    await h.clock.run(
      runBulk(
        h.options({
          items,
          concurrency: 1,
          progressIntervalMs: 1000,
          onProgress: (p) => seen.push({ at: h.clock.now() - t0, p }),
          attempt: async (name) => {
            await h.clock.sleep(name === "i-5" ? 4000 : 300);
            return name === "i-1" ? { kind: "failed", reason: "no" } : ok;
          },
        }),
      ),
    );
    // items end at 300, 600, ..., 1500, then i-5 at 5500, then every 300 ms up to 6700;
    // the timer reports at 2000-5000 (nothing ends) and 6000
    const at = seen.map((s) => s.at);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(1000);
    expect(at).toEqual([1000, 2000, 3000, 4000, 5000, 6000]);
    expect(seen[0]!.p).toEqual({
      done: 3,
      total: 10,
      succeeded: 2,
      skipped: 0,
      failed: 1,
      ratePerSec: 3,
      etaMs: 2333,
      concurrency: 1,
      elapsedMs: 1000,
    });
    // quiet period: the timer still reports
    expect(seen.slice(1, 5).map((s) => s.p.done)).toEqual([5, 5, 5, 5]);
  });

  it("has no ETA before anything is done", async () => {
    const h = harness();
    const seen: Progress[] = [];
    await h.clock.run(
      runBulk(
        h.options({
          items: ["slow"],
          progressIntervalMs: 1000,
          onProgress: (p) => seen.push(p),
          attempt: async () => {
            await h.clock.sleep(2500);
            return ok;
          },
        }),
      ),
    );
    expect(seen.map((p) => [p.done, p.etaMs, p.ratePerSec])).toEqual([
      [0, undefined, 0],
      [0, undefined, 0],
    ]);
  });

  it("formats one human line", () => {
    const base: Progress = {
      done: 1234,
      total: 10000,
      succeeded: 1231,
      skipped: 0,
      failed: 3,
      ratePerSec: 850.4,
      etaMs: 10_000,
      concurrency: 32,
      elapsedMs: 1450,
    };
    expect(formatProgress(base)).toBe("1234/10000 done (12.3%), 850/s, 3 failed, ETA 10.0 s, concurrency 32");
    expect(formatProgress({ ...base, failed: 0, skipped: 5, ratePerSec: 2.46, etaMs: 245_000 })).toBe(
      "1234/10000 done (12.3%), 2.5/s, 5 skipped, ETA 4 min 05 s, concurrency 32",
    );
    expect(formatProgress({ ...base, done: 0, failed: 0, ratePerSec: 0, etaMs: undefined })).toBe(
      "0/10000 done (0.0%), 0.0/s, ETA unknown, concurrency 32",
    );
    expect(formatProgress({ ...base, done: 10000, failed: 0, etaMs: 0 })).toBe(
      "10000/10000 done (100.0%), 850/s, concurrency 32",
    );
    expect(formatProgress({ ...base, done: 0, total: 0, failed: 0 })).toContain("0/0 done (100.0%)");
  });

  it("formats durations", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(10_400)).toBe("10.4 s");
    expect(formatDuration(245_000)).toBe("4 min 05 s");
    expect(formatDuration(7_380_000)).toBe("2 h 03 min");
  });
});
