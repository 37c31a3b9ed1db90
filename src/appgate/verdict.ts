/** The verdict line of an Appgate appliance upgrade run, in an administrator's words. */
import { code } from "../report/markdown.ts";
import { count, escapeInline, plural, type Verdict } from "../report/verdict.ts";
import type { RunSummary } from "./report.ts";
import { namesWith } from "./run/records.ts";

const NAMES_IN_VERDICT = 5;

function names(list: readonly string[]): string {
  const shown = list.slice(0, NAMES_IN_VERDICT).map((n) => code(n)).join(", ");
  return list.length > NAMES_IN_VERDICT ? `${shown} and ${count(list.length - NAMES_IN_VERDICT)} more` : shown;
}

export function appgateVerdict(s: RunSummary): Verdict {
  const upgraded = namesWith(s.records, "upgraded");
  const failed = namesWith(s.records, "failed");
  const unfinished = namesWith(s.records, "unfinished");
  const planned = namesWith(s.records, "planned");
  const target = s.plan && s.plan.targetVersions.length > 0 ? ` to **${escapeInline(s.plan.targetVersions.join(", "))}**` : "";
  const maintenance = s.inMaintenance.length > 0 ? ` ${names(s.inMaintenance)} still in maintenance mode: run again to finish.` : "";
  switch (s.result) {
    case "succeeded":
      return s.inMaintenance.length > 0
        ? { level: "warn", sentence: `Upgraded ${plural(upgraded.length, "appliance")}${target}, but some Controllers are still in maintenance mode`, fix: maintenance.trim() }
        : { level: "ok", sentence: `Upgraded ${plural(upgraded.length, "appliance")}${target}; every one verified on its new version` };
    case "dry-run":
      return {
        level: "ok",
        sentence: `Dry run: ${plural(planned.length, "appliance")} would be upgraded${target} in ${plural(s.plan?.stages.length ?? 0, "stage")}; nothing was changed`,
      };
    case "nothing-to-do":
      return { level: "ok", sentence: "Nothing to do: no appliance has a prepared upgrade waiting to be completed" };
    case "aborted":
      return {
        level: "fail",
        sentence: `Pre-flight found ${plural(s.plan?.problems.length ?? 0, "problem")}; nothing was changed`,
        fix: "Fix the pre-flight problems listed below on the Controller (or narrow `appliances`), then run again.",
      };
    case "cancelled":
      return {
        level: "fail",
        sentence: `Cancelled after upgrading ${plural(upgraded.length, "appliance")}${unfinished.length > 0 ? `; ${names(unfinished)} still under way on the Controller` : ""}`,
        fix: `Run the step again: it resumes where this run stopped.${maintenance}`,
      };
    case "failed":
      if (failed.length > 0) {
        return {
          level: "fail",
          sentence: `${plural(failed.length, "appliance")} failed (${names(failed)}); ${count(upgraded.length)} upgraded${target}`,
          fix: `See each failed appliance's outcome below; fix the cause, then run again: upgraded appliances are skipped.${maintenance}`,
        };
      }
      return {
        level: "fail",
        sentence: `The upgrade did not finish; ${count(upgraded.length)} ${upgraded.length === 1 ? "appliance" : "appliances"} upgraded`,
        fix: `${s.error ? "See the error below; fix it, then run again." : "Run again: upgraded appliances are skipped."}${maintenance}`,
      };
  }
}
