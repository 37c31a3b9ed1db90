import { runBulk } from "../bulk/pool.ts";
import { formatProgress } from "../bulk/progress.ts";
import { type AttemptResult, CANCELLED_REASON, type ItemOutcome, STOPPED_REASON } from "../bulk/types.ts";
import type { BulkSettings } from "../config/config.ts";
import { classifyHttp } from "../http/classify.ts";
import type { HttpResponse } from "../http/client.ts";
import { TransportError } from "../http/retry.ts";
import { BulkTally } from "../report/bulk-tally.ts";
import { JsonLinesFile } from "../report/report-file.ts";
import { ApiError, parseErrorBody } from "../statebacked/errors.ts";
import { type BulkPresentation, writeBulkOutputs } from "./bulk-summary.ts";
import type { OperationContext } from "./context.ts";
import type { SelectedInstance, Selection } from "./instance-selection.ts";
import { type ChosenInstances, SelectionFeed } from "./selection-feed.ts";

/**
 * The part set-desired-version and delete-instances share: read the selection as it comes (a
 * listing or a query page by page), run one request per instance through the bulk engine while
 * the selection is still being read, stream every outcome to the JSON Lines report, and write
 * counts, outputs and a summary, however the run ends.
 */

/** How one instance is done on the wire (State Backed's protocol for this operation). */
export interface InstanceProtocol {
  /** Sends one request for one instance (one attempt, no retries: the engine retries). */
  send(name: string, signal: AbortSignal): Promise<HttpResponse>;
  /**
   * Maps a non-transient answer to an outcome; 2xx handling included. `earlierMayHaveActed`:
   * an earlier attempt for this instance may have been carried out although its answer was lost.
   */
  classify(res: HttpResponse, earlierMayHaveActed: boolean, item: SelectedInstance): AttemptResult;
  /** Checks the machine exists (false: could not check); throws when it does not. */
  checkMachine(): Promise<boolean>;
  /** What a missing-scope answer needs, for the run-wide error. */
  scope: string;
  /** Decides before each attempt whether it is sent (the migration-path probe). */
  gate?: SendGate;
}

/** Holds or refuses attempts before they are sent; told every final outcome. */
export interface SendGate {
  /** Undefined: send now. A result: the instance ends with it (nothing sent), or waits ("defer"). */
  admit(item: SelectedInstance): AttemptResult | undefined;
  settled(item: SelectedInstance, outcome: ItemOutcome): void;
  /** Whether this failure is shown by the gate's own summary section (not as a failure group). */
  showsOwn?(outcome: Pick<ItemOutcome, "code">): boolean;
  /** The step's error when the gate knows better what to say (what to publish, say). */
  failure?(): string | undefined;
}

export type { ChosenInstances };

/** A bulk run over the instances of one machine, in four parts. */
export interface InstanceBulkSpec {
  /** What runs, on which machine, with which settings. */
  job: { operation: "set-desired-version" | "delete-instances"; machine: string; settings: BulkSettings & { dryRun: boolean } };
  /** The instances, read as the run goes, each with its version when known or an outcome decided already. */
  selection: Selection;
  protocol: InstanceProtocol;
  presentation: BulkPresentation;
  /**
   * Sends the candidates in several passes (a rollout in waves) instead of one; dry runs
   * included. Without it, one pass sends every candidate.
   */
  plan?(passes: BulkPasses, chosen: ChosenInstances): Promise<PlanResult>;
}

/** One outcome to record: the engine's, or one decided without a request. */
export type RecordedOutcome = Pick<ItemOutcome, "name" | "outcome" | "reason" | "status" | "code" | "cancelled"> & { attempts?: number; wave?: number };

/** How one pass differs from the spec's protocol. */
export interface PassOptions {
  /** Sends one request for one instance; default: the protocol's. */
  send?(name: string, signal: AbortSignal): Promise<HttpResponse>;
  /** Maps a non-transient answer to an outcome; default: the protocol's. */
  classify?(res: HttpResponse, earlierMayHaveActed: boolean, name: string): AttemptResult;
  /** The wave each instance is reported in. */
  wave?(name: string): number | undefined;
  /**
   * "rollback": each instance was counted as succeeded by an earlier pass; a success now
   * reports it `rolled-back`, a failure `failed` (no longer succeeded).
   */
  kind?: "send" | "rollback";
  /** Told of each outcome once recorded. */
  onOutcome?(o: ItemOutcome): void;
}

/** What a plan may use: passes of the engine over chosen instances, and the record. */
export interface BulkPasses {
  /** One pass of the engine; items may be a list or a source read as the pass goes. */
  pass(items: readonly string[] | AsyncIterable<string>, opts?: PassOptions): Promise<{ cancelled: boolean }>;
  /** Records an outcome decided without a request; `rollback`: as PassOptions.kind says. */
  record(o: RecordedOutcome, kind?: PassOptions["kind"]): void;
  /** Aborts on cancellation and on a refusal that applies to every instance. */
  readonly signal: AbortSignal;
}

export interface PlanResult {
  /** Why the step fails, when the plan decided it (a halted rollout). */
  failure?: string;
  /** Summary sections shown before the counts. */
  sections: string[];
}

/**
 * Sets the count outputs to zero at the start of a bulk operation, so a run that fails before
 * the bulk phase (resolving a version, listing instances) still leaves outputs a later step
 * can test: failed-count 0 and no failed instances.
 */
export function startBulkOutputs(ctx: OperationContext): void {
  for (const name of ["succeeded-count", "planned-count", "skipped-count", "failed-count"]) ctx.report.setOutput(name, 0);
  ctx.report.setOutput("failed-instances", "");
}

/** Runs the bulk operation; says whether it was cancelled. */
/** How a dry run's outcomes start (here and in a rollout's plan): they are counted as planned. */
export const DRY_RUN_REASON = "dry run:";

export async function runInstanceBulk(spec: InstanceBulkSpec, ctx: OperationContext): Promise<{ cancelled: boolean }> {
  const { report, logger, clock } = ctx;
  const { job, selection, protocol, presentation } = spec;
  const { operation, machine, settings } = job;
  const word = presentation.succeededWord;
  const started = clock.now();
  const tally = new BulkTally();
  const file = await JsonLinesFile.create(ctx.env.tempDir, `${operation}-${machine}`);
  report.setOutput("report-file", file.path);
  // A run-wide refusal (bad key, missing scope) stops the run instead of failing every instance alike.
  const stop = new AbortController();
  let runWideError: ApiError | undefined;
  const record = (item: RecordedOutcome, kind: PassOptions["kind"] = "send"): void => {
    // Instances left when the run stopped on a refusal were not cancelled by anyone: say why.
    const o = item.cancelled && runWideError !== undefined && !ctx.signal.aborted ? { ...item, reason: "not sent: the run stopped on a refusal that applies to every instance" } : item;
    if (settings.dryRun && o.outcome === "skipped" && o.reason?.startsWith(DRY_RUN_REASON)) {
      // A dry run's "would be sent" is planned, not skipped: counted apart, so skipped-count keeps only real skips.
      tally.plan(o.name);
      file.write({ instance: o.name, ...(o.wave !== undefined ? { wave: o.wave } : {}), outcome: "planned", reason: o.reason });
      return;
    }
    if (kind === "rollback") tally.rollBack(o);
    else tally.add(o, protocol.gate?.showsOwn?.(o) === true);
    file.write({
      instance: o.name,
      ...(o.wave !== undefined ? { wave: o.wave } : {}),
      outcome: o.outcome === "succeeded" ? (kind === "rollback" ? "rolled-back" : word) : o.cancelled ? "not-done" : o.outcome,
      ...(o.reason !== undefined ? { reason: o.reason } : {}),
      ...(o.status !== undefined ? { status: o.status } : {}),
      ...(o.code !== undefined ? { code: o.code } : {}),
      ...(o.attempts !== undefined ? { attempts: o.attempts } : {}),
    });
  };
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  const feed = new SelectionFeed(selection, record);
  const open = feed.open;
  const dryRun = { sample: [] as string[], count: 0 };
  let cancelled = false;
  /** Why the engine stopped the run on its own (only refusals for too long). */
  let stoppedBy: string | undefined;
  let traffic: [string, string] | undefined;
  let retries = 0;
  let rateLimited = 0;
  let minConcurrency = settings.concurrency;
  let plan: PlanResult | undefined;
  const pass = async (items: readonly string[] | AsyncIterable<string>, opts: PassOptions = {}): Promise<{ cancelled: boolean }> => {
    if (Array.isArray(items) && items.length === 0) return { cancelled: signal.aborted };
    const count = Array.isArray(items) ? `${items.length} instances` : "instances, sent as they are selected,";
    // The gate (the migration-path probe) applies to sending, not to rolling back.
    const gate = opts.kind === "rollback" ? undefined : protocol.gate;
    logger.info(`${operation}${opts.kind === "rollback" ? " (rollback)" : ""}: ${count} of ${machine}, concurrency ${settings.concurrency}…`);
    const send = opts.send ?? ((name: string, s: AbortSignal) => protocol.send(name, s));
    const result = await runBulk({
      items,
      concurrency: settings.concurrency,
      // A server that only refuses cannot stretch an instance, or the run, past max-attempts x request-timeout.
      itemBoundMs: ctx.http.boundMs(),
      refusalWindowMs: ctx.http.boundMs(),
      policy: ctx.http.policy,
      clock,
      signal,
      logger,
      attempt: async (name, attemptSignal, history) => {
        const item = open.get(name) ?? { name };
        const held = gate?.admit(item);
        if (held) return held;
        let res: HttpResponse;
        try {
          res = await send(name, attemptSignal);
        } catch (err) {
          // A network failure: retried when transient (the calls are idempotent), else final.
          if (!(err instanceof TransportError)) throw err;
          return classifyHttp(err, clock.now()) ?? { kind: "failed", reason: err.message, code: err.code };
        }
        const transient = classifyHttp(res, clock.now());
        if (transient) return transient;
        const outcome = opts.classify ? opts.classify(res, history.earlierMayHaveActed, name) : protocol.classify(res, history.earlierMayHaveActed, item);
        if (outcome.kind === "failed" && isRunWide(res)) {
          runWideError ??= new ApiError(`${operation} of '${name}'`, res.status, parseErrorBody(res.text()), protocol.scope);
          stop.abort();
        }
        return outcome;
      },
      onOutcome: (o) => {
        // A plain names list is not held open: its items are their names.
        const item = open.get(o.name) ?? { name: o.name };
        open.delete(o.name);
        gate?.settled(item, o);
        const wave = opts.wave?.(o.name);
        record(wave === undefined ? o : { ...o, wave }, opts.kind);
        opts.onOutcome?.(o);
      },
      onProgress: (p) => logger.info(formatProgress(p)),
    });
    retries += result.retries;
    rateLimited += result.rateLimitedResponses;
    minConcurrency = Math.min(minConcurrency, result.minConcurrency);
    traffic = [
      "Requests",
      `${retries} retried (${rateLimited} rate limited); concurrency ${settings.concurrency}` +
        (minConcurrency < settings.concurrency ? `, lowered to ${minConcurrency} while rate limited` : ""),
    ];
    if (result.retries > 0) logger.info(`${result.retries} requests were retried (${result.rateLimitedResponses} rate limited).`);
    cancelled ||= result.cancelled;
    stoppedBy ??= result.stopped;
    // A names list is known in full: the names never read are not done either.
    if (result.cancelled && !Array.isArray(items)) {
      for (const left of selection.unread()) {
        if (left.decided) record({ name: left.name, ...left.decided });
        else record({ name: left.name, outcome: "failed", reason: result.stopped !== undefined ? STOPPED_REASON : CANCELLED_REASON, cancelled: true });
      }
    }
    return { cancelled: result.cancelled };
  };
  try {
    // Sent in one pass as read: the first page of a listing or query is asked for with the
    // machine check. A read only: nothing is decided, recorded or sent before the check passes,
    // and after a failed check no further page is asked for.
    if (!spec.plan && !settings.dryRun) selection.startFirstPage();
    if (!(await protocol.checkMachine())) logger.info(`Could not check that machine '${machine}' exists (the key lacks machines.read); going on.`);
    if (spec.plan) {
      // A plan (waves) needs every instance up front: the selection is read in full first.
      const chosen = await feed.all();
      dryRun.count = chosen.candidates.length;
      dryRun.sample = chosen.candidates.slice(0, 200);
      plan = await spec.plan({ pass, record, signal }, chosen);
      if (settings.dryRun) logger.info(`Dry run: ${chosen.candidates.length} instances would be ${word}; nothing sent.`);
    } else if (settings.dryRun) {
      for await (const name of feed.stream()) {
        open.delete(name);
        if (dryRun.sample.length < 200) dryRun.sample.push(name);
        dryRun.count++;
        record({ name, outcome: "skipped", reason: `${DRY_RUN_REASON} would be ${word}` });
      }
      logger.info(`Dry run: ${dryRun.count} instances would be ${word}; nothing sent.`);
    } else {
      // A names list known up front goes to the engine as a plain list; a listing or a query as read.
      await pass(feed.list() ?? feed.stream());
    }
  } finally {
    await file.close().catch((err: Error) => logger.warning(`Could not write the report file: ${err.message}`));
    const gateStop = protocol.gate?.failure?.();
    await writeBulkOutputs(ctx, presentation, {
      operation,
      machine,
      settings,
      tally,
      scope: protocol.scope,
      cancelled: cancelled || ctx.signal.aborted,
      ...(runWideError ? { runWide: runWideError } : {}),
      ...(plan?.failure ? { halted: plan.failure } : gateStop !== undefined ? { stopped: gateStop } : {}),
      reportPath: file.path,
      dryRun,
      elapsedMs: clock.now() - started,
      ...(traffic ? { traffic } : {}),
      ...(plan ? { before: plan.sections } : {}),
    });
  }
  const gateFailure = protocol.gate?.failure?.();
  if (runWideError) report.fail(runWideError.message);
  else if (stoppedBy !== undefined && !ctx.signal.aborted) report.fail(`${operation} of '${machine}': ${stoppedBy}. ${tally.notDone} instances not done (listed in failed-instances).`);
  else if (cancelled || ctx.signal.aborted) report.fail(`Cancelled: ${tally.notDone} instances not done (listed in failed-instances).`);
  else if (plan?.failure) report.fail(plan.failure);
  else if (gateFailure !== undefined) report.fail(gateFailure);
  else if (tally.failed > 0 && settings.failOnError) report.fail(`${tally.failed} of ${tally.total} instances failed (see the summary and failed-instances).`);
  else if (tally.failed > 0) logger.warning(`${tally.failed} of ${tally.total} instances failed; fail-on-error is false, so the step passes.`);
  return { cancelled: cancelled || ctx.signal.aborted };
}

/**
 * A refusal that applies to every instance alike (bad or expired token, missing scope or org):
 * the run stops at once instead of failing each instance the same way.
 */
function isRunWide(res: HttpResponse): boolean {
  if (res.status === 401) return true;
  if (res.status === 400) return parseErrorBody(res.text()).code === "specify-org";
  if (res.status !== 403) return false;
  const code = parseErrorBody(res.text()).code;
  return code === "missing-scope" || code === "missing-org" || code === "missing-user" || code === undefined;
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

