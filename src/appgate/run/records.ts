/** What happened to each appliance: the rows of the summary, the outputs and the report file. */
import type { ApplianceFacts } from "../plan/model.ts";

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
