import { describe, expect, it } from "vitest";
import { runBulk } from "../../src/bulk/pool.ts";
import { type Progress, formatProgress } from "../../src/bulk/progress.ts";
import type { ItemOutcome } from "../../src/bulk/types.ts";
import type { RetryPolicy } from "../../src/runtime/retry-policy.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const policy: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 10_000 };

/** A promise and its resolver. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("bulk runs fed by an async source", () => {
  it("starts the first item before the source has yielded its second", async () => {
    const secondMayCome = deferred();
    const events: string[] = [];
    async function* source(): AsyncGenerator<string> {
      events.push("yield a");
      yield "a";
      await secondMayCome.promise;
      events.push("yield b");
      yield "b";
    }
    const outcomes: ItemOutcome[] = [];
    const result = await runBulk({
      items: source(),
      concurrency: 4,
      policy,
      clock: new FakeClock(),
      attempt: async (name) => {
        events.push(`start ${name}`);
        if (name === "a") secondMayCome.resolve();
        return { kind: "succeeded" };
      },
      onOutcome: (o) => outcomes.push(o),
    });
    expect(events).toEqual(["yield a", "start a", "yield b", "start b"]);
    expect(outcomes.map((o) => o.name)).toEqual(["a", "b"]);
    expect(result.total).toBe(2);
  });

  it("reads no further ahead than the read-ahead while attempts are busy", async () => {
    let read = 0;
    let maxAhead = 0;
    let started = 0;
    async function* source(): AsyncGenerator<string> {
      for (let i = 0; i < 2000; i++) {
        read++;
        maxAhead = Math.max(maxAhead, read - started);
        yield `i-${i}`;
      }
    }
    const result = await runBulk({
      items: source(),
      concurrency: 4,
      readAhead: 10,
      policy,
      clock: new FakeClock(),
      attempt: async () => {
        started++;
        await new Promise((r) => setImmediate(r));
        return { kind: "succeeded" };
      },
    });
    expect(result.succeeded).toBe(2000);
    // At most: the read-ahead buffer, plus the one item being read.
    expect(maxAhead).toBeLessThanOrEqual(11);
  });

  it("counts a read from the source (a listing page) as a request: never more than the concurrency at once", async () => {
    // A listing with pages of 10, each page a request that takes a while, like the attempts.
    let inFlight = 0;
    let peak = 0;
    let pages = 0;
    const busy = async (): Promise<void> => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      inFlight--;
    };
    async function* source(): AsyncGenerator<string> {
      for (let p = 0; p < 30; p++) {
        await busy();
        pages++;
        for (let i = 0; i < 10; i++) yield `p${p}-${i}`;
      }
    }
    const result = await runBulk({
      items: source(),
      concurrency: 4,
      readAhead: 20,
      policy,
      clock: new FakeClock(),
      attempt: async () => {
        await busy();
        return { kind: "succeeded" };
      },
    });
    expect(result.succeeded).toBe(300);
    expect(pages).toBe(30);
    // The read took one of the four slots whenever it ran: four requests at most, and four reached.
    expect(peak).toBe(4);
  });

  it("says the total is unknown while the source is read, and knows it once it has ended", async () => {
    const clock = new FakeClock();
    const lines: Progress[] = [];
    const gate = deferred();
    async function* source(): AsyncGenerator<string> {
      yield "a";
      yield "b";
      await gate.promise;
      yield "c";
    }
    await runBulk({
      items: source(),
      concurrency: 1,
      policy,
      clock,
      progressIntervalMs: 10,
      progressTicker: () => () => undefined,
      attempt: async (name) => {
        await clock.advance(20);
        if (name === "b") gate.resolve();
        return { kind: "succeeded" };
      },
      onProgress: (p) => lines.push(p),
    });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]!.total).toBeUndefined();
    expect(formatProgress(lines[0]!)).toMatch(/^1 done \(total unknown: still reading the list\), /);
    expect(formatProgress(lines[0]!)).not.toMatch(/ETA/);
    expect(lines.at(-1)!.total).toBe(3);
  });

  it("on cancellation accounts for the items read but not started, and stops reading", async () => {
    const ctl = new AbortController();
    let read = 0;
    let closed = false;
    async function* source(): AsyncGenerator<string> {
      try {
        for (let i = 0; i < 100; i++) {
          read++;
          yield `i-${i}`;
        }
      } finally {
        closed = true;
      }
    }
    const outcomes: ItemOutcome[] = [];
    const run = runBulk({
      items: source(),
      concurrency: 2,
      readAhead: 5,
      policy,
      clock: new FakeClock(),
      signal: ctl.signal,
      // The two attempts in flight answer when cancelled.
      attempt: (_name, signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve({ kind: "succeeded" }), { once: true })),
      onOutcome: (o) => outcomes.push(o),
    });
    while (read < 6) await new Promise((r) => setImmediate(r));
    // Both slots busy: the read-ahead (now four) is not topped up until a slot frees.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    ctl.abort();
    const result = await run;
    expect(result.cancelled).toBe(true);
    // The first item, then a full read-ahead of five: no more.
    expect(read).toBe(6);
    // Every item read has exactly one outcome: the two in flight answered, the rest were cancelled.
    expect(outcomes.length).toBe(read);
    expect(new Set(outcomes.map((o) => o.name)).size).toBe(read);
    expect(outcomes.filter((o) => o.outcome === "succeeded").map((o) => o.name)).toEqual(["i-0", "i-1"]);
    expect(outcomes.filter((o) => o.cancelled).length).toBe(4);
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(true);
  });

  it("rejects with the source's error, after accounting for the items it had read", async () => {
    async function* source(): AsyncGenerator<string> {
      yield "a";
      throw new Error("listing failed");
    }
    const outcomes: ItemOutcome[] = [];
    await expect(
      runBulk({ items: source(), concurrency: 2, policy, clock: new FakeClock(), cancelGraceMs: 0, attempt: async () => ({ kind: "succeeded" }), onOutcome: (o) => outcomes.push(o) }),
    ).rejects.toThrow("listing failed");
    expect(outcomes.map((o) => o.name)).toEqual(["a"]);
  });
});
