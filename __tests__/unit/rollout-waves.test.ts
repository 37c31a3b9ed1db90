import { describe, expect, it } from "vitest";
import { inShard } from "../../src/bulk/selection.ts";
import { MAX_WAVES, formatShare, formatWaves, parseWaves, waveBucket, waveOf } from "../../src/rollout/waves.ts";
import { seededRandom } from "../helpers/fake-clock.ts";

const names = (n: number, prefix = "user") => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** Names such as a real fleet has (random ids), from a fixed seed. */
function randomNames(n: number, seed: number): string[] {
  const rnd = seededRandom(seed);
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
  return Array.from({ length: n }, () => Array.from({ length: 12 }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(""));
}

/** The cumulative share (percent) of `list` in waves 1…k, for each k. */
function cumulativeShares(list: string[], steps: number[]): number[] {
  const perWave = new Array<number>(steps.length).fill(0);
  for (const n of list) {
    const w = waveOf(n, steps);
    if (w !== undefined) perWave[w - 1]!++;
  }
  let sum = 0;
  return perWave.map((c) => ((sum += c) * 100) / list.length);
}

describe("waves: parsing", () => {
  it("reads cumulative percentages into hundredths of a percent", () => {
    expect(parseWaves("1%, 10%, 50%, 100%")).toEqual([100, 1000, 5000, 10000]);
    expect(parseWaves("0.5%,2.25%\n100 %")).toEqual([50, 225, 10000]);
    expect(parseWaves("10%")).toEqual([1000]);
    expect(parseWaves(Array.from({ length: MAX_WAVES }, (_, i) => `${(i + 1) * 10}%`).join(","))).toHaveLength(MAX_WAVES);
  });

  it.each([
    ["", /at least one step/],
    ["1%,,10%", /empty step/],
    ["10", /not a percentage/],
    ["ten%", /not a percentage/],
    ["1.255%", /not a percentage/],
    ["-1%", /not a percentage/],
    ["0%", /above 0% and at most 100%/],
    ["150%", /above 0% and at most 100%/],
    ["10%, 5%", /must increase: 5% follows 10%/],
    ["10%, 10%", /must increase/],
    [Array.from({ length: 11 }, (_, i) => `${i + 1}%`).join(","), /11 steps; at most 10/],
  ])("refuses %j", (text, message) => {
    expect(() => parseWaves(text)).toThrow(message);
  });

  it("formats shares back as the input reads", () => {
    expect(formatShare(100)).toBe("1%");
    expect(formatShare(50)).toBe("0.5%");
    expect(formatShare(1225)).toBe("12.25%");
    expect(formatWaves([100, 1000, 10000])).toBe("1%, 10%, 100%");
  });
});

describe("waves: membership", () => {
  it("puts every instance in exactly one wave, none beyond 100%", () => {
    const steps = [100, 1000, 5000, 10000];
    for (const n of names(2000)) {
      const w = waveOf(n, steps);
      expect(w).toBeGreaterThanOrEqual(1);
      expect(w).toBeLessThanOrEqual(4);
    }
  });

  it("gives shares within a percentage point of the asked figures at 10,000 instances", () => {
    const steps = [100, 1000, 5000, 10000];
    for (const list of [names(10_000), randomNames(10_000, 7)]) {
      const shares = cumulativeShares(list, steps);
      expect(shares[0]).toBeGreaterThan(0.5);
      expect(shares[0]).toBeLessThan(1.5);
      expect(Math.abs(shares[1]! - 10)).toBeLessThan(1);
      expect(Math.abs(shares[2]! - 50)).toBeLessThan(1);
      expect(shares[3]).toBe(100);
    }
  });

  it("leaves instances past the last step out when the waves end below 100%", () => {
    const list = names(10_000);
    const inAny = list.filter((n) => waveOf(n, [100, 1000]) !== undefined).length;
    expect(Math.abs(inAny / 100 - 10)).toBeLessThan(1);
  });

  it("is stable: the same name falls in the same place on every call and run, and larger waves keep the canaries", () => {
    // Fixed values: a change of the hash would move canaries between runs of different action versions.
    const pinned = ["user-0", "user-1", "customer_42"].map(waveBucket);
    expect(pinned).toEqual([4387, 4300, 251]);
    const list = names(5000);
    const canaries = list.filter((n) => waveOf(n, [100, 1000]) === 1);
    expect(canaries.length).toBeGreaterThan(20);
    // A later run promotes with larger waves: the canaries are in its first wave, whatever the order or the total.
    const shuffled = [...list.slice(2500), ...list.slice(0, 2500), ...names(3000, "new")];
    for (const n of canaries) expect(waveOf(n, [100, 5000, 10000])).toBe(1);
    for (const n of canaries) expect(waveOf(n, [500, 10000])).toBe(1);
    expect(shuffled.filter((n) => waveOf(n, [100, 1000]) === 1 && list.includes(n)).sort()).toEqual([...canaries].sort());
  });

  it("is independent of the shard hash: each shard spreads over the waves like the whole", () => {
    const list = randomNames(20_000, 11);
    for (let s = 1; s <= 4; s++) {
      const shard = list.filter((n) => inShard(n, { index: s, count: 4 }));
      const shares = cumulativeShares(shard, [1000, 5000, 10000]);
      expect(Math.abs(shares[0]! - 10)).toBeLessThan(1.5);
      expect(Math.abs(shares[1]! - 50)).toBeLessThan(2);
    }
  });
});
