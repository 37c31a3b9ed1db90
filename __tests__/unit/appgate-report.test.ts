import { appgateVerdict } from "../../src/appgate/verdict.ts";
import { describe, expect, it } from "vitest";
import type { ApplianceRecord } from "../../src/appgate/run/records.ts";
import { reportJson, summaryMarkdown, type RunSummary } from "../../src/appgate/report.ts";

const records: ApplianceRecord[] = [
  {
    id: "1",
    name: "ctrl-1",
    role: "Controller (primary)",
    site: "Default",
    versionBefore: "6.4.2-31000",
    versionAfter: "6.5.0-32000",
    partitionBefore: 1,
    partitionAfter: 2,
    startedAt: 1_000,
    finishedAt: 1_000 + 7 * 60_000 + 12_000,
    outcome: "upgraded",
  },
  { id: "2", name: "gw|a1", role: "Gateway", site: "Site A", versionBefore: "6.4.2-31000", partitionBefore: 1, startedAt: 500_000, finishedAt: 560_000, outcome: "unfinished", lastSeen: "installing", reason: "cancelled while under way" },
  { id: "3", name: "gw-a2", role: "Gateway", site: "Site A", outcome: "not-started", reason: "the run was cancelled" },
  { id: "4", name: "gw-b9", role: "Gateway", site: "Site B", outcome: "skipped", reason: "offline (status offline)" },
];

const base: RunSummary = {
  controller: "https://ctrl.example.com:8443",
  apiVersion: 23,
  primary: "ctrl-1",
  maxUnavailable: 1,
  dryRun: false,
  startedAt: 0,
  finishedAt: 600_000,
  result: "cancelled",
  records,
  inMaintenance: ["ctrl-3"],
};

describe("summaryMarkdown", () => {
  it("has one row per appliance with role, site, versions, partitions, time and outcome", () => {
    const md = summaryMarkdown(base);
    expect(md).toContain("**Appgate SDP: complete appliance upgrade** (Cancelled)");
    expect(appgateVerdict(base)).toEqual({
      level: "fail",
      sentence: "Cancelled after upgrading 1 appliance; `gw|a1` still under way on the Controller",
      fix: "Run the step again: it resumes where this run stopped. `ctrl-3` still in maintenance mode: run again to finish.",
    });
    expect(md).toContain("| Appliance | Role | Site | Version before | Version after | Partition before | Partition after | Time | Outcome |");
    expect(md).toContain("| ctrl-1 | Controller (primary) | Default | 6.4.2-31000 | 6.5.0-32000 | 1 | 2 | 7 min 12 s | upgraded |");
    expect(md).toContain("| gw\\|a1 | Gateway | Site A | 6.4.2-31000 |  | 1 |  | 1 min 00 s | unfinished: cancelled while under way |");
    expect(md).toContain("| gw-a2 | Gateway | Site A |  |  |  |  |  | not-started: the run was cancelled |");
    expect(md).toContain("**Still under way on the Controller** (run again to resume, never retried blindly): gw\\|a1 (installing)");
    expect(md).toContain("**Still in maintenance mode:** ctrl-3");
    expect(md).toContain("**API version**: 23");
  });

  it("states the pre-flight problems when it aborted", () => {
    const md = summaryMarkdown({
      ...base,
      result: "aborted",
      records: [],
      inMaintenance: [],
      plan: { maintenance: [], stages: [], skipped: [], failed: [], problems: ["Controller ctrl-3 is offline"], warnings: [], targetVersions: ["6.5.0-32000"] },
    });
    expect(md).toContain("Pre-flight stopped the run; nothing was changed");
    expect(md).toContain("- Controller ctrl-3 is offline");
    expect(md).toContain("**Prepared version**: 6.5.0-32000");
    expect(md).toContain("_Nothing to do._");
  });
});

describe("reportJson", () => {
  it("carries every record with ISO times and durations", () => {
    const json = JSON.parse(reportJson(base)) as { result: string; appliances: { name: string; durationMs?: number; startedAt?: string }[] };
    expect(json.result).toBe("cancelled");
    expect(json.appliances.map((a) => a.name)).toEqual(["ctrl-1", "gw|a1", "gw-a2", "gw-b9"]);
    expect(json.appliances[1]).toMatchObject({ durationMs: 60_000, startedAt: new Date(500_000).toISOString() });
  });
});
