/**
 * How a complete-appliance-upgrade run is told: the plan in the log, and the verdict at the end
 * (annotations for what is still under way, left in maintenance mode, or failed; the step's
 * failure message).
 */
import type { RunSummary } from "../appgate/report.ts";
import type { UpgradePlan } from "../appgate/plan/model.ts";
import type { OperationContext } from "./context.ts";

export function logPlan(plan: UpgradePlan, info: (m: string) => void, warn: (m: string) => void): void {
  if (plan.primary) info(`Primary Controller: ${plan.primary.name}`);
  if (plan.targetVersions.length > 0) info(`Prepared version: ${plan.targetVersions.join(", ")}`);
  for (const s of plan.skipped) info(`Skipping ${s.name}: ${s.reason}`);
  for (const f of plan.failed) warn(`${f.name}: ${f.reason}`);
  for (const w of plan.warnings) warn(w);
  for (const p of plan.problems) warn(`Pre-flight: ${p}`);
  info("Plan:");
  if (plan.maintenance.length > 0) info(`  maintenance mode on: ${plan.maintenance.map((c) => c.name).join(", ")}`);
  for (const s of plan.stages) info(`  ${s.label}: ${s.appliances.map((a) => a.name).join(", ")}`);
  if (plan.stages.length === 0) info("  (nothing to complete)");
}

export function finalVerdict(s: RunSummary, ctx: OperationContext): void {
  const failed = s.records.filter((r) => r.outcome === "failed");
  const unfinished = s.records.filter((r) => r.outcome === "unfinished");
  if (unfinished.length > 0) {
    ctx.report.annotate({
      level: "warning",
      title: "Appliances still upgrading",
      message: `Still under way on the Controller: ${unfinished.map((r) => `${r.name} (${r.lastSeen ?? "unknown"})`).join(", ")}. Run again to resume.`,
    });
  }
  if (s.inMaintenance.length > 0) {
    ctx.report.annotate({
      level: "warning",
      title: "Controllers in maintenance mode",
      message: `Still in maintenance mode: ${s.inMaintenance.join(", ")}`,
    });
  }
  for (const r of failed) ctx.report.annotate({ level: "error", title: `Appliance ${r.name}`, message: r.reason ?? "failed" });
  if (s.result === "cancelled") {
    ctx.report.fail(
      `Cancelled${unfinished.length > 0 ? `; still under way on the Controller: ${unfinished.map((r) => r.name).join(", ")} (run again to resume)` : ""}`,
    );
  } else if (s.error !== undefined) {
    ctx.report.fail(s.error);
  } else if (failed.length > 0) {
    ctx.report.fail(
      `${failed.length} appliance(s) failed: ${failed.map((r) => `${r.name} (${r.reason ?? "failed"})`).join("; ")}${s.stoppedBy ? `. Stopped: ${s.stoppedBy}` : ""}`,
    );
  } else if (s.result === "failed") {
    ctx.report.fail(s.stoppedBy ?? "The upgrade did not finish");
  }
}
