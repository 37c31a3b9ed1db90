import type { RunReport } from "./run-report.ts";
import { type Verdict, verdictMarkdown } from "./verdict.ts";

/** Failure messages up to this long are the verdict sentence itself; longer ones follow it. */
const SHORT_FAILURE = 160;

/**
 * The job summary of one step: the verdict line first, then the operation's blocks. A failure
 * the operation did not put into words gets a ❌ line of its own, and its message is shown.
 */
export function renderSummary(report: RunReport): string {
  let verdict: Verdict | undefined = report.verdict;
  const blocks = [...report.summary];
  const failure = report.failure?.replace(/\r?\n|\r/g, " ");
  if (failure !== undefined) {
    if (verdict?.level !== "fail") {
      const short = failure.length <= SHORT_FAILURE;
      verdict = { level: "fail", sentence: short ? `Failed: ${failure}` : "The step failed" };
      if (!short) blocks.unshift(`> [!CAUTION]\n> ${failure}`);
    } else if (!verdict.covers && !`${verdict.sentence} ${verdict.fix ?? ""}`.includes(failure)) {
      blocks.unshift(`**Error:** ${failure}`);
    }
  }
  if (verdict === undefined && blocks.length === 0) return "";
  return [...(verdict ? [verdictMarkdown(verdict)] : []), ...blocks].filter(Boolean).join("\n\n");
}
