import { formatDuration } from "../runtime/duration.ts";
import { code, escapeCell, table } from "./markdown.ts";

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
  sample: { name: string; detail: string }[];
}

/**
 * Counts and groups the outcomes of a bulk run for outputs and the job summary. It keeps what
 * the outputs need (the names of failed instances) and bounded samples for the summary; the
 * full record is the report file. The summary stays far below GitHub's 1 MiB at 100,000 items.
 */
export class BulkTally {
  succeeded = 0;
  skipped = 0;
  failed = 0;
  notDone = 0;
  /** Instances updated by this run, then set back to their earlier version (a halted rollout). */
  rolledBack = 0;
  readonly failedNames: string[] = [];
  readonly succeededSample: string[] = [];
  private readonly failures = new Map<string, ReasonGroup>();
  private readonly skips = new Map<string, number>();

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
    if (!g) this.failures.set(key, (g = { reason: key, count: 0, sample: [] }));
    g.count++;
    if (g.sample.length < SUMMARY_ROWS_PER_REASON) g.sample.push({ name: o.name, detail: o.reason ?? "" });
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
    return this.succeeded + this.skipped + this.failed + this.rolledBack;
  }

  /** Markdown: the failures grouped by reason, largest group first, each with a capped table. */
  failureSection(): string {
    if (this.failed === 0 || this.failures.size === 0) return "";
    const groups = [...this.failures.values()].sort((a, b) => b.count - a.count);
    const shown = groups.slice(0, SUMMARY_REASON_GROUPS);
    const blocks = shown.map((g) => {
      const rows = g.sample.map((s) => [code(s.name), s.detail]);
      const more = g.count - g.sample.length;
      return (
        `**${escapeCell(g.reason)}**: ${g.count}\n\n${table(["Instance", "Detail"], rows)}` +
        (more > 0 ? `\n\n_…and ${more} more with this reason (see the report file)._` : "")
      );
    });
    const hidden = groups.length - shown.length;
    return `#### Failures by reason\n\n${blocks.join("\n\n")}${hidden > 0 ? `\n\n_…and ${hidden} more reasons (see the report file)._` : ""}`;
  }

  skipSection(): string {
    if (this.skipped === 0) return "";
    const rows = [...this.skips.entries()].sort((a, b) => b[1] - a[1]).map(([reason, n]) => [reason, n] as const);
    return `#### Skipped\n\n${table(["Reason", "Instances"], rows, SUMMARY_REASON_GROUPS)}`;
  }

  /** The counts as one table row a person takes in at a glance. */
  countsTable(succeededLabel: string): string {
    const failed = this.notDone > 0 ? `${this.failed} (${this.notDone} not done)` : String(this.failed);
    if (this.rolledBack > 0) {
      return table(["Selected", succeededLabel, "Rolled back", "Skipped", "Failed"], [[this.total, this.succeeded, this.rolledBack, this.skipped, failed]]);
    }
    return table(["Selected", succeededLabel, "Skipped", "Failed"], [[this.total, this.succeeded, this.skipped, failed]]);
  }

  /** Time and rate, for the facts list. */
  timing(elapsedMs: number): [string, string][] {
    const rate = elapsedMs > 0 ? (this.total / (elapsedMs / 1000)).toFixed(1) : "n/a";
    return [["Time", `${formatDuration(elapsedMs)} (${rate} instances/s)`]];
  }
}

function groupKey(o: Pick<TalliedOutcome, "status" | "code" | "reason">): string {
  if (o.code && o.status) return `HTTP ${o.status} ${o.code}`;
  if (o.status) return `HTTP ${o.status}`;
  if (o.code) return o.code;
  return (o.reason ?? "failed").split(":")[0]!;
}
