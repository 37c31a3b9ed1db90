/**
 * complete-appliance-upgrade through the built dist/index.js, run as the runner runs it, against
 * the fake Controller on loopback, with the real timings (first poll after 1 s, up to 10 s).
 * The fleet's durations are short so that a whole run takes seconds.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { useFleet } from "../fakes/appgate/use-fleet.ts";
import { type ActionRun, runAction, visibleText } from "../helpers/run-action.ts";
import { FAKE_PASSWORD, FAKE_USERNAME, type FakeController } from "../fakes/appgate/fake-controller.ts";
import { ALL_NAMES, CONTROLLERS, GATEWAYS_BY_SITE, HA_CONNECTORS } from "../fakes/appgate/fleet.ts";

const start = useFleet({ installMs: 300, rebootMs: 200, readyLagMs: 50 });

const inputs = (f: FakeController, extra: Record<string, string> = {}): Record<string, string> => ({
  operation: "complete-appliance-upgrade",
  "controller-url": f.url,
  username: FAKE_USERNAME,
  password: FAKE_PASSWORD,
  ...extra,
});

const list = (run: ActionRun, name: string): string[] => JSON.parse(run.outputs[name] ?? "null") as string[];

function noSecrets(run: ActionRun, f: FakeController): void {
  expect(run.stdout).toContain(`::add-mask::${FAKE_PASSWORD}`);
  const visible = visibleText(run);
  expect(visible).not.toContain(FAKE_PASSWORD);
  expect(f.issuedTokens.length).toBeGreaterThan(0);
  for (const t of f.issuedTokens) {
    expect(run.stdout).toContain(`::add-mask::${t}`);
    expect(visible).not.toContain(t);
  }
}

describe("dist/index.js: complete-appliance-upgrade", () => {
  it("upgrades the reference fleet in order and reports it", async () => {
    const f = await start();
    const run = await runAction(inputs(f));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(list(run, "upgraded").sort()).toEqual([...ALL_NAMES].sort());
    expect(list(run, "skipped")).toEqual([]);
    expect(list(run, "failed")).toEqual([]);
    expect(f.events.filter((e) => e.type === "complete")[0]?.appliance).toBe("ctrl-1");
    expect(f.maxConcurrentDown(CONTROLLERS)).toBe(1);
    for (const names of Object.values(GATEWAYS_BY_SITE)) expect(f.maxConcurrentDown(names)).toBe(1);
    expect(f.maxConcurrentDown(HA_CONNECTORS)).toBe(1);
    for (const n of ALL_NAMES) expect(f.appliance(n), n).toMatchObject({ version: "6.5.0-32000", volume: 2 });

    // The device id is derived from the repository and controller-url: the same on every login.
    expect(f.logins[0]!.deviceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-/);
    expect(run.stdout).toContain("Primary Controller: ctrl-1");
    expect(run.stdout).toMatch(/Batch 1 of 2: gw-a1, portal-1, conn-1, gw-b1, gw-c1 \(5 in parallel\)/);
    expect(run.stdout).toMatch(/gw-b2: upgraded to 6\.5\.0-32000 \(partition 1 → 2\)/);
    expect(run.summary).toContain("All planned appliances upgraded");
    expect(run.summary).toMatch(/\| ctrl-1 \| Controller \(primary\) \| Default \| 6\.4\.2-31000 \| 6\.5\.0-32000 \| 1 \| 2 \| [\d.]+ s \| upgraded \|/);
    const report = JSON.parse(readFileSync(run.outputs["report-file"]!, "utf8")) as { result: string; appliances: unknown[] };
    expect(run.outputs["report-file"]!.startsWith(run.tempDir)).toBe(true);
    expect(report.result).toBe("succeeded");
    expect(report.appliances).toHaveLength(ALL_NAMES.length);
    noSecrets(run, f);
  });

  it("dry run: pre-flight and plan, no change", async () => {
    const f = await start({ "gw-c2": { offline: true } });
    const run = await runAction(inputs(f, { "dry-run": "true" }));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(f.writes()).toEqual([]);
    expect(list(run, "skipped")).toEqual(["gw-c2"]);
    expect(list(run, "upgraded")).toEqual([]);
    expect(run.summary).toContain("Dry run: the plan below was not carried out");
    expect(run.summary).toContain("| Primary Controller | ctrl-1 |");
  });

  it("a failing gateway fails the step after its batch; an offline Controller aborts before any change", async () => {
    const f = await start({ "gw-a1": { failInstall: true } });
    const run = await runAction(inputs(f, { appliances: "gw-a1, gw-a2, gw-b1" }));
    expect(run.code).toBe(1);
    expect(list(run, "failed")).toEqual(["gw-a1"]);
    expect(list(run, "upgraded")).toEqual(["gw-b1"]);
    expect(list(run, "skipped")).toContain("gw-a2");
    expect(f.appliance("gw-a2").upgradeStatus).toBe("ready");
    expect(run.stdout).toMatch(/::error.*gw-a1/);
    await f.close();

    const g = await start({ "ctrl-2": { offline: true } });
    const aborted = await runAction(inputs(g));
    expect(aborted.code).toBe(1);
    expect(g.writes()).toEqual([]);
    expect(aborted.stdout).toContain("Controller ctrl-2 is offline");
    expect(aborted.summary).toContain("Pre-flight stopped the run; nothing was changed");
  });

  it("rejects bad input before any request, naming the input", async () => {
    const f = await start();
    const run = await runAction(inputs(f, { "max-unavailable": "0" }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("Input 'max-unavailable'");
    expect(f.requests).toEqual([]);
  });

  it("on SIGTERM stops starting appliances, reports the ones still installing, writes outputs and summary in time", async () => {
    const f = await start({ "gw-a1": { installMs: 120_000 }, "gw-b1": { installMs: 120_000 } });
    const run = await runAction(inputs(f, { appliances: "gw-a1, gw-a2, gw-b1" }), {
      signal: { name: "SIGTERM", when: (out) => out.includes("gw-a1: installing") },
    });
    expect(run.code).toBe(1);
    expect(run.exitAfterSignalMs).toBeLessThan(2_000);
    expect(list(run, "unfinished").sort()).toEqual(["gw-a1", "gw-b1"]);
    expect(list(run, "skipped")).toContain("gw-a2");
    expect(f.events.filter((e) => e.type === "complete").map((e) => e.appliance)).not.toContain("gw-a2");
    expect(f.appliance("gw-a1").phase).toBe("installing");
    expect(run.summary).toMatch(/Still under way on the Controller.*gw-a1 \(installing\)/);
    expect(run.outputs["report-file"]).toBeTruthy();
  });

  it("on SIGINT while the other Controllers go into maintenance mode: it is set off again before the step exits, nothing else changed", async () => {
    // Maintenance-mode changes take 1.5 s, so the cancellation finds them under way. The fake's
    // clock can be moved on afterwards, so that every change it took has taken effect.
    let skew = 0;
    const f = await start({}, { changeMs: 1500, now: () => Date.now() + skew });
    const run = await runAction(inputs(f), {
      signal: { name: "SIGINT", when: (out) => out.includes("Putting the other Controllers into maintenance mode") },
    });
    expect(run.code).toBe(1);
    // Within GitHub's 7.5 s between SIGINT and SIGTERM.
    expect(run.exitAfterSignalMs).toBeLessThan(7_000);
    expect(f.events.filter((e) => e.type === "complete")).toEqual([]);
    skew = 60_000;
    expect(CONTROLLERS.filter((c) => f.appliance(c).maintenance)).toEqual([]);
    expect(run.stdout).toMatch(/maintenance mode set off again on ctrl-2, ctrl-3/);
    // The operation's own summary was written (a row per appliance), and lists none left in maintenance mode.
    expect(run.summary).toContain("ctrl-2");
    expect(run.summary).not.toContain("Still in maintenance mode");
  });

  it("an address that reaches another Controller stops before any change, and a re-run ends the same clean way", async () => {
    // ctrl-1 answers at 127.0.0.1 and its admin hostname is localhost; ctrl-2's admin hostname is 127.0.0.1, controller-url's host.
    const f = await start({ "ctrl-2": { adminHostname: "127.0.0.1" } }, { primaryHost: "localhost" });
    for (let attempt = 1; attempt <= 2; attempt++) {
      const run = await runAction(inputs(f));
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/::error.*controller-url's host '127\.0\.0\.1' also reaches Controller ctrl-1/);
      expect(run.summary).toContain("Pre-flight stopped the run; nothing was changed");
      expect(f.writes()).toEqual([]);
      expect(CONTROLLERS.filter((c) => f.appliance(c).maintenance)).toEqual([]);
    }
  });

  it("prepare, then complete with a backup: the whole fleet ends on the new version, the backup kept byte for byte", async () => {
    const idle = Object.fromEntries(ALL_NAMES.map((n) => [n, { upgrade: "idle" as const }]));
    const f = await start(idle, { prepareMs: 300 });
    const image = "https://downloads.example.test/appgate-6.5.0-32000-release.img.zip";
    const prepared = await runAction(inputs(f, { operation: "prepare-appliance-upgrade", "image-url": image }));
    expect(prepared.code, prepared.stdout + prepared.stderr).toBe(0);
    expect(list(prepared, "prepared").sort()).toEqual([...ALL_NAMES].sort());
    expect(prepared.summary).toContain("prepare appliance upgrade");
    expect(f.maxConcurrentPreparing()).toBeLessThanOrEqual(5);

    const completed = await runAction(inputs(f));
    expect(completed.code, completed.stdout + completed.stderr).toBe(0);
    expect(list(completed, "upgraded").sort()).toEqual([...ALL_NAMES].sort());
    for (const n of ALL_NAMES) expect(f.appliance(n), n).toMatchObject({ version: "6.5.0-32000", upgradeStatus: "idle" });
    const backup = completed.outputs["backup-file"]!;
    expect(backup.startsWith(completed.tempDir)).toBe(true);
    expect(readFileSync(backup).equals(f.backupContent())).toBe(true);
    const backupAt = f.events.findIndex((e) => e.type === "backup");
    expect(backupAt).toBeGreaterThan(f.events.findLastIndex((e) => e.type === "prepare"));
    expect(backupAt).toBeLessThan(f.events.findIndex((e) => e.type === "maintenance" || e.type === "complete"));
    expect(completed.summary).toContain("encrypted with the backup passphrase");
    for (const run of [prepared, completed]) {
      expect(visibleText(run)).not.toContain(FAKE_PASSWORD);
      for (const t of f.issuedTokens) expect(visibleText(run)).not.toContain(t);
    }
  });
});
