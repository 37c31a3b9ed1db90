import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { boundYoungGeneration } from "../../src/runtime/young-generation.ts";

const moduleUrl = new URL(`file://${join(resolve(import.meta.dirname, "../../src/runtime/young-generation.ts"))}`).href;

/**
 * A process that allocates 2,000,000 objects while keeping the latest 20,000 alive (survivors at
 * every scavenge, as a bulk run's requests in flight are), then prints its new space in MiB.
 */
function newSpaceAfterChurn(bound: boolean): number {
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    const { boundYoungGeneration } = await import(${JSON.stringify(moduleUrl)});
    if (${bound}) boundYoungGeneration([], "");
    const keep = new Array(20000);
    for (let i = 0; i < 2_000_000; i++) keep[i % 20000] = { i, s: "x".repeat(50) + i };
    process.stdout.write(String(getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size / 2 ** 20));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
  expect(r.stderr).toBe("");
  return Number(r.stdout);
}

describe("the young generation's bound", () => {
  it("keeps V8's new space at its starting size under a churn that grows it by default", () => {
    const unbounded = newSpaceAfterChurn(false);
    const bounded = newSpaceAfterChurn(true);
    // V8 grows it to tens of MiB by default; bounded it stays at a few.
    expect(unbounded).toBeGreaterThanOrEqual(16);
    expect(bounded).toBeLessThanOrEqual(4);
  });

  it("leaves the young generation alone when the user sized it (node arguments or NODE_OPTIONS)", () => {
    expect(boundYoungGeneration(["--max-semi-space-size=32"], "")).toBe(false);
    expect(boundYoungGeneration([], "--trace-warnings --max_semi_space_size=16")).toBe(false);
    expect(boundYoungGeneration([], "--semi-space-growth-factor=4")).toBe(false);
    expect(boundYoungGeneration([], "--min-semi-space-size=4")).toBe(false);
    expect(boundYoungGeneration(["--scavenger-max-new-space-capacity-mb=8"], "")).toBe(false);
    expect(boundYoungGeneration(["--minor-ms"], "")).toBe(false);
    expect(boundYoungGeneration(["--no-minor_ms"], "")).toBe(false);
  });
});
