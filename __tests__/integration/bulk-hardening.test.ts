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
