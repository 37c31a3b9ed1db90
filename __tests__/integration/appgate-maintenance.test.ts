/**
 * What a stopped run leaves in maintenance mode. Before anything was asked of the primary
 * Controller, the collective is as the run found it but for maintenance mode, so the run turns
 * it off again on the Controllers it put into it. Once the primary was asked to upgrade, the
 * others stay in it (two versions may be running) and the summary says a re-run finishes them.
 */
import { describe, expect, it } from "vitest";
import type { FakeController } from "../fakes/appgate/fake-controller.ts";
import { CONTROLLERS } from "../fakes/appgate/fleet.ts";
import { runUpgrade } from "../fakes/appgate/harness.ts";
import { useFleet } from "../fakes/appgate/use-fleet.ts";

const start = useFleet({ installMs: 40, rebootMs: 30, readyLagMs: 5 });

const inMaintenance = (f: FakeController): string[] => CONTROLLERS.filter((c) => f.appliance(c).maintenance);
const completes = (f: FakeController): string[] => f.events.filter((e) => e.type === "complete").map((e) => e.appliance!);

describe("maintenance mode after a stop", () => {
  it("one Controller refuses maintenance mode: the primary is never asked, and the other Controller leaves maintenance mode again", async () => {
    const f = await start({ "ctrl-3": { refuseMaintenanceOn: 500 } });
    const run = await runUpgrade(f);
    expect(completes(f)).toEqual([]);
    expect(inMaintenance(f)).toEqual([]);
    // ctrl-2 went in and out; ctrl-3, whose refusal came after retries and looks, is set off to be sure.
    expect(f.events.filter((e) => e.type === "maintenance-done" && e.appliance === "ctrl-2").map((e) => e.detail)).toEqual(["on", "off"]);
    expect(f.events.filter((e) => e.type === "maintenance-done" && e.appliance === "ctrl-3").map((e) => e.detail)).not.toContain("on");
    expect(run.report.failure).toMatch(/ctrl-3: maintenance mode could not be turned on: .*HTTP 500/);
    expect(run.report.failure).toMatch(/the primary Controller was not changed, so maintenance mode was set off again on ctrl-2, ctrl-3 \(asked to turn it on by this run\)/);
    expect(run.summary).not.toContain("Still in maintenance mode");
  });

  it("a Controller that refuses the request outright (HTTP 403) is known not to be in maintenance mode: not set off, not listed", async () => {
    const f = await start({ "ctrl-3": { refuseMaintenanceOn: 403 } });
    const run = await runUpgrade(f);
    expect(inMaintenance(f)).toEqual([]);
    expect(f.events.filter((e) => e.type === "maintenance" && e.appliance === "ctrl-3")).toEqual([]);
    expect(run.report.failure).toMatch(/maintenance mode was set off again on ctrl-2 \(asked/);
    expect(run.summary).not.toContain("Still in maintenance mode");
  });

  it("the primary is no longer ready at its turn (nothing asked of it): both other Controllers leave maintenance mode again", async () => {
    // The plan reads ctrl-1 `ready`; by its turn the appliance has given up on the prepared image.
    let reads = 0;
    const afterStatusRead = (name: string, _status: string, fake: FakeController): void => {
      if (name === "ctrl-1" && ++reads === 1) fake.setUpgradeStatus("ctrl-1", "failed", "image verification error");
    };
    const f = await start({}, { hooks: { afterStatusRead } });
    const run = await runUpgrade(f);
    expect(completes(f)).toEqual([]);
    expect(inMaintenance(f)).toEqual([]);
    expect(run.list("failed")).toEqual(["ctrl-1"]);
    expect(run.report.failure).toMatch(/maintenance mode was set off again on ctrl-2, ctrl-3/);
  });

  it("with the primary upgraded by an earlier run (two versions running), a stop leaves the other Controllers in maintenance mode", async () => {
    const f = await start({ "ctrl-1": { upgrade: "upgraded" }, "ctrl-3": { refuseMaintenanceOn: 500 } });
    const run = await runUpgrade(f);
    expect(completes(f)).toEqual([]);
    expect(inMaintenance(f)).toEqual(["ctrl-2"]);
    expect(run.report.failure).not.toMatch(/set off again/);
    expect(run.summary).toContain("Still in maintenance mode");
  });

  it("cancelled while the other Controllers go into maintenance mode: it is turned off again, with a client the cancellation left alone", async () => {
    const controller = new AbortController();
    // The workflow is cancelled the moment ctrl-2 has taken the request (its answer never arrives).
    const afterMaintenance = (name: string, enabled: boolean): void => {
      if (name === "ctrl-2" && enabled) controller.abort();
    };
    const f = await start({}, { hooks: { afterMaintenance } });
    const run = await runUpgrade(f, { controller });
    expect(completes(f)).toEqual([]);
    expect(inMaintenance(f)).toEqual([]);
    expect(f.events.filter((e) => e.type === "maintenance" && e.detail === "off").map((e) => e.appliance).sort()).toEqual(["ctrl-2", "ctrl-3"]);
    expect(run.report.failure).toMatch(/Cancelled/);
    expect(run.summary).not.toContain("Still in maintenance mode");
    expect(run.logger.lines.join("\n")).toMatch(/Cancelled before the primary Controller was changed: maintenance mode set off again on ctrl-2, ctrl-3/);
  });

  it("cancelled while going into maintenance mode, with the primary installed by an earlier run (waiting to switch partition): left in maintenance mode", async () => {
    const controller = new AbortController();
    const afterMaintenance = (name: string, enabled: boolean): void => {
      if (name === "ctrl-2" && enabled) controller.abort();
    };
    const f = await start({ "ctrl-1": { upgrade: "success" } }, { hooks: { afterMaintenance } });
    const run = await runUpgrade(f, { controller });
    expect(f.events.filter((e) => e.type === "maintenance" && e.detail === "off")).toEqual([]);
    expect(run.logger.lines.join("\n")).not.toMatch(/set off again/);
    expect(run.summary).toContain("Still in maintenance mode");
  });

  it("the primary's install fails after its complete was accepted: the other Controllers stay in maintenance mode, and the summary says so", async () => {
    const f = await start({ "ctrl-1": { failInstall: true } });
    const run = await runUpgrade(f);
    expect(completes(f)).toEqual(["ctrl-1"]);
    expect(inMaintenance(f)).toEqual(["ctrl-2", "ctrl-3"]);
    expect(run.list("failed")).toEqual(["ctrl-1"]);
    expect(run.report.failure).not.toMatch(/set off again/);
    expect(run.summary).toContain("Still in maintenance mode");
  });
});
