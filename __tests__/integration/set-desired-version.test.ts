import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildConfig, type SetDesiredVersionConfig } from "../../src/config/config.ts";
import { setDesiredVersion } from "../../src/operations/set-desired-version.ts";
import { inShard } from "../../src/bulk/selection.ts";
import { makeContext as makeContextWith } from "../helpers/context.ts";
import { InstantClock } from "../helpers/instant-clock.ts";
import { type FakeStateBacked, SCOPES_ALL, type VersionRec, startFakeStateBacked } from "../fakes/statebacked/server.ts";

const KEY = { keyId: "sbk_bulk", secret: "sbsec_bulk", orgId: "org_b", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let v1: VersionRec;
let v2: VersionRec;
let v3: VersionRec;
// The fake and the action share one virtual timeline, so waits skipped by the clock do not
// make tokens look issued in the future.
let clock: InstantClock;
const makeContext = () => makeContextWith({ clock });

const names = (n: number, prefix = "user") => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

beforeEach(async () => {
  clock = new InstantClock();
  fake = await startFakeStateBacked({ keys: [KEY], pageSize: 25, now: () => clock.now() });
  fake.addMachine("app");
  v1 = fake.addVersion("app", "v1");
  v2 = fake.addVersion("app", "v2");
  v3 = fake.addVersion("app", "v3", { current: true });
  fake.addMigration("app", v1.id, v2.id);
  fake.addMigration("app", v2.id, v3.id);
});
afterEach(() => fake.close());

async function config(inputs: Record<string, string>): Promise<SetDesiredVersionConfig> {
  const all: Record<string, string> = { operation: "set-desired-version", "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "app", ...inputs };
  return (await buildConfig((n) => all[n] ?? "", { sha: "s", repository: "r", workspace: tmpdir() })) as SetDesiredVersionConfig;
}

function reportLines(path: string): { instance: string; outcome: string; reason?: string }[] {
  return readFileSync(path, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

describe("set-desired-version", () => {
  it("updates a named list, reports bad names as failed without sending them", async () => {
    fake.addInstances("app", names(50), v1.id);
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": "current", instances: [...names(50), "bad name", "user-0"].join(",") }), t.ctx);
    const out = Object.fromEntries(t.report.outputs);
    expect(out).toMatchObject({ "succeeded-count": "50", "skipped-count": "0", "failed-count": "1", "failed-instances": "bad name" });
    for (const i of fake.machine("app").instances.values()) expect(i.desiredVersionId).toBe(v3.id);
    expect(fake.count("PUT", /\/i\/.*\/v$/)).toBe(50);
    const lines = reportLines(out["report-file"]!);
    expect(lines).toHaveLength(51);
    expect(lines.find((l) => l.instance === "bad name")).toMatchObject({ outcome: "failed", reason: expect.stringContaining("invalid name") });
    expect(t.report.failure).toMatch(/1 of 51 instances failed/);
    expect(readFileSync(out["failed-instances-file"]!, "utf8")).toBe("bad name\n");
  });

  it("all-instances pages the listing; from-version filters; instances on the target are skipped, not sent", async () => {
    fake.addInstances("app", names(30, "a"), v1.id);
    fake.addInstances("app", names(20, "b"), v2.id);
    fake.addInstances("app", names(10, "c"), v3.id);
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": "label:v3", "all-instances": "true", "from-version": "label:v1" }), t.ctx);
    expect(Object.fromEntries(t.report.outputs)).toMatchObject({ "succeeded-count": "30", "skipped-count": "30", "failed-count": "0" });
    expect(fake.count("PUT", /\/i\//)).toBe(30);
    expect(fake.count("GET", /\/i$/)).toBe(3); // 60 instances, pages of 25
    const summary = t.report.summary.join("\n");
    expect(summary).toContain("already on the target version");
    expect(summary).toContain("not on from-version");
    expect(t.report.failure).toBeUndefined();
  });

  it("shards: the union of all shards is the selection, with no overlap", async () => {
    const all = names(300);
    fake.addInstances("app", all, v1.id);
    const seen = new Map<string, number>();
    for (let s = 1; s <= 4; s++) {
      const t = makeContext();
      await setDesiredVersion(await config({ "to-version": v2.id, instances: all.join("\n"), shard: `${s}/4` }), t.ctx);
      const lines = reportLines(t.report.outputs.get("report-file")!);
      for (const l of lines) seen.set(l.instance, (seen.get(l.instance) ?? 0) + 1);
      expect(lines.every((l) => inShard(l.instance, { index: s, count: 4 }))).toBe(true);
    }
    expect(seen.size).toBe(300);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(fake.count("PUT", /\/i\//)).toBe(300);
  });

  it("no-migration-path, 403 and 404 are final, not retried", async () => {
    fake.addInstances("app", ["old-1", "old-2"], v3.id);
    fake.addInstances("app", ["ok-1"], v1.id);
    fake.faults.push({ method: "PUT", path: /\/i\/forbidden\/v$/, times: 10, action: { status: 403, body: { error: "rejected", code: "rejected-by-machine-authorizer" } } });
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": v2.id, instances: "old-1,old-2,ok-1,ghost,forbidden" }), t.ctx);
    const out = Object.fromEntries(t.report.outputs);
    expect(out).toMatchObject({ "succeeded-count": "1", "failed-count": "4" });
    expect(out["failed-instances"]!.split("\n").sort()).toEqual(["forbidden", "ghost", "old-1", "old-2"]);
    expect(fake.count("PUT", /\/i\/old-1\/v$/)).toBe(1);
    expect(fake.count("PUT", /\/i\/ghost\/v$/)).toBe(1);
    expect(fake.count("PUT", /\/i\/forbidden\/v$/)).toBe(1);
    const summary = t.report.summary.join("\n");
    expect(summary).toContain("**2 × HTTP 400 no-migration-path**: publish a migration chain");
    expect(summary).toContain("**1 × HTTP 404**");
    expect(t.report.verdict).toMatchObject({ level: "fail", sentence: expect.stringMatching(/^4 of 5 instances of `app` could not move to `ver_/) });
  });

  it("every instance ends updated through a fault mix of 503s, 429 with Retry-After and dropped connections", async () => {
    const all = names(400);
    fake.addInstances("app", all, v1.id);
    // Each of 60 instances meets its own faults: two 503s, one 429 with Retry-After, or two drops.
    for (let i = 0; i < 20; i++) {
      fake.faults.push({ method: "PUT", path: new RegExp(`/i/user-${i}/v$`), times: 2, action: { status: 503 } });
      fake.faults.push({ method: "PUT", path: new RegExp(`/i/user-${100 + i}/v$`), action: { status: 429, retryAfter: "1" } });
      fake.faults.push({ method: "PUT", path: new RegExp(`/i/user-${200 + i}/v$`), times: 2, action: { drop: true } });
    }
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": v2.id, instances: all.join("\n"), concurrency: "16" }), t.ctx);
    const lines = readFileSync(t.report.outputs.get("report-file")!, "utf8");
    expect(Object.fromEntries(t.report.outputs), lines.split("\n").filter((l) => !l.includes("updated")).slice(0, 5).join("\n")).toMatchObject({ "succeeded-count": "400", "failed-count": "0", "failed-instances": "" });
    expect(fake.faults).toHaveLength(0); // every injected fault was hit
    for (const i of fake.machine("app").instances.values()) expect(i.desiredVersionId).toBe(v2.id);
  });

  it("stops at once, instead of failing each instance, when the key lacks the scope", async () => {
    fake.keys.set(KEY.keyId, { ...KEY, scopes: ["machines.read", "machine-versions.read"] });
    fake.addInstances("app", names(200), v1.id);
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": v2.id, instances: names(200).join(","), concurrency: "4" }), t.ctx);
    expect(fake.count("PUT", /\/i\//)).toBeLessThan(20);
    expect(t.report.failure).toMatch(/missing-scope.*'instances\.write' scope/);
    expect(Number(t.report.outputs.get("failed-count"))).toBe(200);
    const summary = t.report.summary.join("\n");
    expect(summary).toMatch(/\*\*\d+ × not sent: the run stopped on a refusal that applies to every instance\*\*/);
    expect(t.report.verdict).toMatchObject({ level: "fail", sentence: expect.stringMatching(/^Stopped: the key lacks `instances\.write`; \d+ of 200 instances of `app` done$/) });
    expect(summary).not.toContain("cancelled");
  });

  it("stops at once when the API answers a bad token with 403 and no code", async () => {
    await fake.close();
    fake = await startFakeStateBacked({ keys: [KEY], badTokenStatus: 403, now: () => clock.now() });
    fake.addMachine("app");
    const v = fake.addVersion("app", "v1");
    fake.addInstances("app", names(100), v.id);
    fake.keys.set(KEY.keyId, { ...KEY, secret: "sbsec_rotated" }); // the workflow's secret is stale
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": v.id, instances: names(100).join(",") }), t.ctx).catch((e: Error) => t.report.fail(e.message));
    expect(t.report.failure).toMatch(/HTTP 403.*check 'api-key-id' and 'api-key-secret'/);
    expect(fake.count("PUT", /\/i\//)).toBeLessThan(40);
  });

  it("stops taking work on cancellation and lists instances not done", async () => {
    fake.addInstances("app", names(300), v1.id);
    const t = makeContext();
    fake.faults.push({ method: "PUT", times: 1000, action: { delayMs: 5 } });
    const cfg = await config({ "to-version": v2.id, instances: names(300).join(","), concurrency: "4" });
    const run = setDesiredVersion(cfg, t.ctx);
    // Cancel once 20 PUTs have reached the fake (watched, not waited for).
    const timer = setInterval(() => {
      if (fake.count("PUT", /\/i\//) >= 20) t.controller.abort();
    }, 1);
    await run;
    clearInterval(timer);
    const out = Object.fromEntries(t.report.outputs);
    const failed = out["failed-instances"]!.split("\n").filter(Boolean);
    expect(Number(out["succeeded-count"]) + failed.length).toBe(300);
    expect(failed.length).toBeGreaterThan(200);
    expect(t.report.failure).toMatch(/Cancelled/);
    expect(reportLines(out["report-file"]!).filter((l) => l.outcome === "not-done").length).toBeGreaterThan(200);
  });

  it("leaves count outputs a later step can test when it fails before the bulk phase", async () => {
    const t = makeContext();
    const run = setDesiredVersion(await config({ "to-version": "label:nope", instances: "a,b" }), t.ctx);
    await expect(run).rejects.toThrow(/no version labelled 'nope'/);
    expect(Object.fromEntries(t.report.outputs)).toEqual({ "succeeded-count": "0", "planned-count": "0", "skipped-count": "0", "failed-count": "0", "failed-instances": "", "waves-done": "0", "rolled-back-count": "0" });
    expect(fake.count("PUT", /./)).toBe(0);
  });

  it("dry run resolves and lists, sends no PUT", async () => {
    fake.addInstances("app", names(10), v1.id);
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": "current", instances: names(10).join(","), "dry-run": "true" }), t.ctx);
    expect(fake.count("PUT", /./)).toBe(0);
    expect(t.report.summary.join()).toContain("Would be updated: 10");
    // Counted as planned, not skipped; no rate for a run that sent nothing.
    expect(Object.fromEntries(t.report.outputs)).toMatchObject({ "planned-count": "10", "skipped-count": "0", "succeeded-count": "0" });
    expect(t.report.summary.join()).not.toMatch(/instances\/s/);
    expect(t.report.verdict).toMatchObject({ level: "ok", sentence: expect.stringMatching(/^Dry run: 10 instances of `app` would move to \*\*v\d\*\* \(`ver_[\w-]+`\); nothing was changed$/) });
    expect(t.report.failure).toBeUndefined();
  });
});

describe("instances-file", () => {
  it("reads names from a file, ignoring comments and blank lines", async () => {
    fake.addInstances("app", ["x1", "x2"], v1.id);
    const dir = mkdtempSync(join(tmpdir(), "names-"));
    const f = join(dir, "names.txt");
    writeFileSync(f, "# the fleet\nx1\n\n  # more\nx2\n");
    const t = makeContext();
    await setDesiredVersion(await config({ "to-version": v2.id, "instances-file": f }), t.ctx);
    expect(t.report.outputs.get("succeeded-count")).toBe("2");
  });
});
