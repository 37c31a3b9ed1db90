/**
 * complete-appliance-upgrade: finish the prepared Appgate SDP appliance upgrades of a collective,
 * in sdpctl's order, verifying each appliance, resuming a run left halfway. Outputs, summary and
 * the report file are written whatever way the run ends (success, failure, cancellation).
 */
import { join } from "node:path";
import type { AppgateConfig } from "../config/appgate.ts";
import { isLoopbackHost } from "../config/inputs.ts";
import type { AppgateClient } from "../appgate/api/client.ts";
import { isCancelled } from "../runtime/clock.ts";
import { explain } from "../appgate/api/errors.ts";
import { preflight, type ResolveHost, resolveWithDns } from "../appgate/run/preflight.ts";
import type { UpgradePlan } from "../appgate/plan/model.ts";
import { type ApplianceRecord, namesWith } from "../appgate/run/records.ts";
import { writeReportFile } from "../report/report-file.ts";
import type { RunReport } from "../report/run-report.ts";
import { REPORT_FILE_NAME, reportJson, type RunResult, summaryMarkdown, type RunSummary } from "../appgate/report.ts";
import { type RunDeps, runPlan } from "../appgate/run/runner.ts";
import { appgateVerdict } from "../appgate/verdict.ts";
import { DEFAULT_TIMINGS, type UpgradeTimings } from "../appgate/run/timings.ts";
import { backupPrimary, type BackupResult } from "../appgate/run/backup.ts";
import { initialRecords } from "../appgate/run/records.ts";
import { controllerClient, defaultBackupPath } from "./appgate-client.ts";
import { finalVerdict, logPlan } from "./appgate-verdict.ts";
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
  const client = controllerClient(config, ctx);

  let plan: UpgradePlan | undefined;
  const records: ApplianceRecord[] = [];
  let result: RunResult = "failed";
  let stoppedBy: string | undefined;
  let error: string | undefined;
  let inMaintenance: string[] = [];
  let apiVersion: number | undefined;
  let backup: BackupResult | undefined;

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
    if (config.backup) await checkBackupApi(client, plan);
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
      logger.info(`Dry run: nothing was changed${config.backup ? " (the Backup API is enabled; no backup was made)" : ""}`);
      return;
    }
    if (plan.stages.length === 0) {
      result = "nothing-to-do";
      logger.info("Nothing to do: no appliance needs completing");
      return;
    }

    if (config.backup && plan.primary) {
      const file = config.backupPath ?? defaultBackupPath(ctx.env.tempDir, plan.primary.name, clock.now());
      const deps = { backups: client.backups, clock, signal, logger, timings, timeoutMs: config.applianceTimeoutMs };
      backup = await backupPrimary(plan.primary, file, deps);
      report.setOutput("backup-file", backup.file);
    }
    const byId = new Map(records.map((r) => [r.id, r]));
    const deps: RunDeps = {
      client,
      clock,
      signal,
      logger,
      timings,
      applianceTimeoutMs: config.applianceTimeoutMs,
      refreshVersion: () => client.refreshVersion(),
      // After a cancellation: a client of its own (signing in again, at the API version in use).
      afterCancel: (work) => ctx.afterCancel((http, s) => work(controllerClient(config, { ...ctx, http, signal: s }, client.apiVersion), s)),
    };
    const outcome = await runPlan(plan, byId, deps, () => publishOutputs(report, records));
    apiVersion = client.apiVersion;
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
      ...(backup !== undefined ? { backup } : {}),
    };
    const written = await writeReportFile(reportFile, reportJson(summary) + "\n", (m) => logger.warning(m));
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

/** With backup on, the Backup API must be enabled in the global settings: the action never changes them. */
async function checkBackupApi(client: AppgateClient, plan: UpgradePlan): Promise<void> {
  const enabled = await client.backups.apiEnabled({ retry: "idempotent" });
  if (enabled === false) {
    plan.problems.push(
      "backup: the Backup API is disabled in the collective's global settings, so the primary Controller cannot be backed up first. " +
        "Enable it (admin UI: System > Settings > Backup API, or `sdpctl appliance backup api`; it also sets the backup passphrase), or set backup: false to go without",
    );
  } else if (enabled === undefined) {
    plan.warnings.push("backup: the global settings do not say whether the Backup API is enabled; trying anyway");
  }
}
