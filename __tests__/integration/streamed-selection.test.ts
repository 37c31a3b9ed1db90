import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildConfig, type SetDesiredVersionConfig } from "../../src/config/config.ts";
import { setDesiredVersion } from "../../src/operations/set-desired-version.ts";
import { makeContext as makeContextWith } from "../helpers/context.ts";
import { InstantClock } from "../helpers/instant-clock.ts";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";

/** set-desired-version reads the selection as it sends, and probes each version's migration path first. */
const KEY = { keyId: "sbk_stream", secret: "sbsec_stream", orgId: "org_s", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let clock: InstantClock;
const makeContext = () => makeContextWith({ clock });
const names = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

beforeEach(async () => {
  clock = new InstantClock();
  fake = await startFakeStateBacked({ keys: [KEY], pageSize: 10, now: () => clock.now() });
  fake.addMachine("app");
});
afterEach(() => fake.close());

async function config(inputs: Record<string, string>): Promise<SetDesiredVersionConfig> {
  const all: Record<string, string> = { operation: "set-desired-version", "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "app", ...inputs };
  return (await buildConfig((n) => all[n] ?? "", { sha: "s", repository: "r", workspace: tmpdir() })) as SetDesiredVersionConfig;
}

function reportLines(path: string): { instance: string; outcome: string; reason?: string; attempts?: number }[] {
  return readFileSync(path, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

describe("streamed selection", () => {
  it("sends the first PUT before the listing ends (seen at the fake)", async () => {
    const v1 = fake.addVersion("app", "v1");
    const v2 = fake.addVersion("app", "v2");
    fake.addMigration("app", v1.id, v2.id);
    fake.addInstances("app", names(100, "u"), v1.id);
    // Ten pages, each page after the first held 20 ms: the listing takes at least 180 ms, the PUTs none.
    fake.faults.push({ method: "GET", path: /^\/machines\/app\/i$/, times: 10, action: { delayMs: 20 } });
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": v2.id, "all-instances": "true", concurrency: "4" }), t.ctx);
    expect(t.report.outputs.get("succeeded-count")).toBe("100");
    const order = fake.requests.filter((r) => r.path.startsWith("/machines/app/i")).map((r) => (r.method === "GET" ? "list" : "put"));
    expect(order.filter((o) => o === "list")).toHaveLength(10);
    const lastPage = order.lastIndexOf("list");
    const firstPut = order.indexOf("put");
    expect(firstPut).toBeLessThan(lastPage);
    // Many PUTs were answered while pages were still being read.
    expect(order.slice(0, lastPage).filter((o) => o === "put").length).toBeGreaterThanOrEqual(50);
  });

  it("asks for the first listing page while the machine is checked, and sends no PUT before the check answers", async () => {
    const v1 = fake.addVersion("app", "v1");
    const v2 = fake.addVersion("app", "v2");
    fake.addMigration("app", v1.id, v2.id);
    fake.addInstances("app", names(30, "e"), v1.id);
    let pageServed!: () => void;
    const served = new Promise<void>((r) => (pageServed = r));
    fake.opts.beforeInstancesPage = () => pageServed();
    // The check is held until a listing page has been served: code that lists only after the
    // check answered meets a 3 s hold and fails the order below instead of hanging.
    const bound = new Promise((r) => setTimeout(r, 3000).unref());
    fake.faults.push({ method: "GET", path: /^\/machines\/app$/, times: 1, action: { until: Promise.race([served, bound]) } });
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": v2.id, "all-instances": "true", concurrency: "4" }), t.ctx);
    expect(t.report.outputs.get("succeeded-count")).toBe("30");
    // In the order answered: the first page before the held check, every PUT after it.
    const order = fake.requests.filter((r) => r.path.startsWith("/machines/app")).map((r) => (r.method === "PUT" ? "put" : r.path === "/machines/app" ? "check" : "list"));
    expect(order[0]).toBe("list");
    expect(order.indexOf("put")).toBeGreaterThan(order.indexOf("check"));
  });

  it("a failed machine check fails the step once: no PUT, nothing counted, although the first page was asked for", async () => {
    const v2 = fake.addVersion("app", "v2");
    // Seventy instances on seven pages, all on the target already: read, each would count as skipped.
    fake.addInstances("app", names(70, "t"), v2.id);
    fake.faults.push({ method: "GET", path: /^\/machines\/app$/, times: 1, action: { status: 404, body: { error: "machine not found" } } });
    const t = makeContext();
    await expect(setDesiredVersion(await config({ "to-version": v2.id, "all-instances": "true" }), t.ctx)).rejects.toThrow(/404/);
    expect(fake.requests.filter((r) => r.method === "PUT")).toHaveLength(0);
    for (const name of ["succeeded-count", "skipped-count", "failed-count"]) expect(t.report.outputs.get(name)).toBe("0");
    expect(t.report.outputs.get("failed-instances")).toBe("");
    expect(fake.requests.filter((r) => r.method === "GET" && r.path === "/machines/app/i").length).toBeLessThanOrEqual(1);
  });

  it("a name the listing shows on two pages (instances created meanwhile) is sent and counted once", async () => {
    // Pages of 2 read by offset: before page 3, three instances are created ahead of the rest, so
    // page 3 shows r-1 (seen on page 1) and r-2 (seen on page 2) again.
    const small = await startFakeStateBacked({ keys: [KEY], pageSize: 2, now: () => clock.now() });
    try {
      small.addMachine("app");
      const w1 = small.addVersion("app", "v1");
      const w2 = small.addVersion("app", "v2");
      small.addMigration("app", w1.id, w2.id);
      small.addInstances("app", names(6, "r"), w1.id);
      let page = 0;
      small.opts.beforeInstancesPage = (m) => {
        if (++page !== 3) return;
        const old = [...m.instances.values()];
        m.instances.clear();
        for (const slug of ["new-0", "new-1", "new-2"]) m.instances.set(slug, { slug, createdAt: small.stamp(), status: "running", versionId: w2.id });
        for (const i of old) m.instances.set(i.slug, i);
      };
      const t = makeContext();
      const all: Record<string, string> = { operation: "set-desired-version", "api-url": small.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "app", "to-version": w2.id, "all-instances": "true" };
      const cfg = (await buildConfig((n) => all[n] ?? "", { sha: "s", repository: "r", workspace: tmpdir() })) as SetDesiredVersionConfig;
      await setDesiredVersion(cfg, t.ctx);
      const lists = small.requests.filter((r) => r.method === "GET" && r.path === "/machines/app/i");
      expect(lists).toHaveLength(5);
      const puts = small.requests.filter((r) => r.method === "PUT" && r.path.startsWith("/machines/app/i/")).map((r) => r.path);
      expect(puts.sort()).toEqual(names(6, "r").map((n) => `/machines/app/i/${n}/v`).sort());
      expect(t.report.outputs.get("succeeded-count")).toBe("6");
      expect(t.report.outputs.get("skipped-count")).toBe("0");
      expect(t.report.outputs.get("failed-count")).toBe("0");
      const lines = reportLines(t.report.outputs.get("report-file")!);
      expect(lines.map((l) => l.instance).sort()).toEqual(names(6, "r").sort());
    } finally {
      await small.close();
    }
  });

  it("shards still partition the whole listing exactly", async () => {
    const v1 = fake.addVersion("app", "v1");
    const v2 = fake.addVersion("app", "v2");
    fake.addMigration("app", v1.id, v2.id);
    fake.addInstances("app", names(95, "s"), v1.id);
    const updated: string[] = [];
    for (const shard of ["1/3", "2/3", "3/3"]) {
      const t = makeContext();
      await setDesiredVersion(await config({ "to-version": v2.id, "all-instances": "true", shard }), t.ctx);
      const lines = reportLines(t.report.outputs.get("report-file")!);
      expect(lines.every((l) => l.outcome === "updated")).toBe(true);
      updated.push(...lines.map((l) => l.instance));
    }
    expect(updated).toHaveLength(95);
    expect(new Set(updated)).toEqual(new Set(names(95, "s")));
  });
});

describe("the migration-path probe", () => {
  it("sends one PUT for the version without a path, fails its other instances without a request, updates the rest", async () => {
    const a = fake.addVersion("app", "a");
    const b = fake.addVersion("app", "b");
    const c = fake.addVersion("app", "c");
    const target = fake.addVersion("app", "t", { current: true });
    fake.addMigration("app", a.id, target.id);
    fake.addMigration("app", b.id, target.id);
    fake.addInstances("app", names(30, "a"), a.id);
    fake.addInstances("app", names(30, "c"), c.id);
    fake.addInstances("app", names(30, "b"), b.id);
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": "label:t", "all-instances": "true", concurrency: "8" }), t.ctx);
    const out = Object.fromEntries(t.report.outputs);
    expect(out["succeeded-count"]).toBe("60");
    expect(out["failed-count"]).toBe("30");
    expect(fake.count("PUT", /\/i\/c-\d+\/v$/)).toBe(1);
    expect(fake.count("PUT", /\/i\/[ab]-\d+\/v$/)).toBe(60);
    for (const i of fake.machine("app").instances.values()) expect(i.desiredVersionId).toBe(i.versionId === c.id ? undefined : target.id);
    const reason = `no migration path from c (${c.id}) to t (${target.id})`;
    const failed = reportLines(out["report-file"]!).filter((l) => l.outcome === "failed");
    expect(failed).toHaveLength(30);
    expect(failed.every((l) => l.reason === reason)).toBe(true);
    // Only the probe was an attempt; the others were decided without one.
    expect(failed.filter((l) => l.attempts === 1)).toHaveLength(1);
    expect(out["failed-instances"]!.split("\n").sort()).toEqual(names(30, "c").sort());
    // One row for the version, with its count and the fix; no failure group per instance.
    const summary = t.report.summary.join("\n");
    expect(summary).toContain("#### No migration path to `t`");
    expect(summary).toContain(`| \`c\` (\`${c.id}\`) | 30 | publish-migration with from-version: ${c.id}, to-version: ${target.id} |`);
    expect(summary).not.toContain("Failures by reason");
    expect(t.report.failure).toContain(`publish-migration, from-version: ${c.id}, to-version: ${target.id}`);
    expect(t.report.failure).toContain("30 instances on c");
  });

  it("the probe's retries find a slot while the instances of its version wait (no slot held by a waiter)", async () => {
    const v1 = fake.addVersion("app", "v1");
    const target = fake.addVersion("app", "t");
    fake.addMigration("app", v1.id, target.id);
    fake.addInstances("app", names(20, "w"), v1.id);
    // The first PUT (the probe) meets three 503s; concurrency 2 would be all taken by waiters if they held slots.
    fake.faults.push({ method: "PUT", times: 3, action: { status: 503 } });
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": target.id, "all-instances": "true", concurrency: "2" }), t.ctx);
    expect(t.report.outputs.get("succeeded-count")).toBe("20");
    expect(fake.count("PUT", /./)).toBe(23);
    // The probe alone until it was answered: its three failed tries came first.
    expect(fake.requests.filter((r) => r.method === "PUT").slice(0, 4).map((r) => r.status)).toEqual([503, 503, 503, 201]);
  });

  it("with names (versions unknown): stops after 5 no-migration-path answers and none updated; the rest end failed, not sent", async () => {
    const v0 = fake.addVersion("app", "v0");
    const target = fake.addVersion("app", "t");
    fake.addInstances("app", names(40, "n"), v0.id);
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": target.id, instances: names(40, "n").join("\n"), concurrency: "1" }), t.ctx);
    const out = Object.fromEntries(t.report.outputs);
    expect(fake.count("PUT", /./)).toBe(5);
    expect(out["failed-count"]).toBe("40");
    expect(out["failed-instances"]!.split("\n")).toHaveLength(40);
    const lines = reportLines(out["report-file"]!);
    expect(lines.filter((l) => l.reason?.startsWith("not sent: 5 instances answered no-migration-path"))).toHaveLength(35);
    expect(t.report.failure).toMatch(/^5 instances answered no-migration-path and none was updated, so 35 were not sent: publish a migration/);
  });

  it("with names: an update before the fifth no-path answer keeps the run going", async () => {
    const v0 = fake.addVersion("app", "v0");
    const v1 = fake.addVersion("app", "v1");
    const target = fake.addVersion("app", "t");
    fake.addMigration("app", v1.id, target.id);
    fake.addInstances("app", ["ok-0"], v1.id);
    fake.addInstances("app", names(20, "n"), v0.id);
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": target.id, instances: ["ok-0", ...names(20, "n")].join("\n"), concurrency: "1" }), t.ctx);
    expect(fake.count("PUT", /./)).toBe(21);
    expect(t.report.outputs.get("succeeded-count")).toBe("1");
    expect(t.report.failure).toMatch(/^20 of 21 instances failed/);
  });
});
