import { tmpdir } from "node:os";
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildConfig, type SetDesiredVersionConfig } from "../../src/config/config.ts";
import { setDesiredVersion } from "../../src/operations/set-desired-version.ts";
import { makeContext as makeContextWith } from "../helpers/context.ts";
import { InstantClock } from "../helpers/instant-clock.ts";
import { type FakeStateBacked, SCOPES_ALL, type VersionRec, startFakeStateBacked } from "../fakes/statebacked/server.ts";

/** Issue 9: what a broken or hostile State Backed API can do to a bulk run, through the real HTTP stack. */
const KEY = { keyId: "sbk_hard", secret: "sbsec_hard", orgId: "org_h", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let v1: VersionRec;
let v2: VersionRec;
let clock: InstantClock;
const names = (n: number, prefix = "user") => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

beforeEach(async () => {
  clock = new InstantClock();
  fake = await startFakeStateBacked({ keys: [KEY], pageSize: 25, now: () => clock.now() });
  fake.addMachine("app");
  v1 = fake.addVersion("app", "v1");
  v2 = fake.addVersion("app", "v2", { current: true });
  fake.addMigration("app", v1.id, v2.id);
});
afterEach(() => fake.close());

async function config(inputs: Record<string, string>): Promise<SetDesiredVersionConfig> {
  const all: Record<string, string> = { operation: "set-desired-version", "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "app", ...inputs };
  return (await buildConfig((n) => all[n] ?? "", { sha: "s", repository: "r", workspace: tmpdir() })) as SetDesiredVersionConfig;
}

describe("a token that stops working mid-run (item 5)", () => {
  it("stops the run at the first missing-user answer, with the hint, and lists the rest as not sent", async () => {
    fake.addInstances("app", names(2000), v1.id);
    // The first 100 updates go through; then the token's user is gone for every request.
    fake.faults.push({ method: "PUT", path: /\/i\//, times: 100, action: { delayMs: 0 } });
    fake.faults.push({ method: "PUT", path: /\/i\//, times: 1_000_000, action: { status: 403, body: { code: "missing-user", error: "user not found" } } });
    const t = makeContextWith({ clock });
    await setDesiredVersion(await config({ "to-version": v2.id, instances: names(2000).join(","), concurrency: "8" }), t.ctx);
    const puts = fake.count("PUT", /\/i\//);
    expect(puts).toBeLessThan(100 + 3 * 8);
    expect(t.report.failure).toMatch(/HTTP 403.*missing-user.*token expired or is wrong/);
    // Updates in flight when the refusal came are aborted (and listed as not done).
    const succeeded = Number(t.report.outputs.get("succeeded-count"));
    expect(succeeded).toBeGreaterThanOrEqual(100 - 8);
    expect(succeeded + Number(t.report.outputs.get("failed-count"))).toBe(2000);
    const lines = readFileSync(t.report.outputs.get("report-file")!, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { outcome: string; reason?: string });
    expect(lines).toHaveLength(2000);
    const notSent = lines.filter((l) => l.reason === "not sent: the run stopped on a refusal that applies to every instance");
    expect(notSent.length).toBeGreaterThan(1900 - 3 * 8);
  });
});

describe("a server that only refuses (item 9)", () => {
  it("stops a bulk run once every answer for max-attempts x request-timeout was a 429, the rest not done", async () => {
    fake.addInstances("app", names(500), v1.id);
    fake.faults.push({ method: "PUT", path: /\/i\//, times: 1_000_000, action: { status: 429, retryAfter: "1" } });
    const t = makeContextWith({ clock, requestTimeoutMs: 2000 });
    const cfg = await config({ "to-version": v2.id, instances: names(500).join(","), concurrency: "4", "max-attempts": "5", "request-timeout-seconds": "2" });
    const t0 = clock.now();
    await setDesiredVersion(cfg, t.ctx);
    // 5 x 2 s of nothing but refusals: the run stops (on the run's own clock, not the wall's).
    expect(clock.now() - t0).toBeLessThan(5 * 2000 + 5000);
    expect(t.report.failure).toMatch(/set-desired-version of 'app': every answer for .* was a refusal \(429 or 5xx\) and none a success; the run stops/);
    expect(Number(t.report.outputs.get("failed-count"))).toBe(500);
    const lines = readFileSync(t.report.outputs.get("report-file")!, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { outcome: string; reason?: string });
    expect(lines).toHaveLength(500);
    expect(lines.filter((l) => l.outcome === "not-done").length).toBeGreaterThan(400);
    expect(fake.count("PUT", /\/i\//)).toBeLessThan(200);
  });

  it("ends an instance whose Retry-After would pass its bound, quoting it", async () => {
    fake.addInstances("app", names(3), v1.id);
    fake.faults.push({ method: "PUT", path: /\/i\/user-1\//, times: 100, action: { status: 503, retryAfter: "60" } });
    const t = makeContextWith({ clock, requestTimeoutMs: 2000 });
    const cfg = await config({ "to-version": v2.id, instances: names(3).join(","), "max-attempts": "5", "request-timeout-seconds": "2" });
    await setDesiredVersion(cfg, t.ctx);
    expect(Number(t.report.outputs.get("succeeded-count"))).toBe(2);
    const lines = readFileSync(t.report.outputs.get("report-file")!, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { instance: string; reason?: string });
    expect(lines.find((l) => l.instance === "user-1")?.reason).toMatch(/HTTP 503.*the server asked to retry after 1 min 00 s, which would pass this item's bound of 10\.0 s/);
    expect(fake.count("PUT", /\/i\/user-1\//)).toBe(1);
  });
});
