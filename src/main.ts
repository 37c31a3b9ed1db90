import * as core from "@actions/core";
import { tmpdir } from "node:os";
import { type Config, SECRET_INPUTS, buildConfig } from "./config/config.ts";
import { InputError } from "./config/inputs.ts";
import { type ProxySettings, proxySecrets, proxySettingsFromEnv } from "./http/proxy.ts";
import { cancelApplianceUpgrade } from "./operations/cancel-appliance-upgrade.ts";
import { completeApplianceUpgrade } from "./operations/complete-appliance-upgrade.ts";
import { prepareApplianceUpgrade } from "./operations/prepare-appliance-upgrade.ts";
import { type OperationContext, createRunContext, httpSettingsOf } from "./operations/context.ts";
import { fixOf } from "./operations/failure-fix.ts";
import { deleteInstances } from "./operations/delete-instances.ts";
import { fleetStatus } from "./operations/fleet-status.ts";
import { publishMigration } from "./operations/publish-migration.ts";
import { publishVersion } from "./operations/publish-version.ts";
import { setDesiredVersion } from "./operations/set-desired-version.ts";
import { writeReport } from "./report/write.ts";
import { RunReport } from "./report/run-report.ts";
import { CancelledError, isCancelled, systemClock } from "./runtime/clock.ts";
import { isExpectedError } from "./runtime/errors.ts";
import { guardedLogger, type Logger } from "./runtime/logger.ts";
import type { RunEnv } from "./runtime/run-env.ts";
import { redact, runSecrets } from "./runtime/secrets.ts";
import { boundYoungGeneration } from "./runtime/young-generation.ts";

/** After SIGINT/SIGTERM the step writes what it has and exits within this time, whatever is still running. */
const CANCEL_GRACE_MS = 1500;

/** Every log line of the run: secrets redacted, no line able to start a workflow command. */
const coreLogger: Logger = guardedLogger({
  info: (m) => core.info(m),
  warning: (m) => core.warning(m),
  debug: (m) => core.debug(m),
});

/** A secret hidden from every byte the run writes (by our writers) and from the runner's log. */
function addSecret(secret: string): void {
  if (secret.trim() === "") return;
  runSecrets.add(secret);
  core.setSecret(secret);
}

/**
 * The run's facts from the runner's variables. Links use GITHUB_SERVER_URL, so they point at the
 * GitHub Enterprise Server the run is on. (Not @actions/github: it builds an HTTP client with the
 * proxy settings as it loads, and an unusable proxy variable would crash the step before it starts.)
 */
export function runEnv(env: Record<string, string | undefined> = process.env): RunEnv {
  const repository = env.GITHUB_REPOSITORY ?? "";
  const serverUrl = (env.GITHUB_SERVER_URL || "https://github.com").replace(/\/+$/, "");
  const runId = env.GITHUB_RUN_ID ?? "";
  return {
    sha: env.GITHUB_SHA ?? "",
    repository,
    serverUrl,
    runUrl: repository && /^\d+$/.test(runId) ? `${serverUrl}/${repository}/actions/runs/${runId}` : "",
    tempDir: env.RUNNER_TEMP || tmpdir(),
  };
}

/**
 * The action: read the config, run the operation, then write outputs, summary and the step's
 * result. Whatever escapes the run's own handling fails the step with one line, not a stack trace.
 */
export async function run(): Promise<void> {
  // Peak memory at 100,000 instances: see young-generation.ts.
  boundYoungGeneration();
  try {
    await runAction();
  } catch (err) {
    if (err instanceof Error) core.debug(redact(err.stack ?? err.message));
    core.setFailed(`The step failed unexpectedly: ${redact(err instanceof Error ? err.message : String(err))}`);
  }
}

async function runAction(): Promise<void> {
  const env = runEnv();
  // Before anything can echo them, even an input error.
  for (const name of SECRET_INPUTS) addSecret(core.getInput(name, { trimWhitespace: false }));
  let config: Config;
  let proxy: ProxySettings;
  try {
    proxy = proxySettingsFromEnv(process.env);
    // Before anything else is logged.
    for (const secret of proxySecrets(proxy)) addSecret(secret);
    config = await buildConfig((name) => core.getInput(name), {
      sha: env.sha,
      repository: env.repository,
      workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
      inputNames: inputNamesSet(),
    });
  } catch (err) {
    // Nothing was sent. Say so where a person looks: the annotation and the job summary.
    const report = new RunReport();
    const message = err instanceof InputError ? err.message : `Invalid configuration: ${(err as Error).message}`;
    report.fail(message);
    report.setVerdict({
      level: "fail",
      sentence: err instanceof InputError ? `Not started: the input \`${err.input}\` needs a change` : "Not started: the configuration is invalid",
      fix: message,
    });
    report.addSummary("No request was sent and nothing was changed. Change the step's `with:` in the workflow file and run it again.");
    await writeReport(report);
    return;
  }
  for (const secret of config.secrets) addSecret(secret);
  for (const [scheme, p] of [["https", proxy.https], ["http", proxy.http]] as const) {
    if (p) coreLogger.info(`${scheme}:// requests go through the proxy ${p.shown} (${p.variable})${proxy.noProxy.length > 0 ? ", except hosts NO_PROXY names" : ""}.`);
  }

  const running = createRunContext({ clock: systemClock, logger: coreLogger, env, mask: addSecret, http: { ...httpSettingsOf(config), proxy } });
  const { ctx, controller } = running;
  const report = ctx.report;

  let written: Promise<void> | undefined;
  const finish = (): Promise<void> => (written ??= writeReport(report));

  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) return;
    core.warning(`Received ${sig}: the run was cancelled; stopping and writing what was done.`);
    report.fail(`Cancelled (${sig}) before the operation finished.`);
    controller.abort(new CancelledError(`cancelled by ${sig}`));
    // Whatever is still in flight, write the outputs and summary and exit in time. Cleanup that
    // must still reach a server (maintenance mode off again) has its own bound (CLEANUP_BUDGET_MS);
    // after it, the operation gets the grace once more to write what it did.
    setTimeout(() => {
      void running
        .cleanups()
        .then(() => Promise.race([operationDone, systemClock.sleep(CANCEL_GRACE_MS)]))
        .then(finish)
        .finally(() => process.exit(1));
    }, CANCEL_GRACE_MS).unref();
  };
  let operationDone: Promise<unknown> = Promise.resolve();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    const work = dispatch(config, ctx);
    operationDone = work.catch(() => undefined);
    await work;
  } catch (err) {
    if (isCancelled(err, controller.signal)) {
      report.fail("Cancelled before the operation finished.");
    } else {
      report.fail(err instanceof Error ? err.message : String(err));
      const fix = fixOf(err);
      if (report.verdict?.level !== "fail" && fix) report.setVerdict({ level: "fail", sentence: "Stopped: the step could not start its work", fix });
      if (err instanceof Error && !isExpectedError(err)) coreLogger.debug(err.stack ?? String(err));
    }
  } finally {
    await finish();
    await running.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (controller.signal.aborted) process.exit(1);
}

function dispatch(config: Config, ctx: OperationContext): Promise<void> {
  switch (config.operation) {
    case "publish-version":
      return publishVersion(config, ctx);
    case "publish-migration":
      return publishMigration(config, ctx);
    case "set-desired-version":
      return setDesiredVersion(config, ctx);
    case "delete-instances":
      return deleteInstances(config, ctx);
    case "fleet-status":
      return fleetStatus(config, ctx);
    case "complete-appliance-upgrade":
      return completeApplianceUpgrade(config, ctx);
    case "prepare-appliance-upgrade":
      return prepareApplianceUpgrade(config, ctx);
    case "cancel-appliance-upgrade":
      return cancelApplianceUpgrade(config, ctx);
  }
}

/** The inputs the step sets, as the runner passes them: one INPUT_<NAME> variable each. */
function inputNamesSet(): string[] {
  return Object.keys(process.env)
    .filter((k) => k.startsWith("INPUT_") && k.length > "INPUT_".length)
    .map((k) => k.slice("INPUT_".length).toLowerCase());
}
