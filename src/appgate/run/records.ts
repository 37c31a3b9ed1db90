/** What happened to each appliance: the rows of the summary, the outputs and the report file. */
import type { ApplianceFacts, UpgradePlan } from "../plan/model.ts";

/**
 * - upgraded: completed and verified by this run
 * - failed: completed but not verified, refused, timed out, or `failed` before the run
 * - skipped: not part of the run (not ready, offline, not selected, already upgraded)
 * - not-started: planned, but the run stopped (a failure, cancellation) before its turn
 * - unfinished: under way on the Controller when the run was cancelled; a re-run resumes it
 * - planned: dry run
 */
export type Outcome = "upgraded" | "failed" | "skipped" | "not-started" | "unfinished" | "planned";

export interface ApplianceRecord extends ApplianceFacts {
  stage?: string;
  targetVersion?: string;
  versionAfter?: string;
  partitionAfter?: number;
  startedAt?: number;
  finishedAt?: number;
  outcome: Outcome;
  reason?: string;
  /** The last upgrade status (or condition) seen while it was under way. */
  lastSeen?: string;
}

export function namesWith(records: readonly ApplianceRecord[], ...outcomes: Outcome[]): string[] {
  return records.filter((r) => outcomes.includes(r.outcome)).map((r) => r.name);
}

/** One record per appliance of the plan: planned ones (not started yet, or `planned` in a dry run), failed and skipped ones. */
export function initialRecords(plan: UpgradePlan, dryRun: boolean): ApplianceRecord[] {
  const out: ApplianceRecord[] = [];
  for (const stage of plan.stages) {
    for (const p of stage.appliances) {
      const r: ApplianceRecord = {
        id: p.id,
        name: p.name,
        role: p.isPrimary ? `${p.role} (primary)` : p.role,
        site: p.site,
        stage: stage.label,
        targetVersion: p.targetText,
        outcome: dryRun ? "planned" : "not-started",
      };
      if (p.versionBefore !== undefined) r.versionBefore = p.versionBefore;
      if (p.partitionBefore !== undefined) r.partitionBefore = p.partitionBefore;
      out.push(r);
    }
  }
  for (const f of plan.failed) out.push({ ...f, outcome: "failed" });
  for (const s of plan.skipped) {
    out.push({ ...s, outcome: "skipped" });
  }
  return out;
}
