/** The job summary and the JSON report of prepare-appliance-upgrade and cancel-appliance-upgrade. */
import { escapeCell, facts, table } from "../report/markdown.ts";
import { formatDuration } from "../runtime/duration.ts";
import type { LifecycleRecord } from "./run/lifecycle-records.ts";

export interface LifecycleSummary {
  operation: "prepare-appliance-upgrade" | "cancel-appliance-upgrade";
  title: string;
  controller: string;
  dryRun: boolean;
  startedAt: number;
  finishedAt: number;
  /** One line saying how it ended. */
  headline: string;
  /** Extra facts (the image, the throttle, files deleted). */
  facts: [string, string | number][];
  problems: string[];
  warnings: string[];
  error?: string;
  records: readonly LifecycleRecord[];
}

export function lifecycleMarkdown(s: LifecycleSummary): string {
  const parts = [`**Appgate SDP: ${s.title}** (${escapeCell(s.headline)})`, ""];
  parts.push(facts([["Controller", s.controller], ...s.facts.map(([k, v]): [string, string | number] => [k, escapeCell(v)]), ["Time", formatDuration(s.finishedAt - s.startedAt)]]), "");
  if (s.error) parts.push(`**Error:** ${escapeCell(s.error)}`, "");
  if (s.problems.length > 0) parts.push("**Pre-flight problems:**", "", ...s.problems.map((p) => `- ${escapeCell(p)}`), "");
  if (s.warnings.length > 0) parts.push("**Warnings:**", "", ...s.warnings.map((w) => `- ${escapeCell(w)}`), "");
  if (s.records.length > 0) {
    const time = (r: LifecycleRecord): string => (r.startedAt !== undefined && r.finishedAt !== undefined ? formatDuration(r.finishedAt - r.startedAt) : "");
    const outcome = (r: LifecycleRecord): string => (r.reason ? `${r.outcome}: ${r.reason}` : r.outcome);
    parts.push(table(["Appliance", "Role", "Site", "Version", "Outcome", "Time"], s.records.map((r) => [r.name, r.role, r.site, r.version ?? "", outcome(r), time(r)])), "");
  }
  return parts.join("\n");
}

export function lifecycleJson(s: LifecycleSummary): string {
  const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
  return JSON.stringify(
    {
      operation: s.operation,
      controller: s.controller,
      dryRun: s.dryRun,
      headline: s.headline,
      error: s.error,
      startedAt: iso(s.startedAt),
      finishedAt: iso(s.finishedAt),
      facts: Object.fromEntries(s.facts),
      problems: s.problems,
      warnings: s.warnings,
      appliances: s.records.map((r) => ({ ...r, startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt) })),
    },
    null,
    2,
  );
}
