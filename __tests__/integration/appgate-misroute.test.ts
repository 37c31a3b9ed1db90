/**
 * An address that reaches the wrong Controller (issue 9, item 1): controller-url names one
 * Controller but its calls are answered by another. Found before any change where the answers
 * allow it; otherwise the first write refused by the answering Controller (in maintenance mode,
 * put there by the run) makes the run turn maintenance mode off again everywhere it turned it
 * on, and stop saying so. A re-run ends the same clean way.
 */
import { describe, expect, it } from "vitest";
import type { FakeController } from "../fakes/appgate/fake-controller.ts";
import { CONTROLLERS } from "../fakes/appgate/fleet.ts";
import { runUpgrade } from "../fakes/appgate/harness.ts";
import { useFleet } from "../fakes/appgate/use-fleet.ts";

const start = useFleet({ installMs: 60, rebootMs: 40, readyLagMs: 10 });

const inMaintenance = (f: FakeController): string[] => CONTROLLERS.filter((c) => f.appliance(c).maintenance);
const completes = (f: FakeController): string[] => f.events.filter((e) => e.type === "complete").map((e) => e.appliance!);

describe("controller-url reaching another Controller", () => {
  it("found in pre-flight when another Controller's admin hostname reaches the same (loopback) address: nothing is changed", async () => {
    // ctrl-1 answers; its admin hostname is localhost. ctrl-2's admin hostname is 127.0.0.1, the address in controller-url.
    const f = await start({ "ctrl-2": { adminHostname: "127.0.0.1" } }, { primaryHost: "localhost" });
    for (let attempt = 1; attempt <= 2; attempt++) {
      const run = await runUpgrade(f);
      expect(run.report.failure).toMatch(
        /controller-url's host '127\.0\.0\.1' also reaches Controller ctrl-1: its admin hostname 'localhost' points at this machine \(loopback\) too/,
      );
      expect(run.summary).toContain("Pre-flight stopped the run; nothing was changed");
      expect(f.writes()).toEqual([]);
      expect(inMaintenance(f)).toEqual([]);
    }
  });

  it("found in pre-flight through DNS: another Controller's admin hostname resolves to controller-url's address", async () => {
    const f = await start({}, { primaryHost: "ctrl-1.example.test" });
    const port = new URL(f.url).port;
    const dns: Record<string, string[]> = { "ctrl-2.example.test": ["10.0.0.2"], "ctrl-1.example.test": ["10.0.0.2"], "ctrl-3.example.test": ["10.0.0.3"] };
    const run = await runUpgrade(f, {
      config: { controllerUrl: new URL(`http://ctrl-2.example.test:${port}`), apiBaseUrl: new URL(`${f.url}/admin`) },
      resolveHost: async (h) => dns[h] ?? Promise.reject(new Error(`getaddrinfo ENOTFOUND ${h}`)),
    });
    expect(run.report.failure).toMatch(/host 'ctrl-2\.example\.test' also reaches Controller ctrl-1: its admin hostname 'ctrl-1\.example\.test' points at 10\.0\.0\.2 too/);
    expect(f.writes()).toEqual([]);
  });

  it("not visible before: the refused write turns maintenance mode off again on every Controller the run put in it, then stops; a re-run does the same", async () => {
    // The runner cannot resolve the other Controllers' names, so pre-flight cannot tell.
    const f = await start({}, { primaryHost: "ctrl-1.example.test" });
    const port = new URL(f.url).port;
    for (let attempt = 1; attempt <= 2; attempt++) {
      const run = await runUpgrade(f, {
        config: { controllerUrl: new URL(`http://ctrl-2.example.test:${port}`), apiBaseUrl: new URL(`${f.url}/admin`) },
        resolveHost: async (h) => (h === "ctrl-2.example.test" ? ["10.0.0.2"] : Promise.reject(new Error(`getaddrinfo ENOTFOUND ${h}`))),
      });
      expect(run.summary).toContain("| Primary Controller | ctrl-2 |");
      expect(completes(f)).toEqual([]);
      expect(inMaintenance(f)).toEqual([]);
      expect(f.events.filter((e) => e.type === "maintenance-done" && e.detail === "off").map((e) => e.appliance).sort()).toEqual(
        attempt === 1 ? ["ctrl-1", "ctrl-3"] : ["ctrl-1", "ctrl-1", "ctrl-3", "ctrl-3"],
      );
      expect(run.report.failure).toMatch(/controller-url reaches another Controller: a write was refused after this run put ctrl-1, ctrl-3 into maintenance mode/);
      expect(run.report.failure).toMatch(/maintenance mode was turned off again on ctrl-1, ctrl-3/);
      expect(run.summary).not.toContain("Still in maintenance mode");
      expect(run.list("failed")).toEqual(["ctrl-2"]);
    }
  });
});
