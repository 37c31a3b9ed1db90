/**
 * Running again after an earlier run: appliances it left installing, Controllers it left in
 * maintenance mode, a collective it finished. Steps that must wait for something are made to
 * wait for a number of reads (not for time), so what is checked never depends on machine speed.
 */
import { describe, expect, it } from "vitest";
import { useFleet } from "../fakes/appgate/use-fleet.ts";
import { type FakeController } from "../fakes/appgate/fake-controller.ts";
import { ALL_NAMES, CONTROLLERS, GATEWAYS, type SpecOverrides } from "../fakes/appgate/fleet.ts";
import { runUpgrade } from "../fakes/appgate/harness.ts";

const start = useFleet({ installMs: 20, rebootMs: 20, readyLagMs: 5 });

const UPGRADED = { upgrade: "upgraded" } as const;
/** Installing since before the run; the install ends after the action has looked at it this many times. */
const INSTALLING = { upgrade: "installing", installMs: 0, installReads: 4 } as const;
const completeEvents = (f: FakeController) => f.events.filter((e) => e.type === "complete");
const windowOf = (f: FakeController, name: string) => f.windows().find((w) => w.name === name)!;
const noMaintenanceForPrimary = (f: FakeController): void =>
  expect(f.events.filter((e) => e.appliance === "ctrl-1" && e.type.startsWith("maintenance"))).toEqual([]);

describe("appliances an earlier run left installing", () => {
  it("a gateway still installing counts as down: its site's other gateway waits for it (max-unavailable 1)", async () => {
    const f = await start({ "ctrl-1": UPGRADED, "ctrl-2": UPGRADED, "ctrl-3": UPGRADED, "gw-c2": INSTALLING });
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(run.list("upgraded").sort()).toEqual(ALL_NAMES.filter((n) => !n.startsWith("ctrl")).sort());
    expect(f.maxConcurrentDown(["gw-c1", "gw-c2"])).toBe(1);
    // Nothing new starts before it is back.
    const gwC2 = windowOf(f, "gw-c2");
    for (const e of completeEvents(f)) expect(e.at, e.appliance).toBeGreaterThanOrEqual(gwC2.end!);
    expect(run.logger.lines).toContain("Already installing (started earlier): gw-c2");
  });

  it("a Controller still installing is waited for before the next Controller: never two Controllers down", async () => {
    const f = await start({ "ctrl-1": UPGRADED, "ctrl-3": INSTALLING });
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(run.list("upgraded")).toEqual(expect.arrayContaining(["ctrl-2", "ctrl-3"]));
    expect(f.maxConcurrentDown(CONTROLLERS)).toBe(1);
    expect(windowOf(f, "ctrl-2").start).toBeGreaterThanOrEqual(windowOf(f, "ctrl-3").end!);
    for (const c of ["ctrl-2", "ctrl-3"]) expect(f.appliance(c).maintenance, c).toBe(false);
    noMaintenanceForPrimary(f);
  });

  it("a Controller still installing goes before the primary's upgrade", async () => {
    const f = await start({ "ctrl-2": INSTALLING });
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(run.list("upgraded")).toHaveLength(ALL_NAMES.length);
    expect(f.maxConcurrentDown(CONTROLLERS)).toBe(1);
    expect(windowOf(f, "ctrl-1").start).toBeGreaterThanOrEqual(windowOf(f, "ctrl-2").end!);
    noMaintenanceForPrimary(f);
  });
});

describe("Controllers and maintenance mode", () => {
  it("a Controller upgraded by an earlier run but left in maintenance mode is taken out of it", async () => {
    const overrides: SpecOverrides = {};
    for (const n of ALL_NAMES) overrides[n] = UPGRADED;
    overrides["ctrl-2"] = { ...UPGRADED, maintenance: true };
    const f = await start(overrides);
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(f.appliance("ctrl-2").maintenance).toBe(false);
    expect(run.list("upgraded")).toEqual(["ctrl-2"]);
    expect(f.writes().map((w) => w.path)).toEqual([`/admin/appliances/${f.idOf("ctrl-2")}/maintenance`]);
    expect(run.summary).toContain("| Other Controller 1 of 1 | ctrl-2 (upgraded already: maintenance mode off) |");
    expect(run.summary).not.toContain("Still in maintenance mode");
  });

  it("each Controller's maintenance-off change finishes and its busy spell ends before the next one starts", async () => {
    const f = await start({}, { changeMs: 0, busyMs: 0, changeReads: 3, busyReads: 3 });
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    const at = (type: string, appliance: string, detail?: string): number =>
      f.events.findIndex((e) => e.type === type && e.appliance === appliance && (detail === undefined || e.detail === detail));
    const firstGateway = Math.min(...GATEWAYS.map((g) => at("complete", g)));
    for (const [ctrl, next] of [
      ["ctrl-2", at("complete", "ctrl-3")],
      ["ctrl-3", firstGateway],
    ] as const) {
      expect(at("maintenance", ctrl, "off"), ctrl).toBeGreaterThan(at("complete", ctrl));
      expect(at("maintenance-done", ctrl, "off"), ctrl).toBeGreaterThan(at("maintenance", ctrl, "off"));
      expect(at("not-busy", ctrl), ctrl).toBeGreaterThan(at("maintenance-done", ctrl, "off"));
      expect(next, ctrl).toBeGreaterThan(at("not-busy", ctrl));
    }
    noMaintenanceForPrimary(f);
  });

  it("the primary in maintenance mode stops the run in pre-flight (it would refuse every change)", async () => {
    const f = await start({ "ctrl-1": { maintenance: true } });
    const run = await runUpgrade(f);
    expect(f.writes()).toEqual([]);
    expect(run.report.failure).toMatch(/the primary Controller ctrl-1 is in maintenance mode: it refuses every change/);
  });
});

describe("running again after a finished run", () => {
  it("an appliance that was never prepared is a warning; the step succeeds with nothing to do", async () => {
    const overrides: SpecOverrides = {};
    for (const n of ALL_NAMES) overrides[n] = UPGRADED;
    overrides["gw-c2"] = { upgrade: "idle" };
    const f = await start(overrides);
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(f.writes()).toEqual([]);
    expect(run.summary).toContain("Nothing to do");
    expect(run.list("skipped")).toHaveLength(ALL_NAMES.length);
    expect(run.logger.lines).toContainEqual(expect.stringMatching(/^warning: Nothing is prepared, and gw-c2 \(6\.4\.2-31000\) run\(s\) an older version than the primary Controller/));
    expect(run.summary).toMatch(/\| gw-c2 \|.*skipped: not prepared \(upgrade status idle, runs 6\.4\.2-31000; the primary Controller runs 6\.5\.0-32000\)/);
  });
});
