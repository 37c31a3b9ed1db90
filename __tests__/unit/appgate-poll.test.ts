import { describe, expect, it } from "vitest";
import { pollUntil, PollTimeoutError, type Probe } from "../../src/appgate/run/poll.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

/** A clock that records every sleep. */
function recordingClock(): { clock: FakeClock; sleeps: number[] } {
  const clock = new FakeClock();
  const sleeps: number[] = [];
  const sleep = clock.sleep.bind(clock);
  clock.sleep = (ms, s) => {
    sleeps.push(ms);
    return sleep(ms, s);
  };
  return { clock, sleeps };
}

describe("pollUntil", () => {
  it("waits the initial delay, doubling up to the cap, while nothing changes", async () => {
    const { clock, sleeps } = recordingClock();
    let looks = 0;
    await clock.run(
      pollUntil(async (): Promise<Probe<number>> => (++looks > 8 ? { done: true, value: looks } : { done: false, seen: "installing" }), {
        clock,
        signal: new AbortController().signal,
        backoff: { initialMs: 1000, maxMs: 10_000 },
        deadline: clock.now() + 3_600_000,
        awaiting: "x",
        delayFirst: true,
      }),
    );
    expect(sleeps).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000, 10_000]);
  });

  function scripted(seen: (t: number) => string | undefined, clock: FakeClock): () => Promise<Probe<number>> {
    return async () => {
      const s = seen(clock.now() - start);
      return s === undefined ? { done: true, value: clock.now() - start } : { done: false, seen: s };
    };
  }
  let start = 0;

  it("reports changes at once and a heartbeat while nothing changes; starts the backoff again on a change", async () => {
    const clock = new FakeClock();
    start = clock.now();
    const lines: string[] = [];
    const probe = scripted((t) => (t < 40_000 ? "installing" : t < 50_000 ? "unreachable" : undefined), clock);
    const took = await clock.run(
      pollUntil(probe, {
        clock,
        signal: new AbortController().signal,
        backoff: { initialMs: 1000, maxMs: 10_000 },
        deadline: start + 3_600_000,
        awaiting: "x",
        heartbeatMs: 20_000,
        onSeen: (s, since) => lines.push(since === 0 ? s : `${s} ${since}`),
      }),
    );
    // installing seen at 0,1,3,7,15,25,35,45(unreachable) → backoff again: 46, 48, 52 → done
    expect(took).toBe(52_000);
    expect(lines).toEqual(["installing", "installing 25000", "unreachable"]);
  });

  it("never sleeps past the deadline and fails with what it saw last", async () => {
    const { clock, sleeps } = recordingClock();
    start = clock.now();
    const p = pollUntil(scripted(() => "busy", clock), {
      clock,
      signal: new AbortController().signal,
      backoff: { initialMs: 1000, maxMs: 10_000 },
      deadline: start + 12_500,
      awaiting: "ctrl-2 to be ready",
    });
    const err = await clock.run(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PollTimeoutError);
    expect((err as Error).message).toBe("timed out after 13 s waiting for ctrl-2 to be ready (last seen: busy)");
    expect(sleeps).toEqual([1000, 2000, 4000, 5500]);
  });

  it("rejects with the cancellation as soon as the signal aborts", async () => {
    const clock = new FakeClock();
    start = clock.now();
    const ac = new AbortController();
    const p = pollUntil(scripted(() => "installing", clock), {
      clock,
      signal: ac.signal,
      backoff: { initialMs: 1000, maxMs: 10_000 },
      deadline: start + 3_600_000,
      awaiting: "x",
    });
    await clock.advance(5_000);
    ac.abort();
    await expect(p).rejects.toThrow();
    expect(clock.pending).toBe(0);
  });
});
