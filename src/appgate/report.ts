/** The outputs, the job summary and the JSON report file of a complete-appliance-upgrade run. */
import { escapeCell, facts, table } from "../report/markdown.ts";
import { formatDuration } from "../runtime/duration.ts";
import type { UpgradePlan } from "./plan/model.ts";
import type { ApplianceRecord } from "./run/records.ts";

export const REPORT_FILE_NAME = "appgate-upgrade-report.json";

export type RunResult = "succeeded" | "failed" | "cancelled" | "aborted" | "dry-run" | "nothing-to-do";

export interface RunSummary {
  controller: string;
  apiVersion?: number;
  primary?: string;
  maxUnavailable: number;
  dryRun: boolean;
  startedAt: number;
  finishedAt: number;
  result: RunResult;
  stoppedBy?: string;
  plan?: UpgradePlan;
  records: readonly ApplianceRecord[];
  inMaintenance: readonly string[];
  /** An error that ended the run outside any appliance (pre-flight, sign-in). */
  error?: string;
  /** The primary Controller's backup, made before the first change. */
  backup?: { file: string; bytes: number };
}

function outcomeCell(r: ApplianceRecord): string {
  return r.reason && r.outcome !== "upgraded" ? `${r.outcome}: ${r.reason}` : r.outcome;
}

function timeCell(r: ApplianceRecord): string {
  return r.startedAt !== undefined && r.finishedAt !== undefined ? formatDuration(r.finishedAt - r.startedAt) : "";
}

const RESUME = {
  "wait-install": "resume: wait for the install",
  "switch-partition": "resume: switch partition",
  "maintenance-off": "upgraded already: maintenance mode off",
} as const;

export function planTable(plan: UpgradePlan): string {
  const rows: string[][] = [];
  if (plan.maintenance.length > 0) rows.push(["Maintenance mode on", plan.maintenance.map((c) => c.name).join(", ")]);
  for (const s of plan.stages) {
    rows.push([s.label, s.appliances.map((a) => (a.action === "complete" ? a.name : `${a.name} (${RESUME[a.action]})`)).join(", ")]);
  }
  return rows.length === 0 ? "_Nothing to do._" : table(["Stage", "Appliances (in parallel within a stage)"], rows);
}

export function summaryMarkdown(s: RunSummary): string {
  const headline: Record<RunResult, string> = {
    succeeded: "All planned appliances upgraded",
    failed: "The upgrade did not finish",
    cancelled: "Cancelled",
    aborted: "Pre-flight stopped the run; nothing was changed",
    "dry-run": "Dry run: the plan below was not carried out",
    "nothing-to-do": "Nothing to do",
  };
  const parts: string[] = [`**Appgate SDP: complete appliance upgrade** (${headline[s.result]})`, ""];
  const pairs: [string, string | number][] = [["Controller", s.controller]];
  if (s.primary) pairs.push(["Primary Controller", s.primary]);
  if (s.apiVersion !== undefined) pairs.push(["API version", s.apiVersion]);
  if (s.plan && s.plan.targetVersions.length > 0) pairs.push(["Prepared version", s.plan.targetVersions.join(", ")]);
  pairs.push(["max-unavailable", s.maxUnavailable]);
  pairs.push(["Time", formatDuration(s.finishedAt - s.startedAt)]);
  if (s.stoppedBy) pairs.push(["Stopped by", escapeCell(s.stoppedBy)]);
  parts.push(facts(pairs), "");
  const esc = (t: string): string => escapeCell(t);
  if (s.error) parts.push(`**Error:** ${esc(s.error)}`, "");
  if (s.plan && s.plan.problems.length > 0) {
    parts.push("**Pre-flight problems:**", "", ...s.plan.problems.map((p) => `- ${esc(p)}`), "");
  }
  if (s.plan && s.plan.warnings.length > 0) parts.push("**Warnings:**", "", ...s.plan.warnings.map((w) => `- ${esc(w)}`), "");
  const unfinished = s.records.filter((r) => r.outcome === "unfinished");
  if (unfinished.length > 0) {
    parts.push(
      `**Still under way on the Controller** (run again to resume, never retried blindly): ${unfinished
        .map((r) => esc(`${r.name} (${r.lastSeen ?? "unknown"})`))
        .join(", ")}`,
      "",
    );
  }
  if (s.inMaintenance.length > 0) {
    parts.push(
      `**Still in maintenance mode:** ${esc(s.inMaintenance.join(", "))} (a re-run completes each one's upgrade if still pending, then turns maintenance mode off)`,
      "",
    );
  }
  if (s.backup) {
    parts.push(
      `**Backup** of the primary Controller, made before the first change: \`${esc(s.backup.file)}\` (${s.backup.bytes} bytes). ` +
        "It holds the collective's configuration, encrypted with the backup passphrase set in the global settings. " +
        "It lives in the runner's temporary folder: keep it with `actions/upload-artifact` (`path: ${{ steps.<this step's id>.outputs.backup-file }}`).",
      "",
    );
  }
  if (s.plan) parts.push("#### Plan", "", planTable(s.plan), "");
  if (s.records.length > 0) {
    parts.push(
      s.records.length > 10 ? `<details><summary>Appliances (${s.records.length})</summary>` : "#### Appliances",
      "",
      table(
        ["Appliance", "Role", "Site", "Version before", "Version after", "Partition before", "Partition after", "Time", "Outcome"],
        s.records.map((r) => [
          r.name,
          r.role,
          r.site,
          r.versionBefore ?? "",
          r.versionAfter ?? "",
          r.partitionBefore ?? "",
          r.partitionAfter ?? "",
          timeCell(r),
          outcomeCell(r),
        ]),
      ),
      "",
      ...(s.records.length > 10 ? ["</details>", ""] : []),
    );
  }
  return parts.join("\n");
}

export function reportJson(s: RunSummary): string {
  const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
  return JSON.stringify(
    {
      operation: "complete-appliance-upgrade",
      controller: s.controller,
      apiVersion: s.apiVersion,
      primary: s.primary,
      dryRun: s.dryRun,
      maxUnavailable: s.maxUnavailable,
      result: s.result,
      stoppedBy: s.stoppedBy,
      error: s.error,
      startedAt: iso(s.startedAt),
      finishedAt: iso(s.finishedAt),
      problems: s.plan?.problems ?? [],
      warnings: s.plan?.warnings ?? [],
      targetVersions: s.plan?.targetVersions ?? [],
      plan: s.plan
        ? {
            maintenance: s.plan.maintenance.map((c) => c.name),
            stages: s.plan.stages.map((st) => ({ kind: st.kind, label: st.label, appliances: st.appliances.map((a) => a.name) })),
          }
        : undefined,
      inMaintenance: s.inMaintenance,
      backup: s.backup,
      appliances: s.records.map((r) => ({
        ...r,
        startedAt: iso(r.startedAt),
        finishedAt: iso(r.finishedAt),
        durationMs: r.startedAt !== undefined && r.finishedAt !== undefined ? r.finishedAt - r.startedAt : undefined,
      })),
    },
    null,
    2,
  );
}
