import { selectInstances } from "../bulk/selection.ts";
import type { BulkSettings, InstanceSelection } from "../config/config.ts";
import { BulkTally } from "../report/bulk-tally.ts";
import { code } from "../report/markdown.ts";
import { JsonLinesFile } from "../report/report-file.ts";
import { writeBulkOutputs } from "./bulk-summary.ts";
import type { OperationContext } from "./context.ts";

/** What a bulk operation runs before its bulk phase (resolving versions), and on what. */
export interface EarlyJob {
  operation: string;
  machine: string;
  scope: string;
  settings: BulkSettings & { dryRun: boolean };
  selection: InstanceSelection;
  /** The word for success in the summary ("updated", "deleted"). */
  succeededWord: string;
}

/**
 * Runs the steps before a bulk phase. When the run is cancelled during them, every
 * instance of a selection known without a request (a names list) is accounted for: listed as not
 * sent in the outputs, the failed-instances file, the report file and the summary. When the
 * selection is not known yet (a listing or a query), the summary says that nothing was sent.
 */
export async function beforeBulk<T>(ctx: OperationContext, job: EarlyJob, steps: () => Promise<T>): Promise<T> {
  const started = ctx.clock.now();
  try {
    return await steps();
  } catch (err) {
    // An error (a label that does not exist) is the step's whole story, and the counts stay 0 for
    // a later step; a cancellation leaves work not done, so it is listed.
    if (ctx.signal.aborted) {
      await accountUnsent(ctx, job, "the run was cancelled", ctx.clock.now() - started).catch((e: Error) => ctx.logger.warning(`Could not write what was not sent: ${e.message}`));
    }
    throw err;
  }
}

async function accountUnsent(ctx: OperationContext, job: EarlyJob, why: string, elapsedMs: number): Promise<void> {
  const title = `${job.operation} of ${code(job.machine)}: stopped before sending`;
  if (job.selection.kind !== "list") {
    ctx.report.addSummary(`### ${title}\n\n${capitalizeFirst(why)} before the instances were selected: nothing was sent.`);
    return;
  }
  const tally = new BulkTally();
  const file = await JsonLinesFile.create(ctx.env.tempDir, `${job.operation}-${job.machine}`);
  ctx.report.setOutput("report-file", file.path);
  const sel = selectInstances(job.selection.names, job.settings.shard ? { shard: job.settings.shard } : {});
  const reason = `not sent: ${why} before any request`;
  for (const name of sel.valid) {
    tally.add({ name, outcome: "failed", reason, cancelled: true });
    file.write({ instance: name, outcome: "not-done", reason });
  }
  for (const bad of sel.invalid) {
    const r = `invalid name: ${bad.reason}`;
    tally.add({ name: bad.name, outcome: "failed", reason: r });
    file.write({ instance: bad.name, outcome: "failed", reason: r });
  }
  await file.close();
  await writeBulkOutputs(
    ctx,
    {
      succeededWord: job.succeededWord,
      title,
      facts: [["Machine", code(job.machine)]],
      listSucceeded: false,
      words: { done: () => job.succeededWord, wouldBe: () => `would be ${job.succeededWord}`, failedTo: () => `were not sent (${why})` },
    },
    {
      operation: job.operation,
      machine: job.machine,
      scope: job.scope,
      cancelled: ctx.signal.aborted,
      settings: job.settings,
      tally,
      reportPath: file.path,
      dryRun: { sample: [], count: 0 },
      elapsedMs,
    },
  );
}

function capitalizeFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
