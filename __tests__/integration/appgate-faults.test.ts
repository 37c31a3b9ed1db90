/**
 * A Controller less clean than the happy path: status that lags behind a change, a transient
 * `success`, a status list that hangs, a reboot back onto the old partition, an entry without
 * its volumeNumber, a dual-stack host name, a report folder that cannot be written. Faults that
 * last are counted in reads, not in time, so the checks never depend on machine speed.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useFleet } from "../fakes/appgate/use-fleet.ts";
import { type FakeController } from "../fakes/appgate/fake-controller.ts";
import { ALL_NAMES, CONTROLLERS } from "../fakes/appgate/fleet.ts";
import { runUpgrade } from "../fakes/appgate/harness.ts";

const start = useFleet({ installMs: 20, rebootMs: 20, readyLagMs: 5 });

const completeCalls = (f: FakeController, name: string) => f.requests.filter((r) => r.path === `/admin/appliances/${f.idOf(name)}/upgrade/complete`);

describe("the status lags behind a change", () => {
  it("a complete whose answer is lost while the status still reads `ready` is not sent again (primary or not)", async () => {
    const lag = { statusLagReads: 2 };
    const f = await start({ "ctrl-1": lag, "gw-b2": lag }, { dropCompleteAnswer: ["ctrl-1", "gw-b2"] });
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(run.list("upgraded")).toHaveLength(ALL_NAMES.length);
    expect(completeCalls(f, "ctrl-1")).toHaveLength(1);
    expect(completeCalls(f, "gw-b2")).toHaveLength(1);
  });

  it("a transient `success` while a Controller installs with switchPartition:true gets no switch-partition", async () => {
    const transient = { successReads: 2 };
    const f = await start({ "ctrl-1": transient, "ctrl-2": transient, "ctrl-3": transient });
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(run.list("upgraded")).toHaveLength(ALL_NAMES.length);
    expect(f.events.filter((e) => e.type === "switch-partition" && CONTROLLERS.includes(e.appliance as never))).toEqual([]);
    for (const c of CONTROLLERS) expect(f.appliance(c), c).toMatchObject({ version: "6.5.0-32000", volume: 2 });
  });
});

describe("reads and verification", () => {
  it("status-list reads that hang are abandoned after the request timeout and read again; each reads only its appliance", async () => {
    const f = await start({}, { hooks: { afterComplete: (name, fk) => name === "gw-a1" && fk.hangStatusReads(2) } });
    const run = await runUpgrade(f, { timings: { requestTimeoutMs: 300 } });
    expect(run.report.failure).toBeUndefined();
    expect(run.list("upgraded")).toHaveLength(ALL_NAMES.length);
    const reads = f.requests.filter((r) => r.path.startsWith("/admin/appliances/status"));
    expect(reads.filter((r) => r.status === 0)).toHaveLength(2);
    // The pre-flight reads the whole list once; every later read is narrowed to one appliance.
    expect(reads.filter((r) => !r.path.includes("?name="))).toHaveLength(1);
    expect(f.held()).toBe(0);
  });

  it("a reboot back onto the old partition fails the verification", async () => {
    const f = await start({ "gw-a1": { bootsOldPartition: true } });
    const run = await runUpgrade(f, { config: { appliances: ["gw-a1"] } });
    expect(run.list("failed")).toEqual(["gw-a1"]);
    expect(run.report.failure).toMatch(/gw-a1 \(never switched partition \(still on volume 1\)\)/);
  });

  it("an appliance without a volumeNumber stops the run in pre-flight, before any change", async () => {
    const f = await start({ "gw-b2": { noVolumeNumber: true } });
    const run = await runUpgrade(f);
    expect(f.writes()).toEqual([]);
    expect(run.report.failure).toMatch(/gw-b2: the status list gives no volumeNumber/);
  });
});

describe("pre-flight and outputs", () => {
  async function named(resolved: string[]): Promise<ReturnType<typeof runUpgrade>> {
    const f = await start({}, { primaryHost: "localhost.localdomain" });
    const url = new URL(f.url);
    return runUpgrade(f, {
      config: { dryRun: true, controllerUrl: new URL(`http://localhost.localdomain:${url.port}`), apiBaseUrl: new URL(`${f.url}/admin`) },
      resolveHost: async (h) => (h === "localhost.localdomain" ? resolved : Promise.reject(new Error(`getaddrinfo ENOTFOUND ${h}`))),
    });
  }

  it("a dual-stack host name (one IPv4 and one IPv6 address) is fine; two addresses of one family are not", async () => {
    expect((await named(["10.0.0.1", "fd00::1"])).report.failure).toBeUndefined();
    expect((await named(["fd00::1", "fd00::2", "10.0.0.1"])).report.failure).toMatch(/resolves to more than one IPv6 address \(fd00::1, fd00::2\)/);
  });

  it("report-file is set only once the file is written", async () => {
    const f = await start();
    const run = await runUpgrade(f, { config: { dryRun: true }, tempDir: join(tmpdir(), `appgate-no-such-folder-${process.pid}`, "deeper") });
    expect(run.report.outputs.has("report-file")).toBe(false);
    expect(run.report.outputs.get("skipped")).toBe("[]");
    expect(run.logger.lines).toContainEqual(expect.stringMatching(/^warning: Could not write the report file/));
  });
});
