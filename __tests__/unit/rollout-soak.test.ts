import { describe, expect, it } from "vitest";
import { soak } from "../../src/rollout/soak.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

describe("soak", () => {
  it("waits the whole soak on the injected clock, with a line at most every tick", async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const lines: string[] = [];
    await clock.run(soak({ clock, ms: 150_000, signal: new AbortController().signal, label: "wave 1 of 3", onTick: (_, l) => lines.push(l) }));
    expect(clock.now() - start).toBe(150_000);
    expect(lines).toEqual([
      "Soaking wave 1 of 3: 2 min 30 s left before the gate is judged.",
      "Soaking wave 1 of 3: 1 min 30 s left before the gate is judged.",
      "Soaking wave 1 of 3: 30.0 s left before the gate is judged.",
    ]);
  });

  it("returns at once for a soak of zero", async () => {
    const clock = new FakeClock();
    await soak({ clock, ms: 0, signal: new AbortController().signal, label: "w" });
    expect(clock.sleeps).toBe(0);
  });

  it("stops at once on cancellation, with no time passing", async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const controller = new AbortController();
    const p = soak({ clock, ms: 300_000, signal: controller.signal, label: "w" });
    p.catch(() => undefined);
    await clock.advance(61_000);
    controller.abort();
    await expect(p).rejects.toThrow();
    expect(clock.now() - start).toBe(61_000);
    expect(clock.pending).toBe(0);
  });
});
