import { describe, expect, it } from "vitest";
import { type LogEntryLike, type LogPageLike, UpgradeCount, judgeGate, percent, readErrorLogs } from "../../src/rollout/gate.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const V = "ver_target";
const iso = (ms: number) => new Date(ms).toISOString();

interface Stored {
  t: number;
  entry: LogEntryLike;
}

/**
 * A log source as the API behaves: entries become readable `delayMs` after they are written; an
 * answer holds at most `pageSize` entries from `from` (inclusive); `maxTimestamp` is the instant
 * after the last entry returned when more remain, else the readable horizon (never before `from`).
 */
function logSource(clock: FakeClock, opts: { delayMs?: number; pageSize?: number; repeatBoundary?: boolean } = {}) {
  const stored: Stored[] = [];
  const calls: string[] = [];
  const write = (t: number, outputType: "stdout" | "stderr", versionId = V, instance = "i-1", log = "boom"): void => {
    stored.push({ t, entry: { timestamp: iso(t), instanceName: instance, machineVersionId: versionId, outputType, log } });
    stored.sort((a, b) => a.t - b.t);
  };
  const read = async (fromIso: string): Promise<LogPageLike> => {
    calls.push(fromIso);
    const from = Date.parse(fromIso);
    const horizon = clock.now() - (opts.delayMs ?? 60_000);
    const readable = stored.filter((s) => s.t >= from && s.t <= horizon);
    const page = readable.slice(0, opts.pageSize ?? 100);
    const more = readable.length > page.length;
    // A server that returns the entry at `maxTimestamp` again on the next call (inclusive `from`).
    const max = more ? (opts.repeatBoundary ? page.at(-1)!.t : page.at(-1)!.t + 1) : Math.max(from, horizon);
    return { maxTimestamp: iso(max), logs: page.map((s) => s.entry) };
  };
  return { write, read, calls };
}

describe("readErrorLogs", () => {
  const start = 1_700_000_000_000;
  const soakEnd = start + 300_000;

  it("pages with maxTimestamp until past the soak's end, counting only stderr of the target since the wave started", async () => {
    const clock = new FakeClock(soakEnd);
    const src = logSource(clock, { pageSize: 100 });
    src.write(start - 1000, "stderr"); // before the wave
    for (let i = 0; i < 250; i++) src.write(start + 1000 + i * 100, "stderr");
    for (let i = 0; i < 30; i++) src.write(start + 2000 + i * 100 + 50, "stdout");
    src.write(start + 5000, "stderr", "ver_other");
    src.write(soakEnd + 10_000, "stderr"); // after the soak, before the gate read: counted
    const reading = await clock.run(readErrorLogs({ read: src.read, versionId: V, sinceMs: start, untilMs: soakEnd, pollMs: 30_000, clock, signal: new AbortController().signal }));
    expect(reading).toMatchObject({ count: 251, complete: true });
    expect(reading.samples).toHaveLength(5);
    expect(src.calls[0]).toBe(iso(start));
    expect(src.calls.length).toBeGreaterThanOrEqual(3); // 281 entries in pages of 100, then waits for the horizon
    expect(clock.now()).toBeGreaterThan(soakEnd + 60_000); // the logs arrive a minute late: it waited for them
    expect(clock.now()).toBeLessThanOrEqual(soakEnd + 120_000);
  });

  it("counts an entry that a server returns twice at the page boundary once", async () => {
    const clock = new FakeClock(soakEnd + 61_000);
    const src = logSource(clock, { pageSize: 10, repeatBoundary: true });
    for (let i = 0; i < 35; i++) src.write(start + 1000 + i, "stderr");
    const reading = await clock.run(readErrorLogs({ read: src.read, versionId: V, sinceMs: start, untilMs: soakEnd, pollMs: 30_000, clock, signal: new AbortController().signal }));
    expect(reading).toMatchObject({ count: 35, complete: true });
  });

  it("waits at most two minutes past the soak, then says the logs were incomplete", async () => {
    const clock = new FakeClock(soakEnd);
    // Logs that never catch up: the horizon stays before the soak's end.
    const src = logSource(clock, { delayMs: 4 * 60_000 });
    src.write(start + 10, "stderr");
    const waits: number[] = [];
    const reading = await clock.run(
      readErrorLogs({ read: src.read, versionId: V, sinceMs: start, untilMs: soakEnd, pollMs: 30_000, clock, signal: new AbortController().signal, onWait: (l) => waits.push(l) }),
    );
    expect(reading).toMatchObject({ count: 1, complete: false });
    expect(clock.now()).toBe(soakEnd + 120_000);
    expect(waits).toEqual([120_000, 90_000, 60_000, 30_000]);
  });

  it("is bounded by maxReads against a server whose pages never end", async () => {
    const clock = new FakeClock(soakEnd);
    let n = 0;
    const read = async (): Promise<LogPageLike> => ({ maxTimestamp: iso(start + ++n), logs: [] });
    const reading = await readErrorLogs({ read, versionId: V, sinceMs: start, untilMs: soakEnd, pollMs: 1000, clock, signal: new AbortController().signal, maxReads: 50 });
    expect(reading).toMatchObject({ complete: false, reads: 50 });
  });

  it("refuses a maxTimestamp that is not a time or goes back", async () => {
    const clock = new FakeClock(soakEnd);
    const signal = new AbortController().signal;
    await expect(readErrorLogs({ read: async () => ({ maxTimestamp: "soon", logs: [] }), versionId: V, sinceMs: start, untilMs: soakEnd, pollMs: 1, clock, signal })).rejects.toThrow(/not a timestamp/);
    await expect(readErrorLogs({ read: async () => ({ maxTimestamp: iso(start - 1), logs: [] }), versionId: V, sinceMs: start, untilMs: soakEnd, pollMs: 1, clock, signal })).rejects.toThrow(/before the 'from' sent/);
  });

  it("stops at once when cancelled while waiting for logs", async () => {
    const clock = new FakeClock(soakEnd);
    const src = logSource(clock);
    const controller = new AbortController();
    const p = readErrorLogs({ read: src.read, versionId: V, sinceMs: start, untilMs: soakEnd, pollMs: 30_000, clock, signal: controller.signal });
    p.catch(() => undefined);
    await clock.flush();
    expect(clock.pending).toBe(1);
    controller.abort();
    await expect(p).rejects.toThrow();
    expect(clock.now()).toBe(soakEnd);
  });
});

describe("UpgradeCount and judgeGate", () => {
  it("counts, of the updated instances found in the listing, those on the target", () => {
    const c = new UpgradeCount(new Set(["a", "b", "c", "gone"]), V);
    c.see("a", V);
    c.see("b", "ver_old");
    c.see("c", V);
    c.see("a", V); // listed twice (a page boundary moved): once
    c.see("other", V); // not updated by this wave
    expect({ upgraded: c.upgraded, of: c.of }).toEqual({ upgraded: 2, of: 3 });
  });

  it("passes a good reading, halts on each gate with the sentence the summary shows", () => {
    const logs = (count: number, complete = true) => ({ count, complete, reads: 1, samples: [] });
    expect(judgeGate({ maxErrorLogs: 0, minUpgradedPercent: 90 }, { errorLogs: logs(0), upgraded: { upgraded: 9, of: 10 } }, "v1.3.0")).toEqual({ passed: true, notes: [] });
    expect(judgeGate({ maxErrorLogs: 0, minUpgradedPercent: 0 }, { errorLogs: logs(14) }, "v1.3.0")).toMatchObject({
      passed: false,
      reason: "14 error logs from v1.3.0 > max-error-logs 0",
    });
    expect(judgeGate({ maxErrorLogs: 5, minUpgradedPercent: 0 }, { errorLogs: logs(5) }, "v1.3.0").passed).toBe(true);
    expect(judgeGate({ minUpgradedPercent: 50 }, { upgraded: { upgraded: 4, of: 10 } }, "v1.3.0")).toMatchObject({
      passed: false,
      reason: "4 of 10 updated instances (40%) run v1.3.0 < min-upgraded-percent 50",
    });
    expect(judgeGate({ minUpgradedPercent: 50 }, { upgraded: { upgraded: 5, of: 10 } }, "v").passed).toBe(true);
    const both = judgeGate({ maxErrorLogs: 0, minUpgradedPercent: 50 }, { errorLogs: logs(1, false), upgraded: { upgraded: 0, of: 3 } }, "v");
    expect(both.reason).toBe("1 error log from v > max-error-logs 0; 0 of 3 updated instances (0%) run v < min-upgraded-percent 50");
    expect(both.notes).toEqual([expect.stringContaining("incomplete logs")]);
    expect(judgeGate({ maxErrorLogs: 3, minUpgradedPercent: 0 }, { errorLogs: logs(0, false) }, "v")).toMatchObject({ passed: true, notes: [expect.stringContaining("incomplete")] });
    expect(judgeGate({ minUpgradedPercent: 100 }, { upgraded: { upgraded: 0, of: 0 } }, "v")).toMatchObject({ passed: true, notes: [expect.stringContaining("no updated instance")] });
  });

  it("never rounds a share up to 100%", () => {
    expect(percent(999, 1000)).toBe("99.9%");
    expect(percent(9999, 10000)).toBe("99.9%");
    expect(percent(1, 3)).toBe("33.3%");
    expect(percent(0, 0)).toBe("0%");
  });
});
