import * as core from "@actions/core";
import { redact } from "../runtime/secrets.ts";
import type { RunReport } from "./run-report.ts";
import { renderSummary } from "./summary.ts";
import { capSummary } from "./summary-cap.ts";

/**
 * Writes a RunReport where the runner reads it: step outputs, the job summary, annotations, the
 * step's result. Every string passes through redact() first (a server may echo a secret).
 */
export async function writeReport(report: RunReport): Promise<void> {
  // An output file the step cannot write (a bad GITHUB_OUTPUT) fails the step with one clear
  // line, after the annotations and the summary are still tried.
  let outputsError: string | undefined;
  try {
    for (const [name, value] of report.outputs) core.setOutput(name, redact(value));
  } catch (err) {
    outputsError = `Could not write the step's outputs (GITHUB_OUTPUT): ${redact(err instanceof Error ? err.message : String(err))}`;
  }
  for (const a of report.annotations) {
    const props = { title: redact(a.title) };
    const message = redact(a.message);
    if (a.level === "error") core.error(message, props);
    else if (a.level === "warning") core.warning(message, props);
    else core.notice(message, props);
  }
  const reported = report.failure === undefined ? undefined : redact(report.failure);
  const failure = outputsError === undefined ? reported : reported === undefined ? outputsError : `${reported}. Also: ${outputsError}`;
  const markdown = renderSummary(report);
  if (markdown !== "" && !process.env.GITHUB_STEP_SUMMARY) {
    // GitHub Enterprise Server before 3.6 has no job summaries: the log and outputs carry the result.
    core.info("No job summary is written: this runner does not provide GITHUB_STEP_SUMMARY (GitHub Enterprise Server before 3.6).");
  } else if (markdown !== "") {
    try {
      await core.summary.addRaw(capSummary(redact(markdown)), true).write();
    } catch (err) {
      core.warning(`Could not write the job summary: ${redact((err as Error).message)}`);
    }
  }
  if (failure !== undefined) core.setFailed(failure);
}
