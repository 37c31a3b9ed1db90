import { describe, expect, it } from "vitest";
import { AIMD_DECREASE_FACTOR, AimdLimit } from "../../src/bulk/aimd.ts";

/** Definitive answers until the limit stops moving or `max` answers. */
function answer(limit: AimdLimit, n: number): void {
  for (let i = 0; i < n; i++) limit.increase();
}

describe("AimdLimit (no clock: answers are counted, not timed)", () => {
  it("starts at the ceiling and refuses a ceiling that is not a whole number of at least 1", () => {
    expect(new AimdLimit(32).current).toBe(32);
    expect(new AimdLimit(32).lowest).toBe(32);
    expect(() => new AimdLimit(0)).toThrow(RangeError);
    expect(() => new AimdLimit(2.5)).toThrow(/whole number/);
  });

  it("multiplies the limit by 0.7 on a rate-limited answer, never below 1", () => {
    const l = new AimdLimit(32);
    expect(l.decrease(0, 1)).toEqual({ before: 32, after: Math.floor(32 * AIMD_DECREASE_FACTOR) });
    expect(l.current).toBe(22);
    const one = new AimdLimit(1);
    one.decrease(0, 1);
    expect(one.current).toBe(1);
  });

  it("lowers the limit once per window: answers to attempts started before the decrease are ignored", () => {
    const l = new AimdLimit(32);
    // attempts 0..31 were in flight together; all are refused
    expect(l.decrease(5, 32)).toBeDefined();
    for (let seq = 0; seq < 32; seq++) expect(l.decrease(seq, 32)).toBeUndefined();
    expect(l.current).toBe(22);
    // an attempt started after the decrease opens the next window
    expect(l.decrease(32, 40)).toEqual({ before: 22, after: 15 });
    expect(l.lowest).toBe(15);
  });

  it("adds about 1 per `limit` answers, up to the ceiling and never past it", () => {
    const l = new AimdLimit(32);
    l.decrease(0, 1); // 22.4, plateau 31
    const before = l.current;
    answer(l, before); // one round trip's worth of answers
    expect(l.current).toBe(before + 1);
    answer(l, 10_000);
    expect(l.current).toBe(32);
    expect(l.lowest).toBe(22);
  });

  it("probes slowly just above the plateau (one below the limit last refused), then at full speed again", () => {
    const l = new AimdLimit(64);
    l.decrease(0, 1);
    l.decrease(1, 2);
    l.decrease(2, 3);
    expect(l.current).toBe(21);
    l.decrease(3, 4); // refused at 21: plateau 20
    expect(l.current).toBe(15);
    const answersUntil = (target: number): number => {
      let n = 0;
      while (l.current < target) {
        l.increase();
        n++;
      }
      return n;
    };
    // Below the plateau: +1 per `limit` answers (15 + 16 + 17 + 18 + 19, give or take rounding).
    expect(answersUntil(20)).toBeLessThanOrEqual(85);
    // From the plateau to the limit that was refused: far slower than one round trip (20 answers).
    expect(answersUntil(21)).toBeGreaterThan(5 * 20);
    // Two above the plateau the step is back to 1 per round trip.
    answersUntil(22);
    expect(answersUntil(23)).toBeLessThanOrEqual(23);
  });
});
