import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waveOf } from "../../src/rollout/waves.ts";
import { runAction, visibleText } from "../helpers/run-action.ts";
import { type FakeStateBacked, SCOPES_ALL, type VersionRec, startFakeStateBacked } from "../fakes/statebacked/server.ts";

const KEY = { keyId: "sbk_waves_e2e", secret: "sbsec_waves_e2e_secret", orgId: "org_w", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let v1: VersionRec;
let v2: VersionRec;
const names = (n: number) => Array.from({ length: n }, (_, i) => `inst-${String(i).padStart(4, "0")}`);

beforeEach(async () => {
  // Logs readable at once (the real service: about a minute later), so a one-second soak is judged promptly.
  fake = await startFakeStateBacked({ keys: [KEY], pageSize: 100, logDelayMs: 0 });
  fake.addMachine("app");
  v1 = fake.addVersion("app", "v1");
  v2 = fake.addVersion("app", "v2", { current: true });
  fake.addMigration("app", v1.id, v2.id);
  fake.addMigration("app", v2.id, v1.id);
});
afterEach(() => fake.close());

describe("dist/index.js: set-desired-version in waves", () => {
  it("a canary that writes stderr halts the rollout, and rollback sets the canaries back", async () => {
    const all = names(300);
    fake.addInstances("app", all, v1.id);
    // Instances upgrade at their next event; v2 writes an error line when one does.
    fake.upgradeAfterMs = 0;
    fake.versionLogs.set(v2.id, { stderr: 1 });
    const canaries = all.filter((n) => waveOf(n, [1000, 10000]) === 1);
    const r = await runAction({
      operation: "set-desired-version",
      "api-url": fake.url,
      "api-key-id": KEY.keyId,
      "api-key-secret": KEY.secret,
      machine: "app",
      "all-instances": "true",
      "to-version": "current",
      waves: "10%, 100%",
      "wave-soak-seconds": "1",
      "max-error-logs": "0",
      "rollback-on-halt": "true",
    });
    expect(r.code, r.stdout.slice(-3000)).toBe(1);
    expect(canaries.length).toBeGreaterThan(10);
    expect(r.outputs).toMatchObject({
      rollout: "rolled-back",
      "waves-done": "0",
      "rolled-back-count": String(canaries.length),
      "succeeded-count": "0",
      "skipped-count": String(all.length - canaries.length),
      "failed-count": "0",
    });
    expect(r.stdout).toMatch(/::error::The rollout halted after wave 1 \(\d+ error logs? from v2 > max-error-logs 0\); \d+ of \d+ updated instances rolled back\./);
    // Only the canaries were sent, then set back: two PUTs each, none for the second wave.
    expect(fake.count("PUT", /\/i\/[^/]+\/v$/)).toBe(2 * canaries.length);
    for (const i of fake.machine("app").instances.values()) {
      expect(i.desiredVersionId).toBe(canaries.includes(i.slug) ? v1.id : undefined);
    }
    const lines = readFileSync(r.outputs["report-file"]!, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { instance: string; outcome: string; wave?: number });
    const last = new Map(lines.map((l) => [l.instance, l]));
    for (const n of canaries) expect(last.get(n)).toMatchObject({ outcome: "rolled-back", wave: 1 });
    expect(r.summary).toContain("#### Waves");
    expect(r.summary).toMatch(/\| 1 \| 10% \| \d+ \| \d+ \| — \| \d+ \| halted: \d+ error logs? from v2 > max-error-logs 0 \|/);
    expect(r.summary).toContain("| 2 | 100% |");
    expect(visibleText(r)).not.toContain(KEY.secret);
  });
});
