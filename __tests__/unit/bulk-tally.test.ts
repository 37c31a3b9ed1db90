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
    expect(markdown).toContain("_…and 35 more causes (70,000 items; see the report file)._");
    expect(markdown).toContain(", and 1,980 more (see the report file)");
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
    expect(s.indexOf("**2 × HTTP 400 no-migration-path**")).toBeGreaterThan(0);
    expect(s.indexOf("**2 × HTTP 400 no-migration-path**")).toBeLessThan(s.indexOf("**1 × HTTP 404**"));
    expect(s).toContain("**1 × not done: the run was cancelled**");
    // Each cause once, its names folded away.
    expect(s.match(/no-migration-path/g)).toHaveLength(1);
    expect(s).toContain("<details><summary>names</summary>\n\n  `c`, `d`\n\n  </details>");
    expect(t.countsTable("Updated")).toContain("| 6 | 1 | 1 | 4 (1 not done) |");
  });

  it("gives each cause its fix and shows what the server said once", () => {
    const t = new BulkTally();
    for (const n of ["c", "d"]) t.add({ name: n, outcome: "failed", status: 400, code: "no-migration-path", reason: "HTTP 400: no-migration-path: no path from ver_a" });
    const s = t.failureSection((c) => (c.code === "no-migration-path" ? "publish a migration first" : undefined));
    expect(s).toContain("* **2 × HTTP 400 no-migration-path**: publish a migration first\n  <details><summary>names</summary>");
    expect(s).toContain("Example: no path from ver\\_a");
  });

  it("counts a dry run as planned, with no rate", () => {
    const t = new BulkTally();
    t.plan("a");
    t.plan("b");
    t.add({ name: "c", outcome: "skipped", reason: "already on the target version" });
    expect([t.planned, t.skipped, t.total]).toEqual([2, 1, 3]);
    expect(t.countsTable("Updated", true)).toContain("| Selected | Planned | Skipped | Failed |\n| --- | --- | --- | --- |\n| 3 | 2 | 1 | 0 |");
    expect(t.timing(2000, true)).toEqual([["Time", "2.0 s"]]);
    expect(t.timing(2000)[0]![1]).toMatch(/instances\/s/);
  });
});
