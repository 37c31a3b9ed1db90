/**
 * Runs completeApplianceUpgrade in-process against a fake Controller, with the timings scaled
 * down (polls every few ms) and everything it leaves behind collected.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppgateConfig } from "../../../src/config/appgate.ts";
import type { ProxySettings } from "../../../src/http/proxy.ts";
import { completeApplianceUpgrade, type UpgradeRunOptions } from "../../../src/operations/complete-appliance-upgrade.ts";
import { createRunContext } from "../../../src/operations/context.ts";
import type { RunReport } from "../../../src/report/run-report.ts";
import { systemClock } from "../../../src/runtime/clock.ts";
import { MemoryLogger } from "../../../src/runtime/logger.ts";
import type { UpgradeTimings } from "../../../src/appgate/run/timings.ts";
import { FAKE_PASSWORD, FAKE_USERNAME, type FakeController } from "./fake-controller.ts";

export const TEST_DEVICE_ID = "2f0c5a8e-6b1d-4c3e-9a7f-0123456789ab";

export const FAST_TIMINGS: UpgradeTimings = {
  pollInitialMs: 5,
  pollMaxMs: 20,
  requestTimeoutMs: 2_000,
  heartbeatMs: 10_000,
  changeAttempts: 3,
  lostAnswerReads: 3,
  backupChunkBytes: 64 * 1024,
};

export function testConfig(fake: FakeController, overrides: Partial<AppgateConfig> = {}): AppgateConfig {
  const controllerUrl = new URL(fake.url);
  return {
    operation: "complete-appliance-upgrade",
    dryRun: false,
    secrets: [FAKE_PASSWORD],
    controllerUrl,
    apiBaseUrl: new URL(`${controllerUrl.origin}/admin`),
    auth: { kind: "password", username: FAKE_USERNAME, password: FAKE_PASSWORD, providerName: "local", deviceId: TEST_DEVICE_ID },
    maxUnavailable: 1,
    applianceTimeoutMs: 30_000,
    backup: false,
    ...overrides,
  };
}

export interface HarnessRun {
  report: RunReport;
  logger: MemoryLogger;
  tempDir: string;
  /** Parsed JSON outputs (upgraded, skipped, failed, unfinished). */
  list(name: "upgraded" | "skipped" | "failed" | "unfinished"): string[];
  summary: string;
  durationMs: number;
  /** Secrets the operation asked to mask (tokens from logins). */
  masked: string[];
}

export interface HarnessOptions extends UpgradeRunOptions {
  config?: Partial<AppgateConfig>;
  controller?: AbortController;
  /** Where the report file goes (default a fresh temporary folder). */
  tempDir?: string;
  /** Proxies, as main.ts reads them from the environment. */
  proxy?: ProxySettings;
}

export async function runUpgrade(fake: FakeController, opts: HarnessOptions = {}): Promise<HarnessRun> {
  const logger = new MemoryLogger();
  const tempDir = opts.tempDir ?? (await mkdtemp(join(tmpdir(), "appgate-test-")));
  const config = testConfig(fake, opts.config);
  const masked: string[] = [];
  const { ctx, close } = createRunContext({
    clock: systemClock,
    logger,
    env: { sha: "0".repeat(40), repository: "acme/network", serverUrl: "https://github.com", runUrl: "", tempDir },
    mask: (secret) => masked.push(secret),
    http: {
      policy: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 1_000 },
      ...(config.caCertificate ? { ca: config.caCertificate } : {}), // as main.ts does
      ...(opts.proxy ? { proxy: opts.proxy } : {}),
    },
    ...(opts.controller ? { controller: opts.controller } : {}),
  });
  const report = ctx.report;
  const started = Date.now();
  try {
    await completeApplianceUpgrade(config, ctx, {
      timings: { ...FAST_TIMINGS, ...opts.timings },
      resolveHost: opts.resolveHost ?? (async () => ["127.0.0.1"]),
    });
  } finally {
    await close();
  }
  return {
    report,
    logger,
    tempDir,
    list: (name) => JSON.parse(report.outputs.get(name) ?? "null") as string[],
    summary: report.summary.join("\n"),
    durationMs: Date.now() - started,
    masked,
  };
}
