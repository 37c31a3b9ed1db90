import * as core from "@actions/core";
import type { RunReport } from "./run-report.ts";

/** Writes a RunReport where the runner reads it: step outputs, the job summary, annotations, the step's result. */
export async function writeReport(report: RunReport): Promise<void> {
  for (const [name, value] of report.outputs) core.setOutput(name, value);
  for (const a of report.annotations) {
    const props = { title: a.title };
    if (a.level === "error") core.error(a.message, props);
    else if (a.level === "warning") core.warning(a.message, props);
    else core.notice(a.message, props);
  }
  const blocks = [...report.summary];
  if (report.failure !== undefined) blocks.push(`> [!CAUTION]\n> **Failed:** ${report.failure.replace(/\r?\n/g, " ")}`);
  if (blocks.length > 0 && process.env.GITHUB_STEP_SUMMARY) {
    try {
      await core.summary.addRaw(blocks.join("\n\n"), true).write();
    } catch (err) {
      core.warning(`Could not write the job summary: ${(err as Error).message}`);
    }
  }
  if (report.failure !== undefined) core.setFailed(report.failure);
}
