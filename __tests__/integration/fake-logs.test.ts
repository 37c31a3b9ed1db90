import { StateBackedClient } from "@statebacked/client";
import { signToken } from "@statebacked/token";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeStateBacked, SCOPES_ALL, type VersionRec, startFakeStateBacked } from "../fakes/statebacked/server.ts";

/** The fake's `GET /logs` and its test controls: strict as the spec, paged as the official client pages. */
const KEY = { keyId: "sbk_logs", secret: "sbsec_logs_secret", orgId: "org_l", scopes: [...SCOPES_ALL] };
const T0 = Date.parse("2026-11-29T12:00:00.000Z");

let fake: FakeStateBacked;
let now: number;
let v1: VersionRec;
let v2: VersionRec;
let token: string;

async function get(query: string, key = KEY): Promise<{ status: number; body: Record<string, unknown> }> {
  const t = key === KEY ? token : await signToken({ stateBackedKeyId: key.keyId, stateBackedSecretKey: key.secret }, { sub: "ci" }, { expires: { in: "10m" } });
  const res = await fetch(`${fake.url}/logs${query}`, { headers: { authorization: `Bearer ${t}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeEach(async () => {
  now = T0;
  fake = await startFakeStateBacked({ keys: [KEY], now: () => now, logDelayMs: 60_000 });
  fake.addMachine("app");
  v1 = fake.addVersion("app", "v1");
  v2 = fake.addVersion("app", "v2");
  fake.addMigration("app", v1.id, v2.id);
  fake.addInstances("app", ["a", "b", "c"], v1.id);
  // Tokens are signed on the wall clock; the fake's clock is fixed near it, on a whole second so that
  // the entries one test writes (a millisecond apart) never straddle a one-second log partition.
  now = Math.floor(Date.now() / 1000) * 1000;
  token = await signToken({ stateBackedKeyId: KEY.keyId, stateBackedSecretKey: KEY.secret }, { sub: "ci" }, { expires: { in: "10m" } });
});
afterEach(() => fake.close());

describe("fake GET /logs", () => {
  it("is as strict as the spec: from required, ISO timestamps, known filters, scope logs.read", async () => {
    expect(await get("")).toMatchObject({ status: 400, body: { code: "invalid-parameter", parameter: "from" } });
    expect(await get("?from=yesterday")).toMatchObject({ status: 400, body: { parameter: "from" } });
    expect(await get(`?from=${now}`)).toMatchObject({ status: 400, body: { parameter: "from" } });
    expect(await get(`?from=${new Date(now).toISOString()}&to=soon`)).toMatchObject({ status: 400, body: { parameter: "to" } });
    expect(await get(`?from=${new Date(now).toISOString()}&machine=bad%20name`)).toMatchObject({ status: 400, body: { parameter: "machine" } });
    expect(await get(`?from=${new Date(now).toISOString()}&limit=5`)).toMatchObject({ status: 400, body: { parameter: "limit" } });
    const noLogs = { ...KEY, keyId: "sbk_nologs", scopes: SCOPES_ALL.filter((s) => s !== "logs.read") };
    fake.keys.set(noLogs.keyId, noLogs);
    expect(await get(`?from=${new Date(now).toISOString()}`, noLogs)).toMatchObject({ status: 403, body: { code: "missing-scope" } });
    expect(await get(`?from=${encodeURIComponent(new Date(now).toISOString().replace("Z", "+00:00"))}`)).toMatchObject({ status: 200 });
  });

  it("releases entries a minute late, at most 100 an answer, and maxTimestamp pages through each once", async () => {
    const start = now;
    fake.upgradeAfterMs = 0;
    fake.versionLogs.set(v2.id, { stderr: 120, stdout: 30 });
    fake.machine("app").instances.get("a")!.desiredVersionId = v2.id;
    fake.upgradeNow("app");
    expect(fake.machine("app").instances.get("a")!.versionId).toBe(v2.id);
    expect(fake.logs.entries).toHaveLength(150);
    const from = new Date(start).toISOString();
    const early = await get(`?from=${from}&machine=app&version=${v2.id}`);
    expect(early.body).toEqual({ maxTimestamp: from, logs: [] }); // not readable yet: "all currently available"
    now = start + 61_000;
    const seen: string[] = [];
    let cursor = from;
    let calls = 0;
    for (;;) {
      const r = await get(`?from=${cursor}&machine=app&version=${v2.id}`);
      calls++;
      const logs = r.body.logs as { timestamp: string; log: string; outputType: string }[];
      expect(logs.length).toBeLessThanOrEqual(100);
      for (const l of logs) seen.push(`${l.timestamp} ${l.log}`);
      if (r.body.maxTimestamp === cursor) break;
      cursor = r.body.maxTimestamp as string;
    }
    expect(calls).toBe(3); // 100, then 50 and the horizon, then nothing new
    expect(new Set(seen).size).toBe(150);
    expect(Date.parse(cursor)).toBeGreaterThan(start);
    expect((await get(`?from=${from}&version=${v1.id}`)).body.logs).toEqual([]);
    expect((await get(`?from=${from}&instance=b`)).body.logs).toEqual([]);
  });

  it("test controls: instances upgrade upgradeAfterMs after their desired version is set, at their next request", async () => {
    fake.upgradeAfterMs = 30_000;
    const put = (slug: string) => fetch(`${fake.url}/machines/app/i/${slug}/v`, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ targetMachineVersionId: v2.id }) });
    expect((await put("a")).status).toBe(201);
    now += 10_000;
    expect((await put("b")).status).toBe(201);
    now += 20_000;
    await get(`?from=${new Date(now).toISOString()}`); // any request settles what is due
    const versions = () => ["a", "b", "c"].map((s) => fake.machine("app").instances.get(s)!.versionId);
    expect(versions()).toEqual([v2.id, v1.id, v1.id]);
    now += 10_000;
    await get(`?from=${new Date(now).toISOString()}`);
    expect(versions()).toEqual([v2.id, v2.id, v1.id]);
  });

  it("the official client reads it and pages on with its maxTimestamp", async () => {
    const client = new StateBackedClient({ token: async () => token }, { apiHost: fake.url });
    const start = now;
    fake.logs.write({ t: start, orgId: "org_fake", machineName: "app", instanceName: "a", machineVersionId: v1.id, outputType: "stderr", log: "oops" });
    now = start + 120_000;
    const batch = await client.logs.retrieve(new Date(start), { machineName: "app", machineVersionId: v1.id });
    expect(batch.logs).toEqual([{ timestamp: new Date(start).toISOString(), orgId: "org_fake", machineName: "app", instanceName: "a", machineVersionId: v1.id, outputType: "stderr", log: "oops" }]);
    const next = await client.logs.retrieve(new Date(batch.maxTimestamp), { machineName: "app" });
    expect(next).toEqual({ maxTimestamp: batch.maxTimestamp, logs: [] });
  });
});
