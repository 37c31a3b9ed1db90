import { basename, join } from "node:path";
import type { BulkSettings } from "../config/config.ts";
import type { BulkTally } from "../report/bulk-tally.ts";
import { code, facts, table } from "../report/markdown.ts";
import { writeTextFile } from "../report/report-file.ts";
import { runFactRows } from "../report/run-facts.ts";
import { collapsed, foldedTable, OPEN_TABLE_ROWS } from "../report/sections.ts";
import { count } from "../report/verdict.ts";
import type { ApiError } from "../statebacked/errors.ts";
import { type BulkWords, bulkVerdict, instanceFix } from "./bulk-verdict.ts";
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
  /** The verdict's words for what happened to the instances. */
  words: BulkWords;
  /** Said after the verdict sentence of a successful run, e.g. "(were on v1.0.0: 900)"; made when the run has ended. */
  doneDetail?: () => string | undefined;
}

/** What the summary and outputs need of a finished (or stopped) bulk run. */
export interface BulkEnding {
  operation: string;
  machine: string;
  /** The scope the requests need, for the fixes. */
  scope: string;
  cancelled: boolean;
  /** A refusal that stopped the whole run. */
  runWide?: ApiError;
  /** Why a rollout halted. */
  halted?: string;
  /** Why the operation's own gate stopped the run (no migration path). */
  stopped?: string;
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
  report.setOutput("planned-count", tally.planned);
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
  const dryRun = settings.dryRun;
  const fixFor = instanceFix(end.scope);
  const detail = view.doneDetail?.();
  report.setVerdict(
    bulkVerdict(
      tally,
      {
        machine: end.machine,
        words: view.words,
        dryRun,
        failOnError: settings.failOnError,
        cancelled: end.cancelled,
        ...(end.runWide ? { runWide: end.runWide } : {}),
        ...(end.halted ? { halted: end.halted } : {}),
        ...(end.stopped ? { stopped: end.stopped } : {}),
        ...(detail ? { detail } : {}),
      },
      fixFor,
    ),
  );
  const sections = [
    `#### ${view.title}${dryRun ? " (dry run: nothing was sent)" : ""}`,
    ...(end.before ?? []),
    tally.countsTable(capitalize(word), dryRun),
    ...(view.sections?.() ?? []),
    tally.failureSection(fixFor),
    tally.skipSection(),
    facts([...view.facts, ...shardFact(settings.shard), ...tally.timing(end.elapsedMs, dryRun), ...(end.traffic ? [end.traffic] : []), ...runFactRows(ctx.env)]),
  ];
  if (view.listSucceeded && tally.succeeded > 0) sections.push(nameList(capitalize(word), tally.succeeded, tally.succeededSample));
  if (dryRun && tally.planned > 0) sections.push(nameList(`Would be ${word}`, tally.planned, tally.plannedSample));
  sections.push(reportFileLine(end.reportPath));
  report.addSummary(sections.filter(Boolean).join("\n\n"));
  logger.info(
    `${end.operation}: ${tally.succeeded} ${word}, ${tally.rolledBack > 0 ? `${tally.rolledBack} rolled back, ` : ""}${tally.skipped} skipped, ${tally.failed} failed of ${tally.total} in ${(end.elapsedMs / 1000).toFixed(3)} s.`,
  );
}

/** Names in a table, folded when long; the sample is bounded, the count is the whole. */
function nameList(title: string, total: number, sample: readonly string[]): string {
  const rows = sample.map((n) => [code(n)]);
  const more = total > sample.length ? `\n\n_…and ${count(total - sample.length)} more (see the report file)._` : "";
  if (total <= OPEN_TABLE_ROWS) return foldedTable(`${title}: ${count(total)}`, ["Instance"], rows) + more;
  return collapsed(`${title}: ${count(total)}`, table(["Instance"], rows) + more);
}

/** The report file's path and how to keep it (the runner's temp folder is emptied after the job). */
export function reportFileLine(path: string): string {
  return `Report file: ${code(path)}. It is deleted with the runner; to keep it, upload it with \`actions/upload-artifact\` (README: “Keep the report file”).`;
}

function shardFact(shard: BulkSettings["shard"]): [string, string][] {
  return shard ? [["Shard", `${shard.index}/${shard.count}`]] : [];
}

export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
