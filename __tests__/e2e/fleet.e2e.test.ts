import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runAction } from "../helpers/run-action.ts";
import { type FakeStateBacked, SCOPES_ALL, type VersionRec, startFakeStateBacked } from "../fakes/statebacked/server.ts";

/** The migration-path probe, an index query and fleet-status, run as the runner runs dist/index.js. */
const KEY = { keyId: "sbk_fleet_e2e", secret: "sbsec_fleet_e2e_secret", orgId: "org_f", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let a: VersionRec;
let b: VersionRec;
let target: VersionRec;
const names = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, "0")}`);

beforeEach(async () => {
  fake = await startFakeStateBacked({ keys: [KEY], pageSize: 50 });
  fake.addMachine("app", ["plan"]);
  a = fake.addVersion("app", "v1.0.0");
  b = fake.addVersion("app", "v1.1.0");
  target = fake.addVersion("app", "v1.2.0", { current: true });
  fake.addMigration("app", a.id, target.id);
  fake.addInstances("app", names(300, "on-a"), a.id);
  fake.addInstances("app", names(200, "on-b"), b.id);
});
afterEach(() => fake.close());

const auth = () => ({ "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "app" });

describe("dist/index.js: set-desired-version knows the fleet", () => {
  it("the probe: one PUT for the version without a path, its other instances failed unsent, the step's error names the migration to publish", async () => {
    const r = await runAction({ operation: "set-desired-version", ...auth(), "all-instances": "true", "to-version": "current", concurrency: "16" });
    expect(r.code).toBe(1);
    expect(r.outputs).toMatchObject({ "succeeded-count": "300", "failed-count": "200" });
    expect(fake.count("PUT", /\/i\/on-b-\d+\/v$/)).toBe(1);
    expect(fake.count("PUT", /\/i\/on-a-\d+\/v$/)).toBe(300);
    expect(r.stdout).toContain(`::error::No migration path to v1.2.0 (${target.id}). 200 instances on v1.1.0 (${b.id}): publish a migration with operation: publish-migration, from-version: ${b.id}, to-version: ${target.id}`);
    expect(r.summary).toContain("#### No migration path to `v1.2.0`");
    expect(r.summary).toContain("#### Versions before the run");
    expect(r.summary).toContain("Instances move to the target at their next event");
    expect(r.outputs["failed-instances"]!.split("\n").sort()).toEqual(names(200, "on-b"));
  });

  it("an index query selects what to update", async () => {
    fake.setIndexValues("app", "plan", Object.fromEntries(names(300, "on-a").map((n, i) => [n, i % 3 === 0 ? "enterprise" : "free"])));
    const r = await runAction({ operation: "set-desired-version", ...auth(), "instances-query": "plan eq enterprise", "to-version": target.id });
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    expect(r.outputs["succeeded-count"]).toBe("100");
    expect(fake.count("GET", /\/indexes\/plan\/query$/)).toBe(2);
    const moved = [...fake.machine("app").instances.values()].filter((i) => i.desiredVersionId === target.id).map((i) => i.slug);
    expect(moved.sort()).toEqual(names(300, "on-a").filter((_, i) => i % 3 === 0));
  });
});

describe("dist/index.js: fleet-status", () => {
  it("outputs, report file and a summary with the Mermaid pie; reads only", async () => {
    const r = await runAction({ operation: "fleet-status", ...auth(), "to-version": "label:v1.0.0" });
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    expect(r.outputs).toMatchObject({ "instance-count": "500", "on-target-count": "300", "not-on-target-count": "200", "paused-count": "0" });
    expect(JSON.parse(r.outputs.versions!)).toEqual([
      { id: a.id, label: "v1.0.0", count: 300 },
      { id: b.id, label: "v1.1.0", count: 200 },
    ]);
    expect(readFileSync(r.outputs["report-file"]!, "utf8").trim().split("\n")).toHaveLength(500);
    expect(r.summary).toContain(`**300 of 500 instances run v1.0.0 (${a.id}).**`);
    expect(r.summary).toContain('```mermaid\npie showData title Instances by version\n    "v1.0.0" : 300\n    "v1.1.0" : 200\n```');
    expect(fake.requests.every((x) => x.method === "GET")).toBe(true);
  });
});
