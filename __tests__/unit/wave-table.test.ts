import { describe, expect, it } from "vitest";
import { waveTable } from "../../src/report/wave-table.ts";

describe("waveTable", () => {
  const rows = [
    { wave: 1, share: "1%", instances: 10, updated: 10, upgraded: { upgraded: 9, of: 10, percent: "90%" }, errorLogs: { count: 3, complete: false }, verdict: "halted: 3 error logs from v2 > max-error-logs 0" },
    { wave: 2, share: "100%", instances: 990, verdict: "not sent" },
  ];

  it("shows one row per wave, with what was measured and the verdict", () => {
    const md = waveTable(rows, { dryRun: false, notes: ["Wave 1: judged on incomplete logs"], samples: [] });
    expect(md).toContain("| Wave | Share | Instances sent | Updated | Upgraded by the end of the soak | Error logs | Verdict |");
    expect(md).toContain("| 1 | 1% | 10 | 10 | 9 of 10 (90%) | 3 (incomplete logs) | halted: 3 error logs from v2 > max-error-logs 0 |");
    expect(md).toContain("| 2 | 100% | 990 | — | — | — | not sent |");
    expect(md).toContain("- Wave 1: judged on incomplete logs");
    expect(waveTable(rows, { dryRun: true, notes: [], samples: [] })).toContain("| Wave | Share | Instances |\n| --- | --- | --- |\n| 1 | 1% | 10 |\n| 2 | 100% | 990 |");
  });

  it("shows log lines from the server on one line, cut short, unable to break the table or start a command", () => {
    const hostile = `bad | row\n::error::injected\r\n\u001b[31m${"x".repeat(500)}\`<script>`;
    const md = waveTable(rows, { dryRun: false, notes: [], samples: [{ instance: "i-1", log: hostile }] });
    const sample = md.split("\n").find((l) => l.includes("i-1"))!;
    expect(sample).toMatch(/^\| `i-1` \| `bad \\\| row ::error::injected \[31mx+…` \|$/);
    expect(md).not.toMatch(/^::/m);
    expect(md).not.toContain("\u001b");
  });
});
