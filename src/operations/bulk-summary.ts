import { basename, join } from "node:path";
import type { BulkSettings } from "../config/config.ts";
import type { BulkTally } from "../report/bulk-tally.ts";
import { code, facts, table } from "../report/markdown.ts";
import { writeTextFile } from "../report/report-file.ts";
import { runFactRows } from "../report/run-facts.ts";
import type { OperationContext } from "./context.ts";

/** How a bulk run is shown: words, title and facts of its summary. */
export interface BulkPresentation {
  /** The word for success in the report and summary ("updated", "deleted"). */
  succeededWord: string;
  /** Title of the summary, e.g. "Set desired version of `m` to `ver_…`". */
  title: string;
  /** Extra facts for the summary (target version…). */
  facts: [string, string][];
  /** Whether to list succeeded names in the summary (deletions: yes). */
  listSucceeded: boolean;
  /** Sections of the operation's own, made when the run has ended (versions before the run, probes). */
  sections?: () => string[];
}

/** What the summary and outputs need of a finished (or stopped) bulk run. */
export interface BulkEnding {
  operation: string;
  settings: BulkSettings & { dryRun: boolean };
  tally: BulkTally;
  /** The JSON Lines report file. */
  reportPath: string;
  /** Names that would have been sent, for a dry run's list: the first ones, and how many. */
  dryRun: { sample: readonly string[]; count: number };
  elapsedMs: number;
  /** The "Requests" fact, when requests were sent. */
  traffic?: [string, string];
  /** Sections shown before the counts (a rollout's waves). */
  before?: readonly string[];
}

/**
 * Writes the counts, failed-instances (output and file) and the job summary of a bulk run,
 * however it ended.
 */
export async function writeBulkOutputs(ctx: OperationContext, view: BulkPresentation, end: BulkEnding): Promise<void> {
  const { report, logger } = ctx;
  const { tally, settings } = end;
  report.setOutput("succeeded-count", tally.succeeded);
  report.setOutput("skipped-count", tally.skipped);
  report.setOutput("failed-count", tally.failed);
  const failedList = tally.failedNames.join("\n");
  report.setOutput("failed-instances", failedList);
  // The same names in a file: an input past ~128 KiB cannot be passed to a step at all.
  const failedFile = join(ctx.env.tempDir, `${basename(end.reportPath, ".jsonl")}-failed.txt`);
  try {
    await writeTextFile(failedFile, failedList === "" ? "" : `${failedList}\n`);
    report.setOutput("failed-instances-file", failedFile);
  } catch (err) {
    logger.warning(`Could not write the list of failed instances: ${(err as Error).message}`);
  }
  const word = view.succeededWord;
  const sections = [
    `### ${settings.dryRun ? "Dry run: " : ""}${view.title}`,
    ...(end.before ?? []),
    tally.countsTable(capitalize(word)),
    facts([...view.facts, ...shardFact(settings.shard), ...tally.timing(end.elapsedMs), ...(end.traffic ? [end.traffic] : []), ...runFactRows(ctx.env)]),
  ];
  if (view.listSucceeded && tally.succeeded > 0) {
    sections.push(`#### ${capitalize(word)}\n\n${table(["Instance"], tally.succeededSample.map((n) => [code(n)]))}` +
      (tally.succeeded > tally.succeededSample.length ? `\n\n_…and ${tally.succeeded - tally.succeededSample.length} more (see the report file)._` : ""));
  }
  const { sample, count } = end.dryRun;
  if (settings.dryRun && count > 0) {
    const shown = sample.slice(0, 200).map((n) => [code(n)]);
    sections.push(`#### Would be ${word}: ${count}\n\n${table(["Instance"], shown)}` +
      (count > shown.length ? `\n\n_…and ${count - shown.length} more (see the report file)._` : ""));
  }
  sections.push(...(view.sections?.() ?? []), tally.failureSection(), tally.skipSection(), `Report file: ${code(end.reportPath)}`);
  report.addSummary(sections.filter(Boolean).join("\n\n"));
  logger.info(
    `${end.operation}: ${tally.succeeded} ${word}, ${tally.rolledBack > 0 ? `${tally.rolledBack} rolled back, ` : ""}${tally.skipped} skipped, ${tally.failed} failed of ${tally.total} in ${(end.elapsedMs / 1000).toFixed(3)} s.`,
  );
}

function shardFact(shard: BulkSettings["shard"]): [string, string][] {
  return shard ? [["Shard", `${shard.index}/${shard.count}`]] : [];
}

export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
