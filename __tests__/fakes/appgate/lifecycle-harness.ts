/** Runs prepare-appliance-upgrade or cancel-appliance-upgrade in-process against a fake Controller, timings scaled down. */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppgateConnection, CancelConfig, PrepareConfig, UpgradeImage } from "../../../src/config/appgate.ts";
import { cancelApplianceUpgrade } from "../../../src/operations/cancel-appliance-upgrade.ts";
import { createRunContext, type OperationContext } from "../../../src/operations/context.ts";
import { prepareApplianceUpgrade } from "../../../src/operations/prepare-appliance-upgrade.ts";
import type { RunReport } from "../../../src/report/run-report.ts";
import { systemClock } from "../../../src/runtime/clock.ts";
import { MemoryLogger } from "../../../src/runtime/logger.ts";
import type { FakeController } from "./fake-controller.ts";
import { FAST_TIMINGS, testConfig } from "./harness.ts";

export interface LifecycleRun {
  report: RunReport;
  logger: MemoryLogger;
  list(name: string): string[];
  summary: string;
}

async function run(go: (ctx: OperationContext) => Promise<void>): Promise<LifecycleRun> {
  const logger = new MemoryLogger();
  const tempDir = await mkdtemp(join(tmpdir(), "appgate-test-"));
  const { ctx, close } = createRunContext({
    clock: systemClock,
    logger,
    env: { sha: "0".repeat(40), repository: "acme/network", serverUrl: "https://github.com", runUrl: "", tempDir },
    mask: () => undefined,
    http: { policy: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 1_000 } },
  });
  try {
    await go(ctx);
  } finally {
    await close();
  }
  const report = ctx.report;
  return { report, logger, list: (name) => JSON.parse(report.outputs.get(name) ?? "null") as string[], summary: report.summary.join("\n") };
}

function connection(fake: FakeController): AppgateConnection {
  const c = testConfig(fake);
  return { dryRun: c.dryRun, secrets: c.secrets, controllerUrl: c.controllerUrl, apiBaseUrl: c.apiBaseUrl, auth: c.auth };
}

export function runPrepare(fake: FakeController, image: UpgradeImage, over: Partial<PrepareConfig> = {}): Promise<LifecycleRun> {
  const config: PrepareConfig = { ...connection(fake), operation: "prepare-appliance-upgrade", image, prepareConcurrency: 5, applianceTimeoutMs: 30_000, ...over };
  return run((ctx) => prepareApplianceUpgrade(config, ctx, FAST_TIMINGS));
}

export function runCancel(fake: FakeController, over: Partial<CancelConfig> = {}): Promise<LifecycleRun> {
  const config: CancelConfig = { ...connection(fake), operation: "cancel-appliance-upgrade", deleteUpgradeFiles: false, ...over };
  return run((ctx) => cancelApplianceUpgrade(config, ctx, FAST_TIMINGS));
}
