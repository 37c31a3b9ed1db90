/**
 * complete-appliance-upgrade: finish the prepared Appgate SDP appliance upgrades of a collective,
 * in sdpctl's order, verifying each appliance, resuming a run left halfway. Outputs, summary and
 * the report file are written whatever way the run ends (success, failure, cancellation).
 */
import { join } from "node:path";
import type { AppgateConfig } from "../config/appgate.ts";
import { isLoopbackHost } from "../config/inputs.ts";
import { isCancelled } from "../runtime/clock.ts";
import { AppgateClient } from "../appgate/api/client.ts";
import { explain, messageOf } from "../appgate/api/errors.ts";
import { preflight, type ResolveHost, resolveWithDns } from "../appgate/run/preflight.ts";
import type { UpgradePlan } from "../appgate/plan/model.ts";
import { type ApplianceRecord, namesWith } from "../appgate/run/records.ts";
import { writeTextFile } from "../report/report-file.ts";
import type { RunReport } from "../report/run-report.ts";
import { REPORT_FILE_NAME, reportJson, type RunResult, summaryMarkdown, type RunSummary } from "../appgate/report.ts";
import { runPlan } from "../appgate/run/runner.ts";
import { appgateVerdict } from "../appgate/verdict.ts";
import { DEFAULT_TIMINGS, type UpgradeTimings } from "../appgate/run/timings.ts";
import type { OperationContext } from "./context.ts";

/** Not user inputs: for tests, the bench and the demo. */
export interface UpgradeRunOptions {
  timings?: Partial<UpgradeTimings>;
  resolveHost?: ResolveHost;
}

export async function completeApplianceUpgrade(
  config: AppgateConfig,
  ctx: OperationContext,
  options: UpgradeRunOptions = {},
): Promise<void> {
  const timings: UpgradeTimings = { ...DEFAULT_TIMINGS, ...options.timings };
  const { logger, clock, signal, report } = ctx;
  const startedAt = clock.now();
  const reportFile = join(ctx.env.tempDir, REPORT_FILE_NAME);
  const client = new AppgateClient({
    http: ctx.http,
    baseUrl: config.apiBaseUrl,
    auth: config.auth,
    logger,
    signal,
    onToken: (token) => ctx.mask(token),
    ...(config.apiVersion !== undefined ? { apiVersion: config.apiVersion } : {}),
  });

  let plan: UpgradePlan | undefined;
  const records: ApplianceRecord[] = [];
  let result: RunResult = "failed";
  let stoppedBy: string | undefined;
  let error: string | undefined;
  let inMaintenance: string[] = [];
  let apiVersion: number | undefined;

  try {
    logger.info(`Pre-flight: reading the collective from ${config.controllerUrl.origin}`);
    await client.connect();
    apiVersion = client.apiVersion;
    const pre = await preflight(client, {
      controllerHost: config.controllerUrl.hostname,
      maxUnavailable: config.maxUnavailable,
      resolveHost: options.resolveHost ?? resolveWithDns,
      hostIsLoopback: isLoopbackHost(config.controllerUrl.hostname),
      requestTimeoutMs: timings.requestTimeoutMs,
      ...(config.appliances !== undefined ? { selection: config.appliances } : {}),
    });
    plan = pre.plan;
    records.push(...initialRecords(plan, config.dryRun));
    publishOutputs(report, records);
    logPlan(plan, logger.info.bind(logger), logger.warning.bind(logger));

    if (plan.problems.length > 0) {
      result = "aborted";
      for (const p of plan.problems) report.annotate({ level: "error", title: "Appgate pre-flight", message: p });
      report.fail(`Pre-flight found ${plan.problems.length} problem(s); nothing was changed: ${plan.problems.join("; ")}`);
      return;
    }
    if (config.dryRun) {
      result = "dry-run";
      logger.info("Dry run: nothing was changed");
      return;
    }
    if (plan.stages.length === 0) {
      result = "nothing-to-do";
      logger.info("Nothing to do: no appliance needs completing");
      return;
    }

    const byId = new Map(records.map((r) => [r.id, r]));
    const outcome = await runPlan(plan, byId, { client, clock, signal, logger, timings, applianceTimeoutMs: config.applianceTimeoutMs }, () =>
      publishOutputs(report, records),
    );
    inMaintenance = outcome.inMaintenance;
    if (outcome.stoppedBy !== undefined) stoppedBy = outcome.stoppedBy;
    result = outcome.cancelled ? "cancelled" : records.some((r) => r.outcome === "failed") || stoppedBy ? "failed" : "succeeded";
  } catch (err) {
    if (isCancelled(err, signal)) {
      result = "cancelled";
    } else {
      result = "failed";
      error = explain(err);
    }
  } finally {
    const finishedAt = clock.now();
    if (result === "cancelled") {
      for (const r of records) {
        if (r.outcome === "not-started" && r.reason === undefined) r.reason = "the run was cancelled";
      }
    }
    const summary: RunSummary = {
      controller: config.controllerUrl.origin,
      maxUnavailable: config.maxUnavailable,
      dryRun: config.dryRun,
      startedAt,
      finishedAt,
      result,
      records,
      inMaintenance,
      ...(apiVersion !== undefined ? { apiVersion } : {}),
      ...(plan?.primary ? { primary: plan.primary.name } : {}),
      ...(plan ? { plan } : {}),
      ...(stoppedBy !== undefined ? { stoppedBy } : {}),
      ...(error !== undefined ? { error } : {}),
    };
    let written: string | undefined;
    try {
      await writeTextFile(reportFile, reportJson(summary) + "\n");
      written = reportFile;
    } catch (err) {
      logger.warning(`Could not write the report file ${reportFile}: ${messageOf(err)}`);
    }
    publishOutputs(report, records, written);
    report.setVerdict(appgateVerdict(summary));
    report.addSummary(summaryMarkdown(summary));
    finalVerdict(summary, ctx);
  }
}

/**
 * JSON arrays of names; `unfinished` = still under way on the Controller when the run was
 * cancelled. `report-file` only once the file is written.
 */
function publishOutputs(report: RunReport, records: readonly ApplianceRecord[], reportFile?: string): void {
  report.setOutput("upgraded", JSON.stringify(namesWith(records, "upgraded")));
  report.setOutput("skipped", JSON.stringify(namesWith(records, "skipped", "not-started")));
  report.setOutput("failed", JSON.stringify(namesWith(records, "failed")));
  report.setOutput("unfinished", JSON.stringify(namesWith(records, "unfinished")));
  if (reportFile !== undefined) report.setOutput("report-file", reportFile);
}

function initialRecords(plan: UpgradePlan, dryRun: boolean): ApplianceRecord[] {
  const out: ApplianceRecord[] = [];
  for (const stage of plan.stages) {
    for (const p of stage.appliances) {
      const r: ApplianceRecord = {
        id: p.id,
        name: p.name,
        role: p.isPrimary ? `${p.role} (primary)` : p.role,
        site: p.site,
        stage: stage.label,
        targetVersion: p.targetText,
        outcome: dryRun ? "planned" : "not-started",
      };
      if (p.versionBefore !== undefined) r.versionBefore = p.versionBefore;
      if (p.partitionBefore !== undefined) r.partitionBefore = p.partitionBefore;
      out.push(r);
    }
  }
  for (const f of plan.failed) out.push({ ...f, outcome: "failed" });
  for (const s of plan.skipped) {
    out.push({ ...s, outcome: "skipped" });
  }
  return out;
}

function logPlan(plan: UpgradePlan, info: (m: string) => void, warn: (m: string) => void): void {
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

function finalVerdict(s: RunSummary, ctx: OperationContext): void {
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
