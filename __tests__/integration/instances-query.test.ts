import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { request } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Config, buildConfig } from "../../src/config/config.ts";
import { InputError } from "../../src/config/inputs.ts";
import { deleteInstances } from "../../src/operations/delete-instances.ts";
import { fleetStatus } from "../../src/operations/fleet-status.ts";
import { setDesiredVersion } from "../../src/operations/set-desired-version.ts";
import { signApiKeyToken } from "../../src/statebacked/token.ts";
import { makeContext as makeContextWith } from "../helpers/context.ts";
import { InstantClock } from "../helpers/instant-clock.ts";
import { type FakeStateBacked, SCOPES_ALL, type VersionRec, startFakeStateBacked } from "../fakes/statebacked/server.ts";

/** instances-query, and fleet-status, against the fake's index query and listing. */
const KEY = { keyId: "sbk_query", secret: "sbsec_query", orgId: "org_q", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let clock: InstantClock;
let v1: VersionRec;
let v2: VersionRec;
const makeContext = () => makeContextWith({ clock });
// Plans by instance: string order is basic < enterprise < free < pro.
const PLANS: Record<string, string> = { a: "basic", b: "enterprise", c: "enterprise", d: "free", e: "pro", f: "pro", g: "enterprise" };

beforeEach(async () => {
  clock = new InstantClock();
  fake = await startFakeStateBacked({ keys: [KEY], pageSize: 2, now: () => clock.now() });
  fake.addMachine("app", ["plan"]);
  v1 = fake.addVersion("app", "v1.0.0");
  v2 = fake.addVersion("app", "v1.2.0", { current: true });
  fake.addMigration("app", v1.id, v2.id);
  fake.addInstances("app", Object.keys(PLANS), v1.id);
  fake.addInstances("app", ["no-plan"], v1.id);
  fake.setIndexValues("app", "plan", PLANS);
});
afterEach(() => fake.close());

async function config<T extends Config>(inputs: Record<string, string>): Promise<T> {
  const all: Record<string, string> = { "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "app", ...inputs };
  return (await buildConfig((n) => all[n] ?? "", { sha: "s", repository: "r", workspace: tmpdir() })) as T;
}

const compare = { eq: (a: string, b: string) => a === b, ne: (a: string, b: string) => a !== b, gt: (a: string, b: string) => a > b, gte: (a: string, b: string) => a >= b, lt: (a: string, b: string) => a < b, lte: (a: string, b: string) => a <= b };

describe("instances-query", () => {
  it.each(Object.keys(compare) as (keyof typeof compare)[])("set-desired-version with 'plan %s enterprise' updates exactly the matching instances, paging the query", async (op) => {
    const t = makeContext();
    await setDesiredVersion(await config({ operation: "set-desired-version", "to-version": v2.id, "instances-query": `plan ${op} enterprise` }), t.ctx);
    const expected = Object.keys(PLANS).filter((n) => compare[op](PLANS[n]!, "enterprise")).sort();
    const updated = [...fake.machine("app").instances.values()].filter((i) => i.desiredVersionId === v2.id).map((i) => i.slug).sort();
    expect(updated).toEqual(expected);
    expect(t.report.outputs.get("succeeded-count")).toBe(String(expected.length));
    const queries = fake.requests.filter((r) => r.path === "/machines/app/indexes/plan/query");
    expect(queries.length).toBe(Math.max(1, Math.ceil(expected.length / 2)));
    expect(queries.every((r) => new URLSearchParams(r.query).get("op") === op && new URLSearchParams(r.query).get("value") === "enterprise")).toBe(true);
  });

  it("takes the value as the rest of the line, spaces included", async () => {
    fake.setIndexValues("app", "plan", { a: "gold plus" });
    const t = makeContext();
    await setDesiredVersion(await config({ operation: "set-desired-version", "to-version": v2.id, "instances-query": "plan eq gold plus" }), t.ctx);
    expect(t.report.outputs.get("succeeded-count")).toBe("1");
    expect(fake.machine("app").instances.get("a")!.desiredVersionId).toBe(v2.id);
  });

  it.each([
    ["plan", /not a query/],
    ["plan is enterprise", /'is' is not an operator/],
    ["bad/index eq x", /not an index name/],
  ])("refuses the malformed query %j as an input error, before any request", async (q, msg) => {
    const err = await config({ operation: "set-desired-version", "to-version": v2.id, "instances-query": q }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe("instances-query");
    expect((err as Error).message).toMatch(msg);
    expect(fake.requests).toHaveLength(0);
  });

  it("an index the machine lacks is one clear error naming the input, and nothing is sent", async () => {
    const t = makeContext();
    const run = setDesiredVersion(await config({ operation: "set-desired-version", "to-version": v2.id, "instances-query": "region eq eu" }), t.ctx);
    await expect(run).rejects.toThrow("Input 'instances-query': machine 'app' has no index 'region' (its indexes: 'plan')");
    expect(fake.count("PUT", /./)).toBe(0);
    expect(fake.count("GET", /\/query$/)).toBe(0);
  });

  it("with from-version, shard and dry-run as other selections", async () => {
    fake.machine("app").instances.get("b")!.versionId = v2.id;
    const t = makeContext();
    await setDesiredVersion(await config({ operation: "set-desired-version", "to-version": v2.id, "from-version": v1.id, "instances-query": "plan eq enterprise", "dry-run": "true" }), t.ctx);
    const out = Object.fromEntries(t.report.outputs);
    // b is already on the target (skipped); c and g would be updated (planned, not skipped).
    expect(out["skipped-count"]).toBe("1");
    expect(out["planned-count"]).toBe("2");
    const lines = readFileSync(out["report-file"]!, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { instance: string; reason: string });
    expect(lines.map((l) => [l.instance, l.reason]).sort()).toEqual([
      ["b", "already on the target version"],
      ["c", "dry run: would be updated"],
      ["g", "dry run: would be updated"],
    ]);
    expect(fake.count("PUT", /./)).toBe(0);
  });

  it("delete-instances deletes what the query finds (behind the danger input)", async () => {
    const t = makeContext();
    await deleteInstances(await config({ operation: "delete-instances", "instances-query": "plan eq pro", "danger-data-will-be-deleted-forever": "true" }), t.ctx);
    expect(t.report.outputs.get("succeeded-count")).toBe("2");
    expect([...fake.machine("app").instances.keys()].sort()).toEqual(["a", "b", "c", "d", "g", "no-plan"]);
  });
});

describe("the fake's index query is strict", () => {
  const get = async (query: string) => {
    const token = signApiKeyToken(KEY, { sub: "t" }, Math.floor(clock.now() / 1000));
    const res = await request(`${fake.url}/machines/app/indexes/plan/query${query}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };
  it("refuses an unknown op, op without value, a bad limit and another query's cursor", async () => {
    expect((await get("?op=like&value=x")).body).toMatchObject({ code: "invalid-parameter", parameter: "op" });
    expect((await get("?op=eq")).body).toMatchObject({ code: "invalid-parameter", parameter: "value" });
    expect((await get("?limit=0")).body).toMatchObject({ code: "invalid-parameter", parameter: "limit" });
    const first = await get("?op=eq&value=enterprise");
    expect(first.status).toBe(200);
    expect(first.body.instances).toEqual([
      { slug: "b", indexValue: "enterprise" },
      { slug: "c", indexValue: "enterprise" },
    ]);
    const other = await get(`?op=eq&value=pro&cursor=${encodeURIComponent(first.body.cursor as string)}`);
    expect(other.body).toMatchObject({ code: "invalid-parameter", parameter: "cursor" });
    const next = await get(`?op=eq&value=enterprise&cursor=${encodeURIComponent(first.body.cursor as string)}`);
    expect(next.body).toEqual({ instances: [{ slug: "g", indexValue: "enterprise" }] });
  });
});

describe("fleet-status", () => {
  it("counts by version with to-version: outputs, report file, and a summary with a Mermaid pie", async () => {
    for (const n of ["a", "b", "c"]) fake.machine("app").instances.get(n)!.versionId = v2.id;
    fake.machine("app").instances.get("d")!.status = "paused";
    const t = makeContext();
    await fleetStatus(await config({ operation: "fleet-status", "to-version": "label:v1.2.0" }), t.ctx);
    const out = Object.fromEntries(t.report.outputs);
    expect(out).toMatchObject({ "instance-count": "8", "on-target-count": "3", "not-on-target-count": "5", "paused-count": "1" });
    expect(JSON.parse(out.versions!)).toEqual([
      { id: v1.id, label: "v1.0.0", count: 5 },
      { id: v2.id, label: "v1.2.0", count: 3 },
    ]);
    const lines = readFileSync(out["report-file"]!, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(8);
    expect(lines.find((l) => l.instance === "d")).toEqual({ instance: "d", versionId: v1.id, label: "v1.0.0", status: "paused" });
    const summary = t.report.summary.join("\n");
    expect(summary).toContain(`**3 of 8 instances run v1.2.0 (${v2.id}).**`);
    expect(t.report.verdict).toEqual({ level: "ok", sentence: `3 of 8 instances of \`app\` run **v1.2.0** (\`${v2.id}\`)` });
    expect(summary).toContain(`| \`v1.0.0\` | \`${v1.id}\` | 5 | 62.5% |`);
    expect(summary).toContain('```mermaid\npie showData title Instances by version\n    "v1.0.0" : 5\n    "v1.2.0" : 3\n```');
    expect(fake.requests.every((r) => r.method === "GET")).toBe(true);
  });

  it("narrowed by a query or by names; without to-version the headline names the commonest version", async () => {
    const t = makeContext();
    await fleetStatus(await config({ operation: "fleet-status", "instances-query": "plan eq enterprise" }), t.ctx);
    expect(Object.fromEntries(t.report.outputs)).toMatchObject({ "instance-count": "3", "paused-count": "0" });
    expect(t.report.outputs.has("on-target-count")).toBe(false);
    expect(t.report.summary.join("\n")).toContain(`**3 of 3 instances run v1.0.0 (${v1.id}).**`);
    expect(t.report.verdict).toEqual({ level: "ok", sentence: `All 3 instances of \`app\` run **v1.0.0** (\`${v1.id}\`)` });
    const t2 = makeContext();
    await fleetStatus(await config({ operation: "fleet-status", instances: "a,b,ghost" }), t2.ctx);
    expect(t2.report.outputs.get("instance-count")).toBe("2");
    expect(t2.report.summary.join("\n")).toContain("3 named, 1 of them not found");
  });

  it("makes labels safe inside the Mermaid block", async () => {
    const odd = fake.addVersion("app", 'x"\n```\n::error::y');
    fake.machine("app").instances.get("a")!.versionId = odd.id;
    const t = makeContext();
    await fleetStatus(await config({ operation: "fleet-status" }), t.ctx);
    const pie = /```mermaid\n([\s\S]*?)```/.exec(t.report.summary.join("\n"))![1]!;
    expect(pie).toContain('"x______::error::y" : 1');
    expect(pie.split("\n").every((l) => l === "" || l.startsWith("pie ") || l.startsWith('    "'))).toBe(true);
  });
});
