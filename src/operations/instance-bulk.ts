import { basename, join } from "node:path";
import { runBulk } from "../bulk/pool.ts";
import { formatProgress } from "../bulk/progress.ts";
import type { AttemptResult, ItemOutcome } from "../bulk/types.ts";
import { selectInstances } from "../bulk/selection.ts";
import type { BulkSettings } from "../config/config.ts";
import { classifyHttp } from "../http/classify.ts";
import type { HttpResponse } from "../http/client.ts";
import { TransportError } from "../http/retry.ts";
import { BulkTally } from "../report/bulk-tally.ts";
import { code, facts, table } from "../report/markdown.ts";
import { JsonLinesFile, writeTextFile } from "../report/report-file.ts";
import { runFactRows } from "../report/run-facts.ts";
import { ApiError, parseErrorBody } from "../statebacked/errors.ts";
import type { OperationContext } from "./context.ts";

/**
 * The part set-desired-version and delete-instances share: select and shard the instances,
 * run one request per instance through the bulk engine, stream every outcome to the JSON Lines
 * report, and write counts, outputs and a summary, however the run ends.
 */

/** An outcome decided before any request (bad name, filtered out, dry run). */
export interface PresetOutcome {
  name: string;
  outcome: "skipped" | "failed";
  reason: string;
}

export interface InstanceBulkSpec {
  operation: "set-desired-version" | "delete-instances";
  machine: string;
  settings: BulkSettings & { dryRun: boolean };
  /** The word for success in the report and summary ("updated", "deleted"). */
  succeededWord: string;
  /** Title of the summary, e.g. "Set desired version of `m` to `ver_…`". */
  title: string;
  /** Extra facts for the summary (target version…). */
  facts: [string, string][];
  /** Names to act on, after sharding and validation, with decisions already made. */
  candidates: string[];
  preset: PresetOutcome[];
  /** Sends one request for one instance (one attempt, no retries: the engine retries). */
  send(name: string, signal: AbortSignal): Promise<HttpResponse>;
  /**
   * Maps a non-transient answer to an outcome; 2xx handling included. `afterUncertainAttempt`:
   * an earlier attempt for this instance may have been carried out although its answer was lost.
   */
  classify(res: HttpResponse, afterUncertainAttempt: boolean): AttemptResult;
  /** Checks the machine exists (false: could not check); throws when it does not. */
  checkMachine(): Promise<boolean>;
  /** What a missing-scope answer needs, for the run-wide error. */
  scope: string;
  /** Whether to list succeeded names in the summary (deletions: yes). */
  listSucceeded: boolean;
}

/** Splits names into valid ones (of this shard) and invalid ones (reported as failed, never sent). */
export function selectNames(names: readonly string[], shard: BulkSettings["shard"]): { valid: string[]; preset: PresetOutcome[] } {
  const sel = selectInstances(names, shard ? { shard } : {});
  return { valid: sel.valid, preset: sel.invalid.map((i) => ({ name: i.name, outcome: "failed" as const, reason: `invalid name: ${i.reason}` })) };
}

/**
 * Sets the count outputs to zero at the start of a bulk operation, so a run that fails before
 * the bulk phase (resolving a version, listing instances) still leaves outputs a later step
 * can test: failed-count 0 and no failed instances.
 */
export function startBulkOutputs(ctx: OperationContext): void {
  for (const name of ["succeeded-count", "skipped-count", "failed-count"]) ctx.report.setOutput(name, 0);
  ctx.report.setOutput("failed-instances", "");
}

export async function runInstanceBulk(spec: InstanceBulkSpec, ctx: OperationContext): Promise<void> {
  const { report, logger, clock } = ctx;
  const started = clock.now();
  const tally = new BulkTally();
  const file = await JsonLinesFile.create(ctx.env.tempDir, `${spec.operation}-${spec.machine}`);
  report.setOutput("report-file", file.path);
  // A run-wide refusal (bad key, missing scope) stops the run instead of failing every instance alike.
  const stop = new AbortController();
  let runWideError: string | undefined;
  const record = (item: Pick<ItemOutcome, "name" | "outcome" | "reason" | "status" | "code" | "cancelled"> & { attempts?: number }): void => {
    // Instances left when the run stopped on a refusal were not cancelled by anyone: say why.
    const o = item.cancelled && runWideError !== undefined && !ctx.signal.aborted ? { ...item, reason: "not sent: the run stopped on a refusal that applies to every instance" } : item;
    tally.add(o);
    file.write({
      instance: o.name,
      outcome: o.outcome === "succeeded" ? spec.succeededWord : o.cancelled ? "not-done" : o.outcome,
      ...(o.reason !== undefined ? { reason: o.reason } : {}),
      ...(o.status !== undefined ? { status: o.status } : {}),
      ...(o.code !== undefined ? { code: o.code } : {}),
      ...(o.attempts !== undefined ? { attempts: o.attempts } : {}),
    });
  };
  for (const p of spec.preset) record(p);
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  let cancelled = false;
  let traffic: [string, string] | undefined;
  try {
    if (!(await spec.checkMachine())) logger.info(`Could not check that machine '${spec.machine}' exists (the key lacks machines.read); going on.`);
    if (spec.settings.dryRun) {
      for (const name of spec.candidates) record({ name, outcome: "skipped", reason: `dry run: would be ${spec.succeededWord}` });
      logger.info(`Dry run: ${spec.candidates.length} instances would be ${spec.succeededWord}; nothing sent.`);
    } else if (spec.candidates.length > 0) {
      logger.info(`${spec.operation}: ${spec.candidates.length} instances of ${spec.machine}, concurrency ${spec.settings.concurrency}…`);
      const result = await runBulk({
        items: spec.candidates,
        concurrency: spec.settings.concurrency,
        policy: ctx.http.policy,
        clock,
        signal,
        logger,
        attempt: async (name, attemptSignal, history) => {
          let res: HttpResponse;
          try {
            res = await spec.send(name, attemptSignal);
          } catch (err) {
            // A network failure: retried when transient (the calls are idempotent), else final.
            if (!(err instanceof TransportError)) throw err;
            return classifyHttp(err, clock.now()) ?? { kind: "failed", reason: err.message, code: err.code };
          }
          const transient = classifyHttp(res, clock.now());
          if (transient) return transient;
          const outcome = spec.classify(res, history.earlierMayHaveActed);
          if (outcome.kind === "failed" && isRunWide(res)) {
            runWideError ??= new ApiError(`${spec.operation} of '${name}'`, res.status, parseErrorBody(res.text()), spec.scope).message;
            stop.abort();
          }
          return outcome;
        },
        onOutcome: record,
        onProgress: (p) => logger.info(formatProgress(p)),
      });
      cancelled = result.cancelled;
      traffic = [
        "Requests",
        `${result.retries} retried (${result.rateLimitedResponses} rate limited); concurrency ${spec.settings.concurrency}` +
          (result.minConcurrency < spec.settings.concurrency ? `, lowered to ${result.minConcurrency} while rate limited` : ""),
      ];
      if (result.retries > 0) logger.info(`${result.retries} requests were retried (${result.rateLimitedResponses} rate limited).`);
    }
  } finally {
    await file.close().catch((err: Error) => logger.warning(`Could not write the report file: ${err.message}`));
    const elapsed = clock.now() - started;
    report.setOutput("succeeded-count", tally.succeeded);
    report.setOutput("skipped-count", tally.skipped);
    report.setOutput("failed-count", tally.failed);
    const failedList = tally.failedNames.join("\n");
    report.setOutput("failed-instances", failedList);
    // The same names in a file: an input past ~128 KiB cannot be passed to a step at all.
    const failedFile = join(ctx.env.tempDir, `${basename(file.path, ".jsonl")}-failed.txt`);
    try {
      await writeTextFile(failedFile, failedList === "" ? "" : `${failedList}\n`);
      report.setOutput("failed-instances-file", failedFile);
    } catch (err) {
      logger.warning(`Could not write the list of failed instances: ${(err as Error).message}`);
    }
    const sections = [
      `### ${spec.settings.dryRun ? "Dry run: " : ""}${spec.title}`,
      tally.countsTable(capitalize(spec.succeededWord)),
      facts([...spec.facts, ...shardFact(spec.settings.shard), ...tally.timing(elapsed), ...(traffic ? [traffic] : []), ...runFactRows(ctx.env)]),
    ];
    if (spec.listSucceeded && tally.succeeded > 0) {
      sections.push(`#### ${capitalize(spec.succeededWord)}\n\n${table(["Instance"], tally.succeededSample.map((n) => [code(n)]))}` +
        (tally.succeeded > tally.succeededSample.length ? `\n\n_…and ${tally.succeeded - tally.succeededSample.length} more (see the report file)._` : ""));
    }
    if (spec.settings.dryRun && spec.candidates.length > 0) {
      const shown = spec.candidates.slice(0, 200).map((n) => [code(n)]);
      sections.push(`#### Would be ${spec.succeededWord}: ${spec.candidates.length}\n\n${table(["Instance"], shown)}` +
        (spec.candidates.length > 200 ? `\n\n_…and ${spec.candidates.length - 200} more (see the report file)._` : ""));
    }
    sections.push(tally.failureSection(), tally.skipSection(), `Report file: ${code(file.path)}`);
    report.addSummary(sections.filter(Boolean).join("\n\n"));
    logger.info(
      `${spec.operation}: ${tally.succeeded} ${spec.succeededWord}, ${tally.skipped} skipped, ${tally.failed} failed of ${tally.total} in ${(elapsed / 1000).toFixed(3)} s.`,
    );
  }
  if (runWideError) report.fail(runWideError);
  else if (cancelled || ctx.signal.aborted) report.fail(`Cancelled: ${tally.notDone} instances not done (listed in failed-instances).`);
  else if (tally.failed > 0 && spec.settings.failOnError) report.fail(`${tally.failed} of ${tally.total} instances failed (see the summary and failed-instances).`);
  else if (tally.failed > 0) logger.warning(`${tally.failed} of ${tally.total} instances failed; fail-on-error is false, so the step passes.`);
}

function shardFact(shard: BulkSettings["shard"]): [string, string][] {
  return shard ? [["Shard", `${shard.index}/${shard.count}`]] : [];
}

function isRunWide(res: HttpResponse): boolean {
  if (res.status === 401) return true;
  if (res.status === 400) return parseErrorBody(res.text()).code === "specify-org";
  if (res.status !== 403) return false;
  const code = parseErrorBody(res.text()).code;
  return code === "missing-scope" || code === "missing-org" || code === undefined;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Reads the failing answer of one instance into a final failure. */
export function failureOf(res: HttpResponse): AttemptResult {
  const body = parseErrorBody(res.text());
  const detail = [body.code, body.parameter ? `parameter '${body.parameter}'` : undefined, body.error].filter(Boolean).join(": ");
  return {
    kind: "failed",
    reason: detail ? `HTTP ${res.status}: ${detail}` : `HTTP ${res.status}`,
    status: res.status,
    ...(body.code ? { code: body.code } : {}),
  };
}

