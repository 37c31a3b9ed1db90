import { tmpdir } from "node:os";
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type SetDesiredVersionConfig, buildConfig } from "../../src/config/config.ts";
import { setDesiredVersion } from "../../src/operations/set-desired-version.ts";
import { waveOf } from "../../src/rollout/waves.ts";
import { abortReason } from "../../src/runtime/clock.ts";
import { makeContext as makeContextWith } from "../helpers/context.ts";
import { InstantClock } from "../helpers/instant-clock.ts";
import { type FakeStateBacked, SCOPES_ALL, type VersionRec, startFakeStateBacked } from "../fakes/statebacked/server.ts";

/**
 * set-desired-version in waves, against the fake API on a shared virtual timeline: soaks and
 * log waits are skipped by the clock, not waited for.
 */
const KEY = { keyId: "sbk_waves", secret: "sbsec_waves", orgId: "org_w", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let clock: InstantClock;
let v0: VersionRec;
let v1: VersionRec;
let v2: VersionRec;
const names = (n: number, prefix = "user") => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
const PUTS = /\/i\/[^/]+\/v$/;

beforeEach(async () => {
  clock = new InstantClock();
  fake = await startFakeStateBacked({ keys: [KEY], pageSize: 200, now: () => clock.now() });
  fake.addMachine("app");
  v0 = fake.addVersion("app", "v0");
  v1 = fake.addVersion("app", "v1");
  v2 = fake.addVersion("app", "v2", { current: true });
  fake.addMigration("app", v0.id, v2.id);
  fake.addMigration("app", v1.id, v2.id);
});
afterEach(() => fake.close());

async function config(inputs: Record<string, string>): Promise<SetDesiredVersionConfig> {
  const all: Record<string, string> = { operation: "set-desired-version", "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "app", "to-version": "current", ...inputs };
  return (await buildConfig((n) => all[n] ?? "", { sha: "s", repository: "r", workspace: tmpdir() })) as SetDesiredVersionConfig;
}

interface Line {
  instance: string;
  outcome: string;
  reason?: string;
  wave?: number;
}
const reportLines = (path: string): Line[] => readFileSync(path, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Line);

async function run(inputs: Record<string, string>, c: InstantClock = clock) {
  const t = makeContextWith({ clock: c });
  await setDesiredVersion(await config(inputs), t.ctx);
  const out = Object.fromEntries(t.report.outputs);
  return { t, out, summary: t.report.summary.join("\n"), lines: reportLines(out["report-file"]!) };
}

const wavesOf = (list: string[], steps: number[]) => {
  const by = steps.map(() => [] as string[]);
  for (const n of list) {
    const w = waveOf(n, steps);
    if (w !== undefined) by[w - 1]!.push(n);
  }
  return by;
};

describe("set-desired-version in waves", () => {
  it("a good version passes every gate and completes", async () => {
    fake.addInstances("app", names(1000), v1.id);
    fake.upgradeAfterMs = 60_000; // each instance's next event comes within the soak
    fake.versionLogs.set(v2.id, { stdout: 1 });
    const started = clock.now();
    const r = await run({ "all-instances": "true", waves: "10%, 50%, 100%", "max-error-logs": "0", "min-upgraded-percent": "90" });
    expect(r.t.report.failure).toBeUndefined();
    expect(r.out).toMatchObject({ rollout: "complete", "waves-done": "3", "rolled-back-count": "0", "succeeded-count": "1000", "failed-count": "0" });
    expect(fake.count("PUT", PUTS)).toBe(1000);
    // Two soaks of five minutes, and each gate waited for the logs to pass the soak's end.
    expect(clock.now() - started).toBeGreaterThan(2 * 360_000);
    expect(clock.now() - started).toBeLessThan(2 * 300_000 + 2 * 120_000 + 60_000);
    const by = wavesOf(names(1000), [1000, 5000, 10000]);
    expect(r.summary).toContain("#### Waves");
    expect(r.summary).toContain(`| 1 | 10% | ${by[0]!.length} | ${by[0]!.length} | ${by[0]!.length} of ${by[0]!.length} (100%) | 0 | passed |`);
    expect(r.summary).toContain(`| 3 | 100% | ${by[2]!.length} | ${by[2]!.length} | — | — | sent (last wave) |`);
    // A bar per wave: the instances it sent.
    expect(r.summary).toContain(`    x-axis ["1 (10%)", "2 (50%)", "3 (100%)"]\n    y-axis "instances" 0 --> ${Math.max(...by.map((w) => w.length))}\n    bar [${by.map((w) => w.length).join(", ")}]`);
    // The wave table comes first, then the counts as today.
    expect(r.summary.indexOf("#### Waves")).toBeLessThan(r.summary.indexOf("| Selected | Updated |"));
    for (const l of r.lines) expect(l.wave).toBe(waveOf(l.instance, [1000, 5000, 10000]));
  });

  it("a version that writes stderr halts after the first wave: later waves get no request", async () => {
    fake.addInstances("app", names(400), v1.id);
    fake.upgradeAfterMs = 0;
    fake.versionLogs.set(v2.id, { stderr: 2 });
    const [wave1, wave2] = wavesOf(names(400), [1000, 10000]);
    const r = await run({ "all-instances": "true", waves: "10%, 100%", "max-error-logs": "0" });
    expect(fake.count("PUT", PUTS)).toBe(wave1!.length);
    for (const n of wave2!) expect(fake.machine("app").instances.get(n)!.desiredVersionId).toBeUndefined();
    const why = `${2 * wave1!.length} error logs from v2 > max-error-logs 0`;
    expect(r.t.report.failure).toBe(`The rollout halted after wave 1 (${why}).`);
    expect(r.out).toMatchObject({ rollout: "halted", "waves-done": "0", "rolled-back-count": "0", "succeeded-count": String(wave1!.length), "skipped-count": String(wave2!.length) });
    const skipped = r.lines.filter((l) => l.outcome === "skipped");
    expect(skipped).toHaveLength(wave2!.length);
    for (const l of skipped) expect(l).toMatchObject({ reason: `not sent: the rollout halted after wave 1 (${why})`, wave: 2 });
    expect(r.summary).toContain(`halted: ${why}`);
    expect(r.summary).toContain("Error logs read (first 5)");
  });

  it("min-upgraded-percent halts when the instances do not move", async () => {
    fake.addInstances("app", names(300), v1.id);
    const [wave1] = wavesOf(names(300), [2000, 10000]);
    const r = await run({ "all-instances": "true", waves: "20%, 100%", "min-upgraded-percent": "50", "wave-soak-seconds": "60" });
    expect(fake.count("PUT", PUTS)).toBe(wave1!.length);
    expect(r.t.report.failure).toBe(`The rollout halted after wave 1 (0 of ${wave1!.length} updated instances (0%) run v2 < min-upgraded-percent 50).`);
    expect(r.out).toMatchObject({ rollout: "halted", "waves-done": "0" });
    expect(fake.count("GET", /\/logs$/)).toBe(0); // no log gate asked for
  });

  it("rollback returns exactly the updated instances to their earlier versions", async () => {
    fake.addInstances("app", names(200, "a"), v1.id);
    fake.addInstances("app", names(200, "b"), v0.id);
    fake.addInstances("app", names(20, "c"), v2.id); // on the target: skipped, never rolled back
    fake.addMigration("app", v2.id, v1.id); // a way back for v1 instances, none for v0
    fake.upgradeAfterMs = 0;
    fake.versionLogs.set(v2.id, { stderr: 1 });
    const all = [...names(200, "a"), ...names(200, "b")];
    const [wave1] = wavesOf(all, [1500, 10000]);
    const before = new Map([...fake.machine("app").instances.values()].map((i) => [i.slug, i.versionId]));
    const r = await run({ "all-instances": "true", waves: "15%, 100%", "max-error-logs": "0", "rollback-on-halt": "true" });
    const fromA = wave1!.filter((n) => n.startsWith("a-"));
    const fromB = wave1!.filter((n) => n.startsWith("b-"));
    expect(fromA.length).toBeGreaterThan(10);
    expect(fromB.length).toBeGreaterThan(10);
    // PUTs: the wave, then one rollback each; nothing for later waves or instances on the target.
    expect(fake.count("PUT", PUTS)).toBe(2 * wave1!.length);
    for (const i of fake.machine("app").instances.values()) {
      if (fromA.includes(i.slug)) expect(i.desiredVersionId).toBe(v1.id);
      else if (fromB.includes(i.slug)) expect(i.desiredVersionId).toBe(v2.id); // the way back was refused
      else expect(i.desiredVersionId).toBeUndefined();
      if (!wave1!.includes(i.slug)) expect(i.versionId).toBe(before.get(i.slug));
    }
    expect(r.out).toMatchObject({ rollout: "rolled-back", "waves-done": "0", "rolled-back-count": String(fromA.length), "succeeded-count": "0", "failed-count": String(fromB.length) });
    expect(r.t.report.failure).toMatch(new RegExp(`^The rollout halted after wave 1 \\(${wave1!.length} error logs from v2 > max-error-logs 0\\); ${fromA.length} of ${wave1!.length} updated instances rolled back, ${fromB.length} not`));
    expect(r.out["failed-instances"]!.split("\n").sort()).toEqual([...fromB].sort());
    // The refused way back is one line per source version, not per instance.
    const esc = (id: string): string => id.replace(/_/g, "\\_");
    expect(r.summary).toContain(`**${fromB.length} × no migration path back from v2 (${esc(v2.id)}) to v0 (${esc(v0.id)}), so the rollback was refused**`);
    expect(r.summary).toContain(`| Selected | Updated | Rolled back | Skipped | Failed |`);
    expect(r.t.logger.lines.some((l) => l.startsWith(`set-desired-version: 0 updated, ${fromA.length} rolled back, ${420 - wave1!.length} skipped, ${fromB.length} failed of 420 in `))).toBe(true);
    const last = new Map(r.lines.map((l) => [l.instance, l]));
    for (const n of fromA) expect(last.get(n)).toMatchObject({ outcome: "rolled-back", wave: 1 });
    for (const n of fromB) expect(last.get(n)).toMatchObject({ outcome: "failed", wave: 1 });
  });

  it("rolls back instances that had not upgraded yet to the version they still run", async () => {
    fake.addInstances("app", names(100), v1.id);
    const [wave1] = wavesOf(names(100), [3000, 10000]);
    const r = await run({ instances: names(100).join(","), waves: "30%, 100%", "min-upgraded-percent": "100", "rollback-on-halt": "true", "wave-soak-seconds": "10" });
    expect(r.out).toMatchObject({ rollout: "rolled-back", "rolled-back-count": String(wave1!.length), "failed-count": "0" });
    for (const i of fake.machine("app").instances.values()) {
      expect(i.versionId).toBe(v1.id);
      expect(i.desiredVersionId).toBe(wave1!.includes(i.slug) ? v1.id : undefined);
    }
  });

  it("a gate that cannot be read halts the rollout instead of sending the next wave blind", async () => {
    fake.addInstances("app", names(200), v1.id);
    const [wave1] = wavesOf(names(200), [2000, 10000]);
    // The listing the upgraded-share gate reads keeps failing; the names come from the input.
    fake.faults.push({ method: "GET", path: /\/machines\/app\/i$/, times: 1000, action: { status: 500 } });
    const r = await run({ instances: names(200).join(","), waves: "20%, 100%", "min-upgraded-percent": "10", "wave-soak-seconds": "5" });
    expect(fake.count("PUT", PUTS)).toBe(wave1!.length);
    expect(r.out).toMatchObject({ rollout: "halted", "waves-done": "0" });
    expect(r.t.report.failure).toMatch(/^The rollout halted after wave 1 \(the gate could not be judged: .*listing instances of 'app'.*500/);
  });

  it("membership is stable across runs: a canary run, then a promotion keeps the canaries first", async () => {
    fake.addInstances("app", names(500), v1.id);
    const canary = await run({ "all-instances": "true", waves: "10%" });
    const canaries = canary.lines.filter((l) => l.outcome === "updated").map((l) => l.instance).sort();
    expect(canaries.length).toBeGreaterThan(20);
    expect(canary.out).toMatchObject({ rollout: "complete", "waves-done": "1", "succeeded-count": String(canaries.length), "skipped-count": String(500 - canaries.length) });
    expect(canary.lines.find((l) => l.outcome === "skipped")!.reason).toBe("not in this rollout (waves end at 10%)");
    fake.upgradeNow("app");
    const puts = fake.count("PUT", PUTS);
    const promote = await run({ "all-instances": "true", waves: "10%, 100%", "min-upgraded-percent": "1" });
    // The canaries run the target now: skipped; the first wave has nothing left to send.
    expect(promote.lines.filter((l) => l.reason === "already on the target version").map((l) => l.instance).sort()).toEqual(canaries);
    expect(fake.count("PUT", PUTS) - puts).toBe(500 - canaries.length);
    expect(promote.out).toMatchObject({ rollout: "complete", "waves-done": "2", "succeeded-count": String(500 - canaries.length) });
    expect(promote.summary).toContain(`| 1 | 10% | 0 | 0 | — | — | passed (no instance updated) |`);
  });

  it("a dry run shows how many instances fall in each wave (within a few percent at 10,000) and sends nothing", async () => {
    await fake.close();
    fake = await startFakeStateBacked({ keys: [KEY], pageSize: 1000, now: () => clock.now() });
    fake.addMachine("app");
    const v = fake.addVersion("app", "v1");
    fake.addVersion("app", "v2", { current: true });
    fake.addInstances("app", names(10_000), v.id);
    const r = await run({ "all-instances": "true", waves: "1%, 10%, 50%, 100%", "dry-run": "true" });
    expect(fake.count("PUT", /./)).toBe(0);
    expect(r.t.report.failure).toBeUndefined();
    const rows = [...r.summary.matchAll(/^\| (\d) \| (\d+%) \| (\d+) \|$/gm)].map((m) => Number(m[3]));
    expect(rows).toHaveLength(4);
    let sum = 0;
    const shares = rows.map((n) => (sum += n) / 100);
    expect(Math.abs(shares[0]! - 1)).toBeLessThan(0.5);
    expect(Math.abs(shares[1]! - 10)).toBeLessThan(1);
    expect(Math.abs(shares[2]! - 50)).toBeLessThan(1);
    expect(shares[3]).toBe(100);
    expect(r.lines.every((l) => l.outcome === "planned" && l.reason === `dry run: would be updated in wave ${l.wave}`)).toBe(true);
    expect(r.out).toMatchObject({ "planned-count": "10000", "skipped-count": "0" });
  });

  it("a key without logs.read is refused before any change", async () => {
    fake.keys.set(KEY.keyId, { ...KEY, scopes: SCOPES_ALL.filter((s) => s !== "logs.read") });
    fake.addInstances("app", names(50), v1.id);
    const t = makeContextWith({ clock });
    const err = await setDesiredVersion(await config({ "all-instances": "true", waves: "10%, 100%", "max-error-logs": "0" }), t.ctx).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/logs\.read/);
    expect(fake.count("PUT", /./)).toBe(0);
    expect(t.report.outputs.get("failed-count")).toBe("0");
    expect(t.report.outputs.get("rollout")).toBe("failed");
  });

  it("cancellation during a soak stops at once, with outputs and summary, and lists what was not sent", async () => {
    fake.addInstances("app", names(200), v1.id);
    const [wave1, wave2] = wavesOf(names(200), [2500, 10000]);
    // A clock that skips short waits but holds a soak until the run is cancelled.
    const controller = { abort: () => undefined as void };
    class SoakHoldingClock extends InstantClock {
      override async sleep(ms: number, signal?: AbortSignal): Promise<void> {
        if (ms < 60_000) return super.sleep(ms, signal);
        queueMicrotask(() => controller.abort());
        return new Promise<void>((_, reject) => signal?.addEventListener("abort", () => reject(abortReason(signal)), { once: true }));
      }
    }
    const c = new SoakHoldingClock();
    await fake.close();
    fake = await startFakeStateBacked({ keys: [KEY], pageSize: 200, now: () => c.now() });
    fake.addMachine("app");
    const a = fake.addVersion("app", "v1");
    const b = fake.addVersion("app", "v2", { current: true });
    fake.addMigration("app", a.id, b.id);
    fake.addInstances("app", names(200), a.id);
    const t = makeContextWith({ clock: c });
    controller.abort = () => t.controller.abort();
    await setDesiredVersion(await config({ "all-instances": "true", waves: "25%, 100%", "wave-soak-seconds": "600" }), t.ctx);
    const out = Object.fromEntries(t.report.outputs);
    expect(out).toMatchObject({ rollout: "cancelled", "waves-done": "0", "succeeded-count": String(wave1!.length), "failed-count": String(wave2!.length) });
    expect(t.report.failure).toBe(`Cancelled: ${wave2!.length} instances not done (listed in failed-instances).`);
    expect(out["failed-instances"]!.split("\n").sort()).toEqual([...wave2!].sort());
    expect(fake.count("PUT", PUTS)).toBe(wave1!.length);
    expect(t.report.summary.join("\n")).toContain("cancelled during the soak");
    expect(reportLines(out["report-file"]!).filter((l) => l.outcome === "not-done")).toHaveLength(wave2!.length);
  });
});
