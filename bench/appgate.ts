/**
 * Bench 5: the reference Appgate fleet (3 Controllers, 6 gateways in 3 sites, 2 portals, an HA
 * connector pair) against the fake Controller: wall time of the whole run against the plan's
 * critical path (the primary Controller's backup, made before the first change, then the sum
 * over stages of the longest appliance's own install + reboot + ready time). The ratio is the runner's overhead: polling lag, sequencing, requests. Target <= 1.15.
 *
 * It runs in-process with time scaled down 1:SCALE — appliance durations AND poll intervals
 * alike (install ~8 min → 1.6 s, polls 1–10 s → 3–33 ms) — so the ratio is the one a real
 * fleet would see; the request timeout is not scaled (loopback answers in well under 1 ms).
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { completeApplianceUpgrade } from "../src/operations/complete-appliance-upgrade.ts";
import { createRunContext } from "../src/operations/context.ts";
import { systemClock } from "../src/runtime/clock.ts";
import { silentLogger } from "../src/runtime/logger.ts";
import { startFakeController } from "../__tests__/fakes/appgate/fake-controller.ts";
import { ALL_NAMES, standardFleet, variedDurations } from "../__tests__/fakes/appgate/fleet.ts";
import { testConfig } from "../__tests__/fakes/appgate/harness.ts";

const SCALE = 300;
const s = (realSeconds: number): number => Math.round((realSeconds * 1000) / SCALE);

export async function benchAppgate(): Promise<string[]> {
  const durations = { installMs: s(8 * 60), rebootMs: s(3 * 60), readyLagMs: s(60) };
  const backupMs = s(60);
  const fake = await startFakeController({
    appliances: standardFleet(variedDurations(durations)),
    changeMs: s(10),
    busyMs: s(30),
    backupMs,
    backupBytes: 8 * 1024 * 1024,
  });
  const tempDir = await mkdtemp(join(tmpdir(), "bench-appgate-"));
  const { ctx, close } = createRunContext({
    clock: systemClock,
    logger: silentLogger,
    env: { sha: "", repository: "bench/appgate", serverUrl: "https://github.com", runUrl: "", tempDir },
    mask: () => undefined,
  });
  const report = ctx.report;
  let wallMs: number;
  try {
    const t0 = performance.now();
    await completeApplianceUpgrade(
      testConfig(fake, { backup: true }),
      ctx,
      {
        timings: { pollInitialMs: s(1), pollMaxMs: s(10), requestTimeoutMs: 5_000, heartbeatMs: 3_600_000, changeAttempts: 3 },
        resolveHost: async () => ["127.0.0.1"],
      },
    );
    wallMs = performance.now() - t0;
  } finally {
    await close();
    await fake.close();
  }

  const upgraded = JSON.parse(report.outputs.get("upgraded") ?? "[]") as string[];
  const reportFile = report.outputs.get("report-file");
  const stages = reportFile
    ? ((JSON.parse(await readFile(reportFile, "utf8")) as { plan?: { stages: { label: string; appliances: string[] }[] } }).plan?.stages ?? [])
    : [];
  const longest = stages.map((st) => Math.max(...st.appliances.map((n) => fake.nominalDurationMs(n))));
  const criticalMs = backupMs + longest.reduce((a, b) => a + b, 0);
  const ratio = wallMs / criticalMs;
  const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const lines = [
    `5. Appgate fleet: ${ALL_NAMES.length} appliances (3 Controllers, 6 gateways in 3 sites, 2 portals, HA connector pair), max-unavailable 1; in-process, durations and polls alike scaled 1:${SCALE}`,
    `   wall ${fmt(wallMs)}; critical path ${fmt(criticalMs)} (backup ${fmt(backupMs)}, then ${stages.length} stages: ${stages
      .map((st, i) => `${st.label} ${fmt(longest[i]!)}`)
      .join(", ")})`,
    `   ratio wall/critical path ${ratio.toFixed(3)}; target <= 1.15`,
  ];
  if (report.failure !== undefined || upgraded.length !== ALL_NAMES.length || !report.outputs.get("backup-file")) {
    lines.push(`   WARNING: the run did not upgrade everything (${upgraded.length}/${ALL_NAMES.length}): ${report.failure ?? ""}`);
  }
  lines.push("");
  return lines;
}

// `node bench/appgate.ts` runs this bench alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const l of await benchAppgate()) console.log(l);
}
