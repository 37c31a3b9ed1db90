import { describe, expect, it } from "vitest";
import { BulkTally } from "../../src/report/bulk-tally.ts";

describe("bulk summary", () => {
  it("stays far below GitHub's 1 MiB summary limit at 100,000 failed instances with many reasons", () => {
    const t = new BulkTally();
    for (let i = 0; i < 100_000; i++) {
      const name = `instance-with-a-rather-long-name-${i}`.padEnd(128, "x");
      t.add({ name, outcome: "failed", status: 400 + (i % 50), code: `code-${i % 50}`, reason: `HTTP ${400 + (i % 50)}: ${"why ".repeat(30)}` });
    }
    const markdown = [t.countsTable("Updated"), t.failureSection(), t.skipSection()].join("\n\n");
    expect(t.failed).toBe(100_000);
    expect(t.failedNames).toHaveLength(100_000);
    expect(Buffer.byteLength(markdown)).toBeLessThan(150 * 1024);
    expect(markdown).toContain("_…and 35 more reasons (see the report file)._");
    expect(markdown).toContain("_…and 1980 more with this reason (see the report file)._");
  });

  it("groups failures by status and code, largest group first, and counts add up", () => {
    const t = new BulkTally();
    t.add({ name: "a", outcome: "succeeded" });
    t.add({ name: "b", outcome: "skipped", reason: "already on the target version" });
    for (const n of ["c", "d"]) t.add({ name: n, outcome: "failed", status: 400, code: "no-migration-path", reason: "HTTP 400: no-migration-path" });
    t.add({ name: "e", outcome: "failed", status: 404, reason: "HTTP 404" });
    t.add({ name: "f", outcome: "failed", cancelled: true, reason: "not done: the run was cancelled" });
    expect([t.succeeded, t.skipped, t.failed, t.notDone, t.total]).toEqual([1, 1, 4, 1, 6]);
    const s = t.failureSection();
    expect(s.indexOf("HTTP 400 no-migration-path**: 2")).toBeLessThan(s.indexOf("HTTP 404**: 1"));
    expect(s).toContain("not done: the run was cancelled**: 1");
    expect(t.countsTable("Updated")).toContain("| 6 | 1 | 1 | 4 (1 not done) |");
  });
});
