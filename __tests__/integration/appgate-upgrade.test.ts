import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { useFleet } from "../fakes/appgate/use-fleet.ts";
import type { FakeController } from "../fakes/appgate/fake-controller.ts";
import { ALL_NAMES, CONTROLLERS, GATEWAYS, GATEWAYS_BY_SITE, HA_CONNECTORS, PORTALS, standardFleet, type SpecOverrides } from "../fakes/appgate/fleet.ts";
import { runUpgrade } from "../fakes/appgate/harness.ts";
import { TEST_CA_PEM, TEST_SERVER_CERT_PEM, TEST_SERVER_KEY_PEM } from "../fakes/appgate/tls-fixture.ts";

const start = useFleet({ installMs: 60, rebootMs: 40, readyLagMs: 10 });

const completes = (f: FakeController): string[] => f.events.filter((e) => e.type === "complete").map((e) => e.appliance!);
const eventIndex = (f: FakeController, type: string, appliance: string, detail?: string): number =>
  f.events.findIndex((e) => e.type === type && e.appliance === appliance && (detail === undefined || e.detail === detail));

describe("complete-appliance-upgrade on the reference fleet", () => {
  it("upgrades everything in order: primary first, Controllers one at a time, batches within max-unavailable", async () => {
    const f = await start();
    const run = await runUpgrade(f);

    expect(run.report.failure).toBeUndefined();
    expect(run.list("upgraded").sort()).toEqual([...ALL_NAMES].sort());
    expect(run.list("failed")).toEqual([]);
    expect(run.list("skipped")).toEqual([]);
    for (const name of ALL_NAMES) {
      const a = f.appliance(name);
      expect(a, name).toMatchObject({ version: "6.5.0-32000", volume: 2, upgradeStatus: "idle" });
    }

    // Other Controllers into maintenance before the primary's complete; primary first.
    const order = completes(f);
    expect(order[0]).toBe("ctrl-1");
    const primaryComplete = eventIndex(f, "complete", "ctrl-1");
    for (const c of ["ctrl-2", "ctrl-3"]) {
      expect(eventIndex(f, "maintenance", c, "on")).toBeGreaterThanOrEqual(0);
      expect(eventIndex(f, "maintenance", c, "on")).toBeLessThan(primaryComplete);
      expect(eventIndex(f, "maintenance", c, "off")).toBeGreaterThan(eventIndex(f, "complete", c));
      expect(f.appliance(c).maintenance).toBe(false);
    }
    // The primary is never put into maintenance mode (it would refuse every change sent through it).
    expect(f.events.filter((e) => e.appliance === "ctrl-1" && e.type === "maintenance")).toEqual([]);
    expect(f.events.filter((e) => e.type === "refused")).toEqual([]);
    // Controllers before everything else, and one at a time (never down together).
    expect(order.slice(0, 3)).toEqual(["ctrl-1", "ctrl-2", "ctrl-3"]);
    expect(f.maxConcurrentDown(CONTROLLERS)).toBe(1);
    const w = f.windows();
    const end = (n: string): number => w.find((x) => x.name === n)!.end!;
    const start_ = (n: string): number => w.find((x) => x.name === n)!.start;
    expect(start_("ctrl-2")).toBeGreaterThanOrEqual(end("ctrl-1"));
    expect(start_("ctrl-3")).toBeGreaterThanOrEqual(end("ctrl-2"));
    for (const n of [...GATEWAYS, ...PORTALS, ...HA_CONNECTORS]) expect(start_(n)).toBeGreaterThanOrEqual(end("ctrl-3"));

    // Never more than one gateway of a site down at once, HA pair never together…
    for (const names of Object.values(GATEWAYS_BY_SITE)) expect(f.maxConcurrentDown(names)).toBe(1);
    expect(f.maxConcurrentDown(HA_CONNECTORS)).toBe(1);
    // …but a batch does run in parallel (three sites' gateways down together).
    expect(f.maxConcurrentDown(GATEWAYS)).toBe(3);

    // Controllers switch partition at once; the others wait for switch-partition.
    for (const e of f.events.filter((x) => x.type === "complete")) {
      expect(e.detail, e.appliance).toBe(CONTROLLERS.includes(e.appliance as never) ? "switchPartition=true" : "switchPartition=false");
    }
    expect(f.events.filter((e) => e.type === "switch-partition").map((e) => e.appliance).sort()).toEqual(
      [...GATEWAYS, ...PORTALS, ...HA_CONNECTORS].sort(),
    );

    // Outputs, summary, report file.
    const file = run.report.outputs.get("report-file")!;
    const json = JSON.parse(await readFile(file, "utf8")) as { result: string; appliances: { name: string; outcome: string; partitionBefore: number; partitionAfter: number }[] };
    expect(json.result).toBe("succeeded");
    expect(json.appliances.find((a) => a.name === "gw-b2")).toMatchObject({ outcome: "upgraded", partitionBefore: 1, partitionAfter: 2 });
    expect(run.summary).toContain("| gw-b2 | Gateway | Site B | 6.4.2-31000 | 6.5.0-32000 | 1 | 2 |");
    expect(run.summary).toContain("| ctrl-1 | Controller (primary) | Default |");
    expect(run.logger.lines.some((l) => l.startsWith("Batch 1 of 2:"))).toBe(true);
    expect(f.logins.every((l) => l.deviceId === f.logins[0]!.deviceId)).toBe(true);
    expect(f.refusals.notAcceptable).toBe(0);
  });
});

describe("failures stop the run after their batch", () => {
  it("a failing gateway lets its batch finish, then nothing after it starts; the step fails", async () => {
    const f = await start({ "gw-b1": { failInstall: true } });
    const run = await runUpgrade(f);

    expect(run.list("failed")).toEqual(["gw-b1"]);
    const batch1 = ["gw-a1", "portal-1", "conn-1", "gw-c1"];
    const batch2 = ["gw-a2", "portal-2", "conn-2", "gw-b2", "gw-c2"];
    expect(run.list("upgraded").sort()).toEqual([...CONTROLLERS, ...batch1].sort());
    expect(run.list("skipped").sort()).toEqual([...batch2].sort());
    for (const n of batch2) expect(f.appliance(n).upgradeStatus, n).toBe("ready");
    expect(completes(f).filter((n) => batch2.includes(n))).toEqual([]);
    expect(run.report.failure).toMatch(/gw-b1.*image verification error/);
    expect(run.summary).toContain("not-started: the run stopped (gw-b1 failed in batch 1 of 2)");
  });

  it("an appliance that never finishes times out (failed), its batch still finishes", async () => {
    const f = await start({ "gw-c1": { installMs: 60_000 } });
    const run = await runUpgrade(f, { config: { applianceTimeoutMs: 1_500 } });
    expect(run.list("failed")).toEqual(["gw-c1"]);
    expect(run.report.failure).toMatch(/gw-c1.*timed out .* waiting for gw-c1 to reach upgrade status success or idle \(last seen: installing\)/);
    expect(run.list("upgraded")).toEqual(expect.arrayContaining(["gw-a1", "gw-b1", "portal-1", "conn-1"]));
    expect(completes(f)).not.toContain("gw-a2");
  });
});

describe("resuming a run left halfway", () => {
  it("success → switch partition only; installing → wait; already on target → skipped as done", async () => {
    const f = await start({
      "ctrl-1": { upgrade: "upgraded" },
      "ctrl-2": { upgrade: "upgraded" },
      "ctrl-3": { upgrade: "upgraded" },
      "gw-a1": { upgrade: "upgraded" },
      "gw-b1": { upgrade: "success" },
      "gw-c1": { upgrade: "installing" },
      "portal-1": { upgrade: "success" },
    });
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(run.list("failed")).toEqual([]);
    expect(run.list("skipped").sort()).toEqual(["ctrl-1", "ctrl-2", "ctrl-3", "gw-a1"]);
    expect(run.list("upgraded").sort()).toEqual(
      ["gw-a2", "gw-b1", "gw-b2", "gw-c1", "gw-c2", "portal-1", "portal-2", "conn-1", "conn-2"].sort(),
    );
    // No complete (which would be refused with 412) for the ones already past it.
    expect(completes(f)).not.toContain("gw-b1");
    expect(completes(f)).not.toContain("gw-c1");
    expect(completes(f)).not.toContain("portal-1");
    expect(f.events.filter((e) => e.type === "switch-partition").map((e) => e.appliance)).toEqual(expect.arrayContaining(["gw-b1", "gw-c1", "portal-1"]));
    expect(f.requests.filter((r) => r.status === 412)).toEqual([]);
    // Nothing for the Controllers, not even maintenance mode.
    expect(f.events.filter((e) => e.type === "maintenance")).toEqual([]);
    expect(run.summary).toMatch(/\| ctrl-2 \| Controller \| Default \| 6\.5\.0-32000 \|.*skipped: already on the target version 6\.5\.0-32000/);
    for (const n of ALL_NAMES) expect(f.appliance(n).version, n).toBe("6.5.0-32000");
  });

  it("a `failed` upgrade status from an earlier run is reported, never retried, and nothing starts", async () => {
    const f = await start({ "gw-a2": { upgrade: "failed" } });
    const run = await runUpgrade(f);
    expect(run.list("failed")).toEqual(["gw-a2"]);
    expect(run.list("upgraded")).toEqual([]);
    expect(f.writes()).toEqual([]);
    expect(run.report.failure).toMatch(/gw-a2: its upgrade status is 'failed'.*never retried/);
  });

  it("re-running after everything finished does nothing and succeeds", async () => {
    const overrides: SpecOverrides = {};
    for (const n of ALL_NAMES) overrides[n] = { upgrade: "upgraded" };
    const f = await start(overrides);
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(run.list("skipped")).toHaveLength(ALL_NAMES.length);
    expect(f.writes()).toEqual([]);
    expect(run.summary).toContain("Nothing to do");
  });
});

describe("tokens", () => {
  it("a token that expires mid-run: one new login, the call is repeated, the run carries on", async () => {
    const f = await start({}, { hooks: { afterComplete: (name, fk) => name === "gw-a1" && fk.revokeTokens() } });
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(run.list("upgraded")).toHaveLength(ALL_NAMES.length);
    expect(f.logins.length).toBe(2); // the parallel batch shared one login
    expect(new Set(f.logins.map((l) => l.deviceId)).size).toBe(1);
    expect(f.refusals.unauthorized).toBeGreaterThanOrEqual(1);
    expect(run.masked).toHaveLength(2);
  });

  it("tokens revoked by the primary's reboot are renewed", async () => {
    const f = await start({}, { primaryRebootRevokesTokens: true });
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(f.logins.length).toBe(2);
  });

  it("with the `token` input a refused token ends the run clearly (it cannot be renewed)", async () => {
    const f = await start({}, { staticTokens: ["static-token-1"], hooks: { afterComplete: (name, fk) => name === "ctrl-2" && fk.revokeTokens() } });
    const run = await runUpgrade(f, { config: { auth: { kind: "token", token: "static-token-1" }, secrets: ["static-token-1"] } });
    expect(f.logins).toEqual([]);
    expect(run.list("upgraded")).toEqual(["ctrl-1"]);
    expect(run.list("failed")).toEqual(["ctrl-2"]);
    expect(run.report.failure).toMatch(/refused the token \(HTTP 401\).*username and password/);
    expect(completes(f)).toEqual(["ctrl-1", "ctrl-2"]);
  });
});

describe("pre-flight", () => {
  it("an offline Controller aborts before any change", async () => {
    const f = await start({ "ctrl-3": { offline: true } });
    const run = await runUpgrade(f);
    expect(f.writes()).toEqual([]);
    expect(run.report.failure).toMatch(/Controller ctrl-3 is offline: every Controller and LogServer must be online/);
    expect(run.list("upgraded")).toEqual([]);
    expect(run.summary).toContain("Pre-flight stopped the run; nothing was changed");
    expect(run.report.outputs.get("report-file")).toMatch(/appgate-upgrade-report\.json$/);
  });

  it("an offline gateway is skipped with its reason, the rest goes on", async () => {
    const f = await start({ "gw-c2": { offline: true } });
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(run.list("skipped")).toEqual(["gw-c2"]);
    expect(run.summary).toMatch(/\| gw-c2 \|.*skipped: offline \(status offline\)/);
    expect(run.logger.lines).toContain("warning: site Site C already has gateway(s) offline (gw-c2)");
  });

  it("a controller-url that is not the primary's admin hostname aborts", async () => {
    const f = await start({}, { primaryHost: "ctrl-1.example.test" });
    const run = await runUpgrade(f);
    expect(f.writes()).toEqual([]);
    expect(run.report.failure).toMatch(/host '127\.0\.0\.1' is not the admin hostname of any Controller \(ctrl-1\.example\.test/);
  });

  it("prepared Controllers targeting different versions on a minor upgrade abort", async () => {
    const f = await start({ "ctrl-3": { image: "appgate-6.5.1-32100-release.img.zip" } });
    const run = await runUpgrade(f);
    expect(f.writes()).toEqual([]);
    expect(run.report.failure).toMatch(/prepared Controllers target different versions on a major\/minor upgrade/);
  });

  it("the appliances input limits the run; not-ready ones are skipped with their reason", async () => {
    const f = await start({ "gw-b2": { upgrade: "downloading" } });
    const run = await runUpgrade(f, { config: { appliances: ["gw-a1", "gw-a2", f.idOf("gw-b2")] } });
    expect(run.report.failure).toBeUndefined();
    expect(run.list("upgraded").sort()).toEqual(["gw-a1", "gw-a2"]);
    expect(completes(f)).toEqual(["gw-a1", "gw-a2"]);
    expect(f.maxConcurrentDown(["gw-a1", "gw-a2"])).toBe(1);
    expect(run.summary).toMatch(/\| gw-b2 \|.*skipped: still preparing \(upgrade status downloading\)/);
    expect(run.summary).toMatch(/\| ctrl-1 \|.*skipped: not in the appliances input/);
  });

  it("an unknown name in the appliances input aborts, naming the input", async () => {
    const f = await start();
    const run = await runUpgrade(f, { config: { appliances: ["gw-a1", "gw-zz"] } });
    expect(f.writes()).toEqual([]);
    expect(run.report.failure).toMatch(/appliances: there is no appliance named \(or with id\) 'gw-zz'/);
  });

  it("a host name resolving to several addresses aborts (a round-robin could reach another Controller)", async () => {
    const f = await start({}, { primaryHost: "localhost.localdomain" });
    // Reach the fake through a name; the name is what the primary is matched on.
    const url = new URL(f.url);
    const run = await runUpgrade(f, {
      config: { controllerUrl: new URL(`http://localhost.localdomain:${url.port}`), apiBaseUrl: new URL(`${f.url}/admin`) },
      resolveHost: async (h) => (h === "localhost.localdomain" ? ["10.0.0.1", "10.0.0.2"] : Promise.reject(new Error(`getaddrinfo ENOTFOUND ${h}`))),
    });
    expect(f.writes()).toEqual([]);
    expect(run.report.failure).toMatch(/resolves to more than one IPv4 address \(10\.0\.0\.1, 10\.0\.0\.2\)/);
  });
});

describe("TLS", () => {
  it("an untrusted certificate stops the run with a hint; with ca-certificate it goes through", async () => {
    const f = await start({}, { tls: { key: TEST_SERVER_KEY_PEM, cert: TEST_SERVER_CERT_PEM } });
    const refused = await runUpgrade(f, { config: { dryRun: true } });
    expect(refused.report.failure).toMatch(/the Controller's TLS certificate is not trusted \(.+\)\. If it comes from a private CA, give that CA in ca-certificate/);
    expect(f.requests).toEqual([]);
    const trusted = await runUpgrade(f, { config: { dryRun: true, caCertificate: TEST_CA_PEM } });
    expect(trusted.report.failure).toBeUndefined();
    expect(trusted.summary).toContain("| Primary Controller | ctrl-1 |");
  });
});

describe("dry run", () => {
  it("shows the pre-flight and the full ordered plan, changes nothing", async () => {
    const f = await start({ "gw-c2": { upgrade: "idle" } });
    const run = await runUpgrade(f, { config: { dryRun: true } });
    expect(run.report.failure).toBeUndefined();
    expect(f.writes()).toEqual([]);
    expect(run.list("upgraded")).toEqual([]);
    expect(run.list("skipped")).toEqual(["gw-c2"]);
    expect(run.summary).toContain("Dry run: the plan below was not carried out");
    expect(run.summary).toContain("| Maintenance mode on | ctrl-2, ctrl-3 |");
    expect(run.summary).toContain("| Primary Controller | ctrl-1 |");
    expect(run.summary).toContain("| Other Controller 1 of 2 | ctrl-2 |");
    // Portals level the batches: batch 2 is one gateway short, so it gets the first portal.
    expect(run.summary).toContain("| Batch 1 of 2 | gw-a1, portal-2, conn-1, gw-b1, gw-c1 |");
    expect(run.summary).toContain("| Batch 2 of 2 | gw-a2, portal-1, conn-2, gw-b2 |");
    const json = JSON.parse(await readFile(run.report.outputs.get("report-file")!, "utf8")) as { result: string; plan: { stages: { appliances: string[] }[] } };
    expect(json.result).toBe("dry-run");
    expect(json.plan.stages.map((s) => s.appliances)).toEqual([
      ["ctrl-1"],
      ["ctrl-2"],
      ["ctrl-3"],
      ["gw-a1", "portal-2", "conn-1", "gw-b1", "gw-c1"],
      ["gw-a2", "portal-1", "conn-2", "gw-b2"],
    ]);
  });
});

describe("the Controller's answers", () => {
  it("a 503 from the primary's address (a load balancer in the way) is fatal", async () => {
    const f = await start({}, { misrouteAfterPrimaryComplete: true });
    const run = await runUpgrade(f);
    expect(run.list("failed")).toEqual(["ctrl-1"]);
    expect(completes(f)).toEqual(["ctrl-1"]);
    expect(run.report.failure).toMatch(/HTTP 503 from the primary Controller's address.*load balancer/);
    expect(run.summary).toContain("Still in maintenance mode:** ctrl-2, ctrl-3");
  });

  it("a complete whose answer is lost is settled by reading the status, not sent again", async () => {
    const f = await start({}, { dropCompleteAnswer: ["gw-b2", "ctrl-2"] });
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(run.list("upgraded")).toHaveLength(ALL_NAMES.length);
    expect(f.requests.filter((r) => r.path.endsWith(`${f.idOf("gw-b2")}/upgrade/complete`))).toHaveLength(1);
    expect(f.requests.filter((r) => r.path.endsWith(`${f.idOf("ctrl-2")}/upgrade/complete`))).toHaveLength(1);
    expect(run.logger.lines.some((l) => l.startsWith("gw-b2: upgrade status: installing; the request was accepted"))).toBe(true);
  });

  it("a 412 on complete re-reads the status: already installing means carry on", async () => {
    const f = await start({}, { hooks: { beforeComplete: (name, fk) => name === "gw-c2" && fk.completeBehindTheScenes("gw-c2", false) } });
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    const calls = f.requests.filter((r) => r.path.endsWith(`${f.idOf("gw-c2")}/upgrade/complete`));
    expect(calls.map((c) => c.status)).toEqual([412]);
    expect(run.list("upgraded")).toContain("gw-c2");
    expect(f.appliance("gw-c2")).toMatchObject({ version: "6.5.0-32000", volume: 2 });
    expect(run.logger.lines.some((l) => /^gw-c2: completing the upgrade of gw-c2: HTTP 412 .*reading the upgrade status again/.test(l))).toBe(true);
  });

  it("a 412 on complete when the status has not moved on is the answer: the appliance fails", async () => {
    const f = await start({}, { hooks: { beforeComplete: (name, fk) => name === "gw-a1" && fk.setUpgradeStatus("gw-a1", "downloading") } });
    const run = await runUpgrade(f);
    expect(run.list("failed")).toEqual(["gw-a1"]);
    expect(run.report.failure).toMatch(/gw-a1 \(completing the upgrade of gw-a1: HTTP 412 .*upgrade status: downloading/);
    expect(f.requests.filter((r) => r.path.endsWith(`${f.idOf("gw-a1")}/upgrade/complete`))).toHaveLength(1);
  });
});

describe("max-unavailable", () => {
  it("2 lets two gateways of a site go together (never three), but never both connectors of the HA pair", async () => {
    const siteA = ["gw-a1", "gw-a2", "gw-a3"];
    const fake = await start({}, { appliances: [...standardFleet(), { name: "gw-a3", roles: ["gateway"], site: "Site A" }] });
    const run = await runUpgrade(fake, { config: { maxUnavailable: 2 } });
    expect(run.report.failure).toBeUndefined();
    expect(run.list("upgraded")).toHaveLength(ALL_NAMES.length + 1);
    expect(fake.maxConcurrentDown(siteA)).toBe(2);
    for (const names of Object.values(GATEWAYS_BY_SITE)) expect(fake.maxConcurrentDown(names)).toBeLessThanOrEqual(2);
    expect(fake.maxConcurrentDown(HA_CONNECTORS)).toBe(1);
    expect(fake.maxConcurrentDown(CONTROLLERS)).toBe(1);
    expect(run.logger.lines.filter((l) => /^Batch \d of 2: /.test(l))).toHaveLength(2);
  });

  it("1 with three gateways in a site takes three batches", async () => {
    const fake = await start({}, { appliances: [...standardFleet(), { name: "gw-a3", roles: ["gateway"], site: "Site A" }] });
    const run = await runUpgrade(fake, { config: { dryRun: true } });
    expect(run.logger.lines.filter((l) => /^ {2}Batch \d of 3: /.test(l))).toHaveLength(3);
  });
});

describe("cancellation", () => {
  it("stops starting appliances, reports the ones still installing, writes outputs and summary", async () => {
    const controller = new AbortController();
    // Cancelled once gw-a1 was seen installing (its second read: the first answer surely reached the action).
    let installingReads = 0;
    const afterStatusRead = (name: string, status: string): void => {
      if (name === "gw-a1" && status === "installing" && ++installingReads === 2) controller.abort();
    };
    const f = await start({ "gw-a1": { installMs: 60_000 } }, { hooks: { afterStatusRead } });
    const run = await runUpgrade(f, { controller });
    // It returned without waiting for gw-a1's install (a minute long), which carries on.
    expect(f.appliance("gw-a1").phase).toBe("installing");
    expect(run.list("unfinished")).toEqual(expect.arrayContaining(["gw-a1"]));
    expect(run.list("upgraded")).toEqual(expect.arrayContaining([...CONTROLLERS]));
    expect(run.list("skipped")).toEqual(expect.arrayContaining(["gw-a2", "gw-b2", "gw-c2", "portal-2", "conn-2"]));
    expect(completes(f).filter((n) => ["gw-a2", "gw-b2", "gw-c2", "portal-2", "conn-2"].includes(n))).toEqual([]);
    expect(run.report.failure).toMatch(/Cancelled; still under way on the Controller: .*gw-a1/);
    expect(run.summary).toMatch(/Still under way on the Controller.*gw-a1 \(installing\)/);
    expect(run.report.annotations.some((a) => a.title === "Appliances still upgrading")).toBe(true);
    const json = JSON.parse(await readFile(run.report.outputs.get("report-file")!, "utf8")) as { result: string };
    expect(json.result).toBe("cancelled");
  });
});
