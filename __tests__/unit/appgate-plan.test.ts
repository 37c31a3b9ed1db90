import { describe, expect, it } from "vitest";
import type { Role } from "../../src/appgate/api/wire.ts";
import { packBatches } from "../../src/appgate/plan/batches.ts";
import type { FleetAppliance, PlanInput } from "../../src/appgate/plan/model.ts";
import { planUpgrade } from "../../src/appgate/plan/plan.ts";

const IMAGE = "appgate-6.5.0-32000-release.img.zip";

interface Opt {
  site?: string;
  admin?: string;
  vip?: string;
  version?: string;
  status?: string;
  details?: string;
  live?: string;
  activated?: boolean;
  volume?: number;
  /** No volumeNumber in the status list. */
  noVolume?: boolean;
  maintenance?: boolean;
  upgradeError?: string;
  tags?: string[];
  disk?: number;
}

function fa(name: string, roles: Role[], o: Opt = {}): FleetAppliance {
  const a: FleetAppliance = {
    info: {
      id: `id-${name}`,
      name,
      activated: o.activated ?? true,
      roles,
      virtualIps: o.vip ? [o.vip] : [],
      tags: o.tags ?? [],
      siteId: `site-${o.site ?? "default"}`,
      siteName: o.site ?? "Default",
      ...(o.admin ? { adminHostname: o.admin } : {}),
    },
    live: {
      id: `id-${name}`,
      status: o.live ?? "healthy",
      state: roles.includes("controller") ? "controller_ready" : "appliance_ready",
      applianceVersion: o.version ?? "6.4.2-31000",
      ...(o.noVolume ? {} : { volumeNumber: o.volume ?? 1 }),
      ...(o.maintenance !== undefined ? { maintenanceMode: o.maintenance } : {}),
      ...(o.disk !== undefined ? { disk: o.disk } : {}),
    },
  };
  if (o.upgradeError) a.upgradeError = o.upgradeError;
  else a.upgrade = { status: o.status ?? "ready", details: o.details ?? (o.status === undefined || o.status === "ready" ? IMAGE : "") };
  return a;
}

/** The reference fleet. */
function fleet(over: Record<string, Opt> = {}): FleetAppliance[] {
  const o = (n: string, base: Opt = {}): Opt => ({ ...base, ...over[n] });
  return [
    fa("ctrl-1", ["controller"], o("ctrl-1", { admin: "ctrl.example.com" })),
    fa("ctrl-2", ["controller"], o("ctrl-2", { admin: "ctrl-2.example.com" })),
    fa("ctrl-3", ["controller"], o("ctrl-3", { admin: "ctrl-3.example.com" })),
    ...["a", "b", "c"].flatMap((s) => [1, 2].map((i) => fa(`gw-${s}${i}`, ["gateway"], o(`gw-${s}${i}`, { site: `Site ${s.toUpperCase()}` })))),
    fa("portal-1", ["portal"], o("portal-1", { site: "Site A" })),
    fa("portal-2", ["portal"], o("portal-2", { site: "Site A" })),
    fa("conn-1", ["connector"], o("conn-1", { site: "Site B", vip: "10.20.0.100" })),
    fa("conn-2", ["connector"], o("conn-2", { site: "Site B", vip: "10.20.0.100" })),
  ];
}

const input = (appliances: FleetAppliance[], extra: Partial<PlanInput> = {}): PlanInput => ({
  appliances,
  controllerHost: "ctrl.example.com",
  maxUnavailable: 1,
  ...extra,
});

const stages = (p: ReturnType<typeof planUpgrade>): string[][] => p.stages.map((s) => s.appliances.map((a) => a.name));

describe("planUpgrade: order", () => {
  it("primary, other Controllers one by one, then batches with one gateway per site and one connector of the HA pair", () => {
    const p = planUpgrade(input(fleet()));
    expect(p.problems).toEqual([]);
    expect(p.primary?.name).toBe("ctrl-1");
    expect(p.maintenance.map((c) => c.name)).toEqual(["ctrl-2", "ctrl-3"]);
    expect(stages(p)).toEqual([
      ["ctrl-1"],
      ["ctrl-2"],
      ["ctrl-3"],
      ["gw-a1", "portal-1", "conn-1", "gw-b1", "gw-c1"],
      ["gw-a2", "portal-2", "conn-2", "gw-b2", "gw-c2"],
    ]);
    expect(p.stages.map((s) => s.kind)).toEqual(["primary", "controller", "controller", "batch", "batch"]);
    expect(p.stages[0]!.appliances[0]).toMatchObject({ isPrimary: true, switchPartition: true, action: "complete", targetText: IMAGE });
    expect(p.stages[3]!.appliances.every((a) => !a.switchPartition)).toBe(true);
    expect(p.targetVersions).toEqual(["6.5.0-32000"]);
  });

  it("matches controller-url's host to the admin hostname case-insensitively", () => {
    expect(planUpgrade(input(fleet(), { controllerHost: "CTRL.Example.com" })).primary?.name).toBe("ctrl-1");
    expect(planUpgrade(input(fleet(), { controllerHost: "ctrl-3.example.com" })).stages[0]!.appliances[0]!.name).toBe("ctrl-3");
  });

  it("with max-unavailable 2, gateways of a site may share a batch; an HA pair still never does", () => {
    const p = planUpgrade(input(fleet(), { maxUnavailable: 2 }));
    const batches = p.stages.filter((s) => s.kind === "batch").map((s) => s.appliances.map((a) => a.name));
    expect(batches).toHaveLength(2);
    for (const b of batches) expect(b.filter((n) => n.startsWith("conn-"))).toHaveLength(1);
  });

  it("a three-member HA set with max-unavailable 5 keeps one member up", () => {
    const apps = [
      fa("ctrl-1", ["controller"], { admin: "ctrl.example.com", status: "idle", version: "6.5.0-32000" }),
      ...[1, 2, 3].map((i) => fa(`conn-${i}`, ["connector"], { vip: "10.0.0.9" })),
    ];
    const p = planUpgrade(input(apps, { maxUnavailable: 5 }));
    const batches = stages(p);
    expect(batches.map((b) => b.length)).toEqual([2, 1]);
    expect(batches.flat().sort()).toEqual(["conn-1", "conn-2", "conn-3"]);
  });

  it("log forwarders count per site like gateways; connectors without a virtual IP are free", () => {
    const apps = [
      fa("ctrl-1", ["controller"], { admin: "ctrl.example.com", status: "idle", version: "6.5.0-32000" }),
      fa("lf-1", ["logForwarder"], { site: "X" }),
      fa("lf-2", ["logForwarder"], { site: "X" }),
      fa("lf-3", ["logForwarder"], { site: "Y" }),
      fa("c-1", ["connector"], { site: "X" }),
      fa("c-2", ["connector"], { site: "X" }),
    ];
    const p = planUpgrade(input(apps));
    expect(stages(p)).toEqual([
      ["c-2", "lf-1", "lf-3"],
      ["c-1", "lf-2"],
    ]);
  });
});

describe("planUpgrade: pre-flight problems (abort before any change)", () => {
  it("an offline Controller or LogServer", () => {
    const apps = [...fleet({ "ctrl-3": { live: "offline" } }), fa("log-1", ["logServer"], { live: "n/a", admin: "log.example.com" })];
    const p = planUpgrade(input(apps));
    expect(p.problems).toEqual([
      "Controller ctrl-3 is offline: every Controller and LogServer must be online",
      "LogServer log-1 is n/a: every Controller and LogServer must be online",
    ]);
  });

  it("no Controller or more than one with controller-url's host", () => {
    expect(planUpgrade(input(fleet(), { controllerHost: "lb.example.com" })).problems[0]).toMatch(
      /'lb\.example\.com' is not the admin hostname of any Controller \(ctrl\.example\.com, ctrl-2\.example\.com, ctrl-3\.example\.com\)/,
    );
    const twice = planUpgrade(input(fleet({ "ctrl-2": { admin: "ctrl.example.com" } })));
    expect(twice.problems[0]).toMatch(/more than one Controller \(ctrl-1, ctrl-2\)/);
  });

  it("prepared Controllers targeting different versions on a major/minor upgrade (a patch is fine)", () => {
    const minor = planUpgrade(input(fleet({ "ctrl-2": { details: "appgate-6.5.1-32100-release.img.zip" } })));
    expect(minor.problems[0]).toMatch(/different versions on a major\/minor upgrade \(ctrl-1: 6\.5\.0-32000, ctrl-2: 6\.5\.1-32100, ctrl-3: 6\.5\.0-32000\)/);
    const patch = planUpgrade(
      input(fleet({ "ctrl-1": { version: "6.5.0-32000", details: "appgate-6.5.1-1.img.zip" }, "ctrl-2": { version: "6.5.0-32000", details: "appgate-6.5.2-1.img.zip" }, "ctrl-3": { version: "6.5.0-32000", details: "appgate-6.5.2-1.img.zip" } })),
    );
    expect(patch.problems).toEqual([]);
  });

  it("other Controllers on a minor upgrade while the primary is not being upgraded", () => {
    const p = planUpgrade(input(fleet({ "ctrl-1": { status: "idle" } })));
    expect(p.problems.some((x) => /primary Controller ctrl-1 goes first/.test(x))).toBe(true);
    expect(p.warnings.some((x) => /ctrl-1 is not being upgraded to 6\.5\.0-32000/.test(x))).toBe(true);
  });

  it("an upgrade status `failed` from an earlier run", () => {
    const p = planUpgrade(input(fleet({ "gw-b1": { status: "failed", details: "disk full" } })));
    expect(p.failed.map((f) => f.name)).toEqual(["gw-b1"]);
    expect(p.problems).toEqual([expect.stringMatching(/gw-b1: its upgrade status is 'failed' \(disk full\)\. It is never retried/)]);
  });

  it("unknown names in the selection, and nothing prepared at all", () => {
    expect(planUpgrade(input(fleet(), { selection: ["gw-a1", "nope"] })).problems).toEqual([
      "appliances: there is no appliance named (or with id) 'nope'",
    ]);
    const idle: Record<string, Opt> = {};
    for (const a of fleet()) idle[a.info.name] = { status: "idle", version: a.info.name.startsWith("gw") ? "6.4.2-31000" : "6.4.1-30000" };
    expect(planUpgrade(input(fleet(idle))).problems).toEqual([
      "No appliance is ready to complete an upgrade: prepare the upgrade first (upgrade status 'ready')",
    ]);
  });
});

describe("planUpgrade: skipped with a reason, and resume", () => {
  it("gives every appliance left out its reason", () => {
    const apps = [
      ...fleet({
        "gw-a1": { live: "offline" },
        "portal-2": { status: "downloading" },
        "gw-b1": { activated: false },
        "gw-b2": { upgradeError: "reading the upgrade status of gw-b2: HTTP 500" },
        "gw-c1": { status: "idle" },
        "gw-c2": { status: "ready", details: "appgate.img.zip" },
        "portal-1": { status: "idle", version: "6.5.0-32000" },
      }),
    ];
    const p = planUpgrade(input(apps));
    const reason = (n: string) => p.skipped.find((s) => s.name === n)?.reason;
    expect(reason("gw-a1")).toBe("offline (status offline)");
    expect(reason("portal-2")).toBe("still preparing (upgrade status downloading)");
    expect(reason("gw-b1")).toBe("not activated");
    expect(reason("gw-b2")).toBe("upgrade status could not be read: reading the upgrade status of gw-b2: HTTP 500");
    expect(reason("gw-c1")).toBe("not prepared (upgrade status idle, runs 6.4.2-31000)");
    expect(reason("gw-c2")).toBe("prepared image 'appgate.img.zip' names no version");
    expect(reason("portal-1")).toBe("already on the target version 6.5.0-32000");
    expect(p.skipped.find((s) => s.name === "portal-1")?.alreadyUpgraded).toBe(true);
    expect(p.warnings).toContain("site Site A already has gateway(s) offline (gw-a1)");
    expect(p.problems).toEqual([]);
  });

  it("resumes: success → switch partition, installing → wait, target from the prepared ones", () => {
    const p = planUpgrade(
      input(
        fleet({
          "ctrl-1": { status: "idle", version: "6.5.0-32000", volume: 2 },
          "gw-a1": { status: "success", details: "a reboot is required" },
          "ctrl-2": { status: "installing", details: "" },
        }),
      ),
    );
    expect(p.problems).toEqual([]);
    const all = p.stages.flatMap((s) => s.appliances);
    expect(all.find((a) => a.name === "gw-a1")).toMatchObject({ action: "switch-partition", targetText: "6.5.0-32000" });
    expect(all.find((a) => a.name === "ctrl-2")).toMatchObject({ action: "wait-install", switchPartition: true });
    expect(p.maintenance.map((c) => c.name)).toEqual(["ctrl-3"]);
    expect(p.skipped.find((s) => s.name === "ctrl-1")?.reason).toBe("already on the target version 6.5.0-32000");
  });

  it("with nothing prepared and one version everywhere, everything is done (nothing to do, no problem)", () => {
    const done: Record<string, Opt> = {};
    for (const a of fleet()) done[a.info.name] = { status: "idle", version: "6.5.0-32000" };
    const p = planUpgrade(input(fleet(done)));
    expect(p.problems).toEqual([]);
    expect(p.stages).toEqual([]);
    expect(p.skipped.every((s) => s.alreadyUpgraded)).toBe(true);
  });

  it("the selection takes names or ids; the rest is skipped as not selected", () => {
    const p = planUpgrade(input(fleet(), { selection: ["gw-a1", "ID-GW-A2"] }));
    expect(stages(p)).toEqual([["gw-a1"], ["gw-a2"]]);
    expect(p.skipped.find((s) => s.name === "ctrl-1")?.reason).toBe("not in the appliances input");
  });
});

/** Every appliance done (idle on 6.5.0), with `over` on top. */
function finished(over: Record<string, Opt> = {}): FleetAppliance[] {
  const done: Record<string, Opt> = {};
  for (const a of fleet()) done[a.info.name] = { status: "idle", version: "6.5.0-32000", volume: 2, ...over[a.info.name] };
  return fleet(done);
}

describe("planUpgrade: appliances an earlier run left installing", () => {
  it("are waited for first, in a stage of their own: nothing new starts while they are down", () => {
    const p = planUpgrade(input(fleet({ "ctrl-1": { status: "idle", version: "6.5.0-32000" }, "ctrl-2": { status: "idle", version: "6.5.0-32000" }, "ctrl-3": { status: "idle", version: "6.5.0-32000" }, "gw-c2": { status: "installing", details: "" } })));
    expect(p.problems).toEqual([]);
    expect(p.stages.map((s) => s.kind)).toEqual(["resume", "batch", "batch"]);
    expect(stages(p)[0]).toEqual(["gw-c2"]);
    expect(stages(p).slice(1).flat()).toContain("gw-c1");
  });

  it("an installing Controller goes before the primary and before the next Controller", () => {
    const p = planUpgrade(input(fleet({ "ctrl-1": { status: "idle", version: "6.5.0-32000" }, "ctrl-3": { status: "installing", details: "" } })));
    expect(stages(p).slice(0, 2)).toEqual([["ctrl-3"], ["ctrl-2"]]);
    expect(p.stages[0]).toMatchObject({ kind: "resume", label: "Already installing (started earlier)" });
    expect(p.maintenance.map((c) => c.name)).toEqual(["ctrl-2"]);

    const q = planUpgrade(input(fleet({ "ctrl-2": { status: "installing", details: "" } })));
    expect(stages(q).slice(0, 3)).toEqual([["ctrl-2"], ["ctrl-1"], ["ctrl-3"]]);
    expect(q.stages.slice(0, 2).map((s) => s.kind)).toEqual(["resume", "primary"]);
  });

  it("says when they were already down together beyond max-unavailable", () => {
    const p = planUpgrade(input(finished({ "gw-c1": { status: "installing", version: "6.4.2-31000" }, "gw-c2": { status: "installing", version: "6.4.2-31000" } })));
    expect(stages(p)).toEqual([["gw-c1", "gw-c2"]]);
    expect(p.warnings).toEqual([expect.stringMatching(/^gw-c1, gw-c2 were already installing together, more than max-unavailable allows for the gateways of site Site C/)]);
  });
});

describe("planUpgrade: maintenance mode", () => {
  it("a Controller upgraded already but left in maintenance mode is planned to leave it", () => {
    const p = planUpgrade(input(finished({ "ctrl-2": { maintenance: true } })));
    expect(p.problems).toEqual([]);
    expect(p.stages).toEqual([expect.objectContaining({ kind: "controller", appliances: [expect.objectContaining({ name: "ctrl-2", action: "maintenance-off", inMaintenance: true })] })]);
    expect(p.maintenance).toEqual([]);
    expect(p.skipped.find((s) => s.name === "ctrl-3")?.alreadyUpgraded).toBe(true);
  });

  it("a Controller still in maintenance from an earlier run is not put into it again, and is tracked as in it", () => {
    const p = planUpgrade(input(fleet({ "ctrl-1": { status: "idle", version: "6.5.0-32000" }, "ctrl-3": { maintenance: true } })));
    expect(p.maintenance.map((c) => c.name)).toEqual(["ctrl-2"]);
    expect(p.stages.flatMap((s) => s.appliances).find((a) => a.name === "ctrl-3")).toMatchObject({ action: "complete", inMaintenance: true });
  });

  it("the primary in maintenance mode stops the run (it refuses every change); a not-prepared Controller in it is a warning", () => {
    const p = planUpgrade(input(fleet({ "ctrl-1": { maintenance: true } })));
    expect(p.problems).toContain("the primary Controller ctrl-1 is in maintenance mode: it refuses every change sent through it. Turn its maintenance mode off first");
    const q = planUpgrade(input(fleet({ "ctrl-3": { status: "idle", maintenance: true } })));
    expect(q.warnings).toContain("Controller ctrl-3 is in maintenance mode but not prepared: turn maintenance mode off by hand if nothing else needs it");
  });
});

describe("planUpgrade: nothing prepared", () => {
  it("after a finished run, an appliance never prepared is a warning, not a problem: nothing to do", () => {
    const p = planUpgrade(input(finished({ "gw-c2": { version: "6.4.2-31000", volume: 1 } })));
    expect(p.problems).toEqual([]);
    expect(p.stages).toEqual([]);
    expect(p.skipped.find((s) => s.name === "gw-c1")).toMatchObject({ reason: "already on the version the primary Controller runs, 6.5.0-32000", alreadyUpgraded: true });
    expect(p.skipped.find((s) => s.name === "gw-c2")).toMatchObject({ reason: "not prepared (upgrade status idle, runs 6.4.2-31000; the primary Controller runs 6.5.0-32000)" });
    expect(p.warnings).toEqual([expect.stringMatching(/^Nothing is prepared, and gw-c2 \(6\.4\.2-31000\) run\(s\) an older version than the primary Controller \(6\.5\.0-32000\)/)]);
  });

  it("an appliance already installing is still waited for, with the target unknown", () => {
    const p = planUpgrade(input(finished({ "gw-c2": { status: "installing", version: "6.4.2-31000" } })));
    expect(p.problems).toEqual([]);
    expect(p.stages[0]!.appliances[0]).toMatchObject({ name: "gw-c2", action: "wait-install", targetText: "(as prepared)" });
  });
});

describe("planUpgrade: verification must be possible", () => {
  it("an appliance whose status gives no volumeNumber is a pre-flight problem (its partition switch could not be checked)", () => {
    const p = planUpgrade(input(fleet({ "gw-b2": { noVolume: true } })));
    expect(p.problems).toEqual([
      "gw-b2: the status list gives no volumeNumber (the partition in use), so its upgrade could not be verified; leave it out with the appliances input",
    ]);
  });
});

describe("packBatches", () => {
  it("uses as few batches as the tightest group needs and levels the free items", () => {
    const items = [
      { item: "a1", key: "a1", groups: ["A"] },
      { item: "a2", key: "a2", groups: ["A"] },
      { item: "a3", key: "a3", groups: ["A"] },
      { item: "b1", key: "b1", groups: ["B"] },
      { item: "f1", key: "f1", groups: [] },
      { item: "f2", key: "f2", groups: [] },
    ];
    const caps = new Map([
      ["A", 1],
      ["B", 1],
    ]);
    expect(packBatches(items, caps)).toEqual([["a1", "b1"], ["a2", "f1"], ["a3", "f2"]]);
    expect(packBatches(items, new Map([["A", 3]]))).toEqual([["a1", "a2", "a3", "b1", "f1", "f2"]]);
  });

  it("never puts more than the cap of a group in one batch, even for items in several groups", () => {
    const items = [
      { item: "x", key: "x", groups: ["A", "B"] },
      { item: "y", key: "y", groups: ["A"] },
      { item: "z", key: "z", groups: ["B"] },
    ];
    const batches = packBatches(items, new Map([["A", 1], ["B", 1]]));
    for (const b of batches) {
      expect(b.filter((i) => i === "x" || i === "y").length).toBeLessThanOrEqual(1);
      expect(b.filter((i) => i === "x" || i === "z").length).toBeLessThanOrEqual(1);
    }
    expect(batches.flat().sort()).toEqual(["x", "y", "z"]);
  });

  it("returns no batch for no items", () => {
    expect(packBatches([], new Map())).toEqual([]);
  });
});
