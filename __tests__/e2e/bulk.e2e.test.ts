import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runAction, visibleText } from "../helpers/run-action.ts";
import { type FakeStateBacked, SCOPES_ALL, type VersionRec, startFakeStateBacked } from "../fakes/statebacked/server.ts";

const KEY = { keyId: "sbk_bulk_e2e", secret: "sbsec_bulk_e2e_secret", orgId: "org_e", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let v1: VersionRec;
let v2: VersionRec;
const names = (n: number) => Array.from({ length: n }, (_, i) => `inst-${String(i).padStart(5, "0")}`);

beforeEach(async () => {
  fake = await startFakeStateBacked({ keys: [KEY], pageSize: 500 });
  fake.addMachine("app");
  v1 = fake.addVersion("app", "v1");
  v2 = fake.addVersion("app", "v2", { current: true });
  fake.addMigration("app", v1.id, v2.id);
});
afterEach(() => fake.close());

const auth = () => ({ "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "app" });

describe("dist/index.js: set-desired-version", () => {
  it("moves 2,000 instances through injected 503s, 429s with Retry-After and dropped connections", async () => {
    fake.addInstances("app", names(2000), v1.id);
    // 150 instances meet their own faults: two 503s, one 429 with Retry-After, or two drops.
    for (let i = 0; i < 50; i++) {
      const n = (k: number) => String(k).padStart(5, "0");
      fake.faults.push({ method: "PUT", path: new RegExp(`/i/inst-${n(i)}/v$`), times: 2, action: { status: 503 } });
      fake.faults.push({ method: "PUT", path: new RegExp(`/i/inst-${n(500 + i)}/v$`), action: { status: 429, retryAfter: "1" } });
      fake.faults.push({ method: "PUT", path: new RegExp(`/i/inst-${n(1000 + i)}/v$`), times: 2, action: { drop: true } });
    }
    const r = await runAction({ operation: "set-desired-version", ...auth(), "all-instances": "true", "to-version": "current" });
    expect(r.code, r.stdout.slice(-3000)).toBe(0);
    expect(r.outputs).toMatchObject({ "succeeded-count": "2000", "skipped-count": "0", "failed-count": "0", "failed-instances": "" });
    expect(fake.faults).toHaveLength(0);
    for (const i of fake.machine("app").instances.values()) expect(i.desiredVersionId).toBe(v2.id);
    const lines = readFileSync(r.outputs["report-file"]!, "utf8").trim().split("\n");
    expect(lines).toHaveLength(2000);
    expect(new Set(lines.map((l) => JSON.parse(l).instance)).size).toBe(2000);
    expect(r.outputs["report-file"]!.startsWith(r.tempDir)).toBe(true);
    expect(r.summary).toContain("Set desired version of `app`");
    expect(r.summary).toMatch(/^### ✅ 2,000 instances of `app` now desire \*\*v2\*\* \(`ver_[\w-]+`\) \(were on v1: 2,000\)\n/);
    expect(r.summary).not.toContain("```mermaid"); // one version before: the sentence says it all
    expect(r.summary).toContain("| Selected | Updated | Skipped | Failed |\n| --- | --- | --- | --- |\n| 2000 | 2000 | 0 | 0 |");
    expect(r.summary).toContain("**Requests**: 250 retried (50 rate limited)"); // 50 x 2 503s + 50 429s + 50 x 2 drops
    expect(visibleText(r)).not.toContain(KEY.secret);
  });

  it("a failing instance fails the step after all work, and lists it for a retry run", async () => {
    fake.addInstances("app", names(20), v1.id);
    fake.addInstances("app", ["newer"], v2.id);
    const v0 = fake.addVersion("app", "v0");
    const r = await runAction({ operation: "set-desired-version", ...auth(), instances: [...names(20), "newer", "missing"].join("\n"), "to-version": v0.id });
    expect(r.code).toBe(1);
    expect(r.outputs["failed-count"]).toBe("22");
    expect(r.summary).toContain("HTTP 400 no-migration-path");
    expect(r.stdout).toContain("::error::22 of 22 instances failed");
  });

  it("SIGINT mid-run: stops, writes outputs and summary within 2 seconds, lists what was not done", async () => {
    fake.addInstances("app", names(3000), v1.id);
    fake.faults.push({ method: "PUT", times: 100_000, action: { delayMs: 50 } });
    const r = await runAction(
      { operation: "set-desired-version", ...auth(), instances: names(3000).join(","), "to-version": v2.id, concurrency: "8" },
      { signal: { name: "SIGINT", when: () => fake.count("PUT", /./) >= 40 } },
    );
    expect(r.code).toBe(1);
    expect(r.exitAfterSignalMs).toBeLessThan(2000);
    const failed = r.outputs["failed-instances"]!.split("\n").filter(Boolean);
    expect(Number(r.outputs["succeeded-count"]) + failed.length).toBe(3000);
    expect(failed.length).toBeGreaterThan(2500);
    expect(r.summary).toContain("not done: the run was cancelled");
    expect(r.stdout).toMatch(/Cancelled/);
  });
});

describe("dist/index.js: delete-instances", () => {
  it("deletes exactly the named instances, skips one already gone, and lists them", async () => {
    fake.addInstances("app", ["keep-1", "del-1", "del-2", "keep-2"], v1.id);
    const r = await runAction({ operation: "delete-instances", ...auth(), instances: "del-1\ndel-2\ngone-1", "danger-data-will-be-deleted-forever": "true" });
    expect(r.code, r.stdout).toBe(0);
    expect([...fake.machine("app").instances.keys()].sort()).toEqual(["keep-1", "keep-2"]);
    expect(r.outputs).toMatchObject({ "succeeded-count": "2", "skipped-count": "1", "failed-count": "0" });
    expect(r.summary).toMatch(/^### ✅ 2 instances of `app` deleted; 1 skipped\n/);
    expect(r.summary).toContain("**Deleted: 2**");
    expect(r.summary).toContain("`del-1`");
    expect(r.summary).toContain("already gone (404)");
  });

  it("without the danger input nothing is sent and the message says what would be lost", async () => {
    fake.addInstances("app", ["a"], v1.id);
    const r = await runAction({ operation: "delete-instances", ...auth(), instances: "a" });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Input 'danger-data-will-be-deleted-forever': must be 'true'.*destroys its current state/);
    expect(fake.requests).toHaveLength(0);
    expect(fake.machine("app").instances.has("a")).toBe(true);
  });

  it("refuses all-instances, and a dry run changes nothing", async () => {
    fake.addInstances("app", ["a", "b"], v1.id);
    const all = await runAction({ operation: "delete-instances", ...auth(), "all-instances": "true", "danger-data-will-be-deleted-forever": "true" });
    expect(all.code).toBe(1);
    expect(all.stdout).toContain("Input 'all-instances': is refused for delete-instances");
    const dry = await runAction({ operation: "delete-instances", ...auth(), instances: "a,b", "danger-data-will-be-deleted-forever": "true", "dry-run": "true" });
    expect(dry.code).toBe(0);
    expect(dry.summary).toContain("Would be deleted: 2");
    expect(fake.machine("app").instances.size).toBe(2);
    expect(fake.requests.filter((x) => x.method === "DELETE")).toHaveLength(0);
  });
});
