/**
 * The frame prepare-appliance-upgrade and cancel-appliance-upgrade share: sign in, read the
 * collective, plan (pre-flight problems stop the run before any change; a dry run stops after
 * the plan), act, and whatever way it ends write the outputs, the summary (one row per
 * appliance) and the JSON report file, then the verdict.
 */
import { type Verdict, count } from "../report/verdict.ts";
import { join } from "node:path";
import type { AppgateClient } from "../appgate/api/client.ts";
import { explain } from "../appgate/api/errors.ts";
import { lifecycleJson, lifecycleMarkdown, type LifecycleSummary } from "../appgate/lifecycle-report.ts";
import type { FleetAppliance } from "../appgate/plan/fleet.ts";
import type { LifecycleFacts } from "../appgate/plan/prepare-plan.ts";
import type { LifecycleOutcome, LifecycleRecord } from "../appgate/run/lifecycle-records.ts";
import { readFleet } from "../appgate/run/preflight.ts";
import { DEFAULT_TIMINGS, type UpgradeTimings } from "../appgate/run/timings.ts";
import type { AppgateConnection } from "../config/appgate.ts";
import { writeReportFile } from "../report/report-file.ts";
import { isCancelled } from "../runtime/clock.ts";
import { controllerClient } from "./appgate-client.ts";
import type { OperationContext } from "./context.ts";

export interface LifecyclePlan {
  todo: LifecycleFacts[];
  skipped: (LifecycleFacts & { reason: string })[];
  problems: string[];
  warnings: string[];
  facts: [string, string | number][];
}

export interface LifecycleSpec {
  operation: LifecycleSummary["operation"];
  title: string;
  /** The outcome of an appliance done by this run ("prepared", "cancelled"), also the name of the output listing them. */
  done: "prepared" | "cancelled";
  plan(fleet: FleetAppliance[], client: AppgateClient): Promise<LifecyclePlan>;
  /** Acts on the planned records (not called on a dry run or with problems). */
  act(records: LifecycleRecord[], client: AppgateClient, timings: UpgradeTimings): Promise<void>;
}

/** The outputs (written early, then again at the end): the appliances done, skipped and failed, and the report file. */
function writeOutputs(ctx: OperationContext, done: LifecycleSpec["done"], records: readonly LifecycleRecord[], reportFile?: string): void {
  ctx.report.setOutput(done, outcomeNames(records, done));
  ctx.report.setOutput("skipped", outcomeNames(records, "skipped", "not-started"));
  ctx.report.setOutput("failed", outcomeNames(records, "failed"));
  if (reportFile !== undefined) ctx.report.setOutput("report-file", reportFile);
}

export async function runLifecycle(config: AppgateConnection, ctx: OperationContext, spec: LifecycleSpec, timingsIn: Partial<UpgradeTimings> = {}): Promise<void> {
  const timings = { ...DEFAULT_TIMINGS, ...timingsIn };
  const { logger, clock, signal, report } = ctx;
  const startedAt = clock.now();
  const client = controllerClient(config, ctx);
  const records: LifecycleRecord[] = [];
  let plan: LifecyclePlan | undefined;
  let error: string | undefined;
  let cancelled = false;
  try {
    logger.info(`Pre-flight: reading the collective from ${config.controllerUrl.origin}`);
    await client.connect();
    plan = await spec.plan(await readFleet(client, timings.requestTimeoutMs), client);
    for (const f of plan.todo) records.push({ ...f, outcome: config.dryRun ? "planned" : "not-started" });
    for (const s of plan.skipped) records.push({ ...s, outcome: "skipped" });
    for (const s of plan.skipped) logger.info(`Skipping ${s.name}: ${s.reason}`);
    for (const w of plan.warnings) logger.warning(w);
    for (const p of plan.problems) report.annotate({ level: "error", title: "Appgate pre-flight", message: p });
    writeOutputs(ctx, spec.done, records);
    if (plan.problems.length > 0) {
      error = `Pre-flight found ${plan.problems.length} problem(s); nothing was changed: ${plan.problems.join("; ")}`;
      return;
    }
    logger.info(`Plan: ${plan.todo.length === 0 ? "nothing to do" : plan.todo.map((t) => t.name).join(", ")}`);
    if (config.dryRun || plan.todo.length === 0) return;
    await spec.act(
      records.filter((r) => r.outcome === "not-started"),
      client,
      timings,
    );
    cancelled = signal.aborted;
  } catch (err) {
    if (isCancelled(err, signal)) cancelled = true;
    else error = explain(err);
  } finally {
    const failed = records.filter((r) => r.outcome === "failed");
    const done = records.filter((r) => r.outcome === spec.done);
    const headline = cancelled
      ? "Cancelled"
      : error !== undefined
        ? plan && plan.problems.length > 0
          ? "Pre-flight stopped the run; nothing was changed"
          : "The run did not finish"
        : config.dryRun
          ? "Dry run: the plan below was not carried out"
          : failed.length > 0
            ? `${failed.length} appliance(s) failed`
            : `${done.length} appliance(s) ${spec.done}`;
    const summary: LifecycleSummary = {
      operation: spec.operation,
      title: spec.title,
      controller: config.controllerUrl.origin,
      dryRun: config.dryRun,
      startedAt,
      finishedAt: clock.now(),
      headline,
      facts: plan?.facts ?? [],
      problems: plan?.problems ?? [],
      warnings: plan?.warnings ?? [],
      records,
      ...(error !== undefined ? { error } : {}),
    };
    const file = join(ctx.env.tempDir, `appgate-${spec.operation}-report.json`);
    const written = await writeReportFile(file, lifecycleJson(summary) + "\n", (m) => logger.warning(m));
    writeOutputs(ctx, spec.done, records, written);
    report.setVerdict(lifecycleVerdict(spec.done, { cancelled, error, problems: plan?.problems.length ?? 0, dryRun: config.dryRun, failed: failed.map((r) => r.name), done: done.length, planned: plan?.todo.length ?? 0 }));
    report.addSummary(lifecycleMarkdown(summary));
    for (const r of failed) report.annotate({ level: "error", title: `Appliance ${r.name}`, message: r.reason ?? "failed" });
    if (cancelled) report.fail("Cancelled");
    else if (error !== undefined) report.fail(error);
    else if (failed.length > 0) report.fail(`${failed.length} appliance(s) failed: ${failed.map((r) => `${r.name} (${r.reason ?? "failed"})`).join("; ")}`);
  }
}

/** The verdict line of a prepare or cancel run ("✅ 6 appliances prepared", "❌ 1 appliance failed: gw-a1"). */
function lifecycleVerdict(
  doneWord: string,
  r: { cancelled: boolean; error: string | undefined; problems: number; dryRun: boolean; failed: string[]; done: number; planned: number },
): Verdict {
  const appliances = (n: number): string => `${count(n)} ${n === 1 ? "appliance" : "appliances"}`;
  if (r.cancelled) return { level: "fail", sentence: `Cancelled after ${appliances(r.done)} ${doneWord}`, fix: "Run the step again to finish." };
  if (r.problems > 0) return { level: "fail", sentence: `Pre-flight found ${r.problems} ${r.problems === 1 ? "problem" : "problems"}; nothing was changed`, fix: "Fix the problems listed below, then run again." };
  if (r.error !== undefined) return { level: "fail", sentence: `The run did not finish; ${appliances(r.done)} ${doneWord}`, fix: "See the error below; fix it, then run again." };
  if (r.dryRun) return { level: "ok", sentence: `Dry run: ${appliances(r.planned)} would be ${doneWord}; nothing was changed` };
  if (r.failed.length > 0) {
    const names = r.failed.slice(0, 5).map((n) => `\`${n.replace(/`/g, "'")}\``).join(", ");
    return { level: "fail", sentence: `${appliances(r.failed.length)} failed (${names}${r.failed.length > 5 ? ", …" : ""}); ${appliances(r.done)} ${doneWord}`, fix: "See each failed appliance's outcome below; fix the cause, then run again." };
  }
  if (r.done === 0) return { level: "ok", sentence: `Nothing to do: no appliance needed to be ${doneWord}` };
  return { level: "ok", sentence: `${appliances(r.done)} ${doneWord}` };
}

function outcomeNames(records: readonly LifecycleRecord[], ...outcomes: LifecycleOutcome[]): string {
  return JSON.stringify(records.filter((r) => outcomes.includes(r.outcome)).map((r) => r.name));
}
