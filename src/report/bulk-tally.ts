import { formatDuration } from "../runtime/duration.ts";
import { table } from "./markdown.ts";
import { type CauseGroup, causeGroups } from "./sections.ts";

/** Rows shown per failure reason, and names of succeeded instances listed, in the summary. */
export const SUMMARY_ROWS_PER_REASON = 20;
export const SUMMARY_REASON_GROUPS = 15;
export const SUMMARY_SUCCESS_NAMES = 200;

/** One item's outcome, as the tally needs it (the bulk pool's ItemOutcome fits). */
export interface TalliedOutcome {
  name: string;
  outcome: "succeeded" | "skipped" | "failed";
  reason?: string | undefined;
  status?: number | undefined;
  code?: string | undefined;
  /** Not done because the run stopped. */
  cancelled?: boolean | undefined;
}

interface ReasonGroup {
  reason: string;
  count: number;
  /** The first failure's details, to find the fix (HTTP status and API code) and to show an example. */
  first: { status?: number; code?: string; detail: string };
  sample: string[];
}

/** What to do about one cause of failure; undefined when there is nothing specific to say. */
export type FixFor = (cause: { reason: string; status?: number; code?: string }) => string | undefined;

/**
 * Counts and groups the outcomes of a bulk run for outputs and the job summary. It keeps what
 * the outputs need (the names of failed instances) and bounded samples for the summary; the
 * full record is the report file. The summary stays far below GitHub's 1 MiB at 100,000 items.
 */
export class BulkTally {
  succeeded = 0;
  /** Dry run: the instances a real run would send a request for. */
  planned = 0;
  skipped = 0;
  failed = 0;
  notDone = 0;
  /** Instances updated by this run, then set back to their earlier version (a halted rollout). */
  rolledBack = 0;
  readonly failedNames: string[] = [];
  readonly succeededSample: string[] = [];
  readonly plannedSample: string[] = [];
  private readonly failures = new Map<string, ReasonGroup>();
  private readonly skips = new Map<string, number>();

  /** Dry run: one instance a real run would send. */
  plan(name: string): void {
    this.planned++;
    if (this.plannedSample.length < SUMMARY_SUCCESS_NAMES) this.plannedSample.push(name);
  }

  /** The most frequent failure cause, for the verdict. */
  topFailure(): { reason: string; status?: number; code?: string; count: number } | undefined {
    const g = [...this.failures.values()].sort((a, b) => b.count - a.count)[0];
    return g ? { reason: g.reason, count: g.count, ...g.first } : undefined;
  }

  /** `shownElsewhere`: a failure the operation's own section shows (counted and listed, not grouped here). */
  add(o: TalliedOutcome, shownElsewhere = false): void {
    if (o.outcome === "succeeded") {
      this.succeeded++;
      if (this.succeededSample.length < SUMMARY_SUCCESS_NAMES) this.succeededSample.push(o.name);
      return;
    }
    if (o.outcome === "skipped") {
      this.skipped++;
      const key = o.reason ?? "skipped";
      this.skips.set(key, (this.skips.get(key) ?? 0) + 1);
      return;
    }
    this.failed++;
    if (o.cancelled) this.notDone++;
    this.failedNames.push(o.name);
    if (shownElsewhere) return;
    const key = o.cancelled ? (o.reason ?? "not done") : groupKey(o);
    let g = this.failures.get(key);
    if (!g) {
      const first = { detail: o.reason ?? "", ...(o.status !== undefined ? { status: o.status } : {}), ...(o.code !== undefined ? { code: o.code } : {}) };
      this.failures.set(key, (g = { reason: key, count: 0, first, sample: [] }));
    }
    g.count++;
    if (g.sample.length < SUMMARY_ROWS_PER_REASON) g.sample.push(o.name);
  }

  /**
   * The outcome of setting back an instance already counted as succeeded: it ends rolled back,
   * or failed (then no longer succeeded).
   */
  rollBack(o: Pick<TalliedOutcome, "name" | "outcome" | "reason" | "status" | "code" | "cancelled">): void {
    this.succeeded--;
    if (o.outcome === "succeeded") this.rolledBack++;
    else this.add(o.outcome === "skipped" ? { ...o, outcome: "failed" } : o);
  }

  get total(): number {
    return this.succeeded + this.planned + this.skipped + this.failed + this.rolledBack;
  }

  /** Markdown: the failures grouped by cause, largest first, each once with its count, fix and a folded sample of names. */
  failureSection(fixFor: FixFor = () => undefined): string {
    if (this.failed === 0 || this.failures.size === 0) return "";
    const groups: CauseGroup[] = [...this.failures.values()].map((g) => {
      const fix = fixFor({ reason: g.first.detail || g.reason, ...(g.first.status !== undefined ? { status: g.first.status } : {}), ...(g.first.code !== undefined ? { code: g.first.code } : {}) });
      const example = exampleOf(g.first.detail, g.reason, g.first.code);
      return { cause: g.reason, count: g.count, ...(fix !== undefined ? { fix } : {}), sample: g.sample, ...(example ? { example } : {}) };
    });
    return causeGroups("Failures by cause", groups, SUMMARY_REASON_GROUPS);
  }

  skipSection(): string {
    if (this.skipped === 0) return "";
    const rows = [...this.skips.entries()].sort((a, b) => b[1] - a[1]).map(([reason, n]) => [reason, n] as const);
    return `#### Skipped\n\n${table(["Reason", "Instances"], rows, SUMMARY_REASON_GROUPS)}`;
  }

  /** The counts as one table row a person takes in at a glance. */
  countsTable(succeededLabel: string, dryRun = false): string {
    const failed = this.notDone > 0 ? `${this.failed} (${this.notDone} not done)` : String(this.failed);
    if (dryRun) return table(["Selected", "Planned", "Skipped", "Failed"], [[this.total, this.planned, this.skipped, failed]]);
    if (this.rolledBack > 0) {
      return table(["Selected", succeededLabel, "Rolled back", "Skipped", "Failed"], [[this.total, this.succeeded, this.rolledBack, this.skipped, failed]]);
    }
    return table(["Selected", succeededLabel, "Skipped", "Failed"], [[this.total, this.succeeded, this.skipped, failed]]);
  }

  /** Time and rate, for the facts list (a dry run sends nothing: no rate). */
  timing(elapsedMs: number, dryRun = false): [string, string][] {
    if (dryRun) return [["Time", formatDuration(elapsedMs)]];
    const rate = elapsedMs > 0 ? (this.total / (elapsedMs / 1000)).toFixed(1) : "n/a";
    return [["Time", `${formatDuration(elapsedMs)} (${rate} instances/s)`]];
  }
}

/** The part of a failure's detail the cause does not already say ("HTTP 400: code: message" → "message"). */
function exampleOf(detail: string, cause: string, apiCode: string | undefined): string | undefined {
  let rest = detail.replace(/^HTTP \d{3}(: )?/, "");
  if (apiCode && rest.startsWith(`${apiCode}: `)) rest = rest.slice(apiCode.length + 2);
  else if (apiCode && rest === apiCode) rest = "";
  rest = rest.trim();
  return rest === "" || rest === cause || cause.startsWith(rest) ? undefined : rest;
}

function groupKey(o: Pick<TalliedOutcome, "status" | "code" | "reason">): string {
  if (o.code && o.status) return `HTTP ${o.status} ${o.code}`;
  if (o.status) return `HTTP ${o.status}`;
  if (o.code) return o.code;
  return (o.reason ?? "failed").split(":")[0]!;
}
