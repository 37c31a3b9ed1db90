/**
 * prepare-appliance-upgrade and cancel-appliance-upgrade (issue 12) against the fake Controller:
 * throttling seen at the fake, a local image uploaded once and prepared from controller://,
 * refusals before anything is sent, a failed prepare reported with its details, and a cancel
 * that leaves an installing appliance alone.
 */
import { mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ALL_NAMES, type SpecOverrides } from "../fakes/appgate/fleet.ts";
import { runCancel, runPrepare } from "../fakes/appgate/lifecycle-harness.ts";
import { useFleet } from "../fakes/appgate/use-fleet.ts";

const start = useFleet({ installMs: 60, rebootMs: 40, readyLagMs: 10, prepareMs: 60 });
const IMAGE = "appgate-6.5.0-32000-release.img.zip";
const URL_IMAGE = { kind: "url" as const, url: `https://downloads.example.test/${IMAGE}`, fileName: IMAGE };
const allIdle = (extra: SpecOverrides = {}): SpecOverrides => Object.fromEntries(ALL_NAMES.map((n) => [n, { upgrade: "idle" as const, ...extra[n] }]));
const prepares = (f: Awaited<ReturnType<typeof start>>): string[] => f.events.filter((e) => e.type === "prepare").map((e) => e.appliance!);

describe("prepare-appliance-upgrade", () => {
  it("prepares every idle appliance from a URL, at most prepare-concurrency at once, each until ready", async () => {
    // Long enough that the first three overlap whatever the machine's speed: a worker starts its next one only after the last is ready.
    const f = await start(allIdle({ "gw-c2": { offline: true } }), { prepareMs: 400 });
    const run = await runPrepare(f, URL_IMAGE, { prepareConcurrency: 3 });
    expect(run.report.failure).toBeUndefined();
    expect(run.list("prepared").sort()).toEqual(ALL_NAMES.filter((n) => n !== "gw-c2").sort());
    expect(run.list("skipped")).toEqual(["gw-c2"]);
    expect(f.maxConcurrentPreparing()).toBe(3);
    for (const n of run.list("prepared")) expect(f.appliance(n).upgradeStatus).toBe("ready");
    expect(f.events.find((e) => e.type === "prepare")!.detail).toBe(URL_IMAGE.url);
    expect(run.summary).toMatch(/\| gw-a1 \| Gateway \| Site A \| 6\.4\.2-31000 \| prepared \| [\d.]+ (ms|s) \|/);
    expect(run.summary).toMatch(/\| gw-c2 \| .*skipped: offline/);
    expect(run.report.verdict).toEqual({ level: "ok", sentence: `${ALL_NAMES.length - 1} appliances prepared` });
  });

  it("a local image is uploaded once to the Files API and prepared from controller://<peer hostname>:<port>/<file>", async () => {
    const f = await start(allIdle());
    const dir = await mkdtemp(join(tmpdir(), "appgate-image-"));
    const path = join(dir, IMAGE);
    await writeFile(path, Buffer.from("not really an image, but bytes all the same"));
    const image = { kind: "file" as const, path, fileName: IMAGE, workspace: dir };
    const first = await runPrepare(f, image, { appliances: ["gw-a1", "gw-a2"] });
    expect(first.report.failure).toBeUndefined();
    expect(first.list("prepared").sort()).toEqual(["gw-a1", "gw-a2"]);
    expect(f.files().get(IMAGE)?.toString()).toBe("not really an image, but bytes all the same");
    expect(f.events.filter((e) => e.type === "prepare").map((e) => e.detail)).toEqual([
      `controller://ctrl-1.example.test:443/${IMAGE}`,
      `controller://ctrl-1.example.test:443/${IMAGE}`,
    ]);
    const second = await runPrepare(f, image, { appliances: ["gw-b1"] });
    expect(second.list("prepared")).toEqual(["gw-b1"]);
    expect(f.events.filter((e) => e.type === "file-upload")).toHaveLength(1);
    expect(second.logger.lines).toContain(`The Controller holds ${IMAGE} already; not uploading it again`);
  });

  it("a local image outside the workspace (links followed), or not a regular file, is refused before any request", async () => {
    const f = await start(allIdle());
    const dir = await mkdtemp(join(tmpdir(), "appgate-image-"));
    const workspace = await mkdtemp(join(tmpdir(), "appgate-workspace-"));
    await writeFile(join(dir, IMAGE), "x");
    await symlink(join(dir, IMAGE), join(workspace, IMAGE));
    await expect(runPrepare(f, { kind: "file", path: join(workspace, IMAGE), fileName: IMAGE, workspace })).rejects.toThrow(/image-url.*outside the workspace/);
    await expect(runPrepare(f, { kind: "file", path: dir, fileName: IMAGE, workspace: dir })).rejects.toThrow(/image-url.*not a regular file/);
    expect(f.requests).toEqual([]);
  });

  it("refuses, before anything is sent, an image older than an appliance's version or more than two minor versions ahead", async () => {
    const older = await start(allIdle({ "gw-a1": { version: "6.6.0-1" } }));
    const a = await runPrepare(older, URL_IMAGE);
    expect(a.report.failure).toMatch(/gw-a1 runs 6\.6\.0-1, newer than the image's 6\.5\.0-32000/);
    expect(older.writes()).toEqual([]);
    const jump = await start(allIdle({ "gw-b1": { version: "6.1.3-100" } }));
    const b = await runPrepare(jump, URL_IMAGE);
    expect(b.report.failure).toMatch(/gw-b1: 6\.1\.3-100 → 6\.5\.0-32000 spans more than 2 minor versions/);
    expect(jump.writes()).toEqual([]);
  });

  it("skips appliances already on or prepared for the version and leaves auto-scaled gateways out; a failed prepare is reported with its details", async () => {
    const f = await start({ ...allIdle({ "gw-a2": { failPrepare: true } }), "gw-b1": { upgrade: "upgraded" }, "gw-b2": { upgrade: "ready" } });
    const run = await runPrepare(f, URL_IMAGE);
    expect(run.list("failed")).toEqual(["gw-a2"]);
    expect(run.report.failure).toMatch(/gw-a2 \(the prepare failed: image verification failed: appgate-6\.5\.0-32000-release\.img\.zip\)/);
    expect(run.list("skipped").sort()).toEqual(["gw-b1", "gw-b2"]);
    expect(run.summary).toMatch(/gw-b1 .*already runs 6\.5\.0-32000/);
    expect(run.summary).toMatch(/gw-b2 .*already prepared for 6\.5\.0-32000/);
    expect(prepares(f)).not.toContain("gw-b2");
  });

  it("a dry run plans and sends nothing", async () => {
    const f = await start(allIdle());
    const run = await runPrepare(f, URL_IMAGE, { dryRun: true });
    expect(run.report.failure).toBeUndefined();
    expect(f.writes()).toEqual([]);
    expect(run.summary).toContain("Dry run: the plan below was not carried out");
  });
});

describe("cancel-appliance-upgrade", () => {
  it("cancels every prepared upgrade, never touches an installing appliance, and can delete the upgrade files", async () => {
    const f = await start({ "gw-a1": { upgrade: "installing", installMs: 60_000 }, "gw-a2": { upgrade: "failed" }, "portal-1": { upgrade: "idle" } });
    const dir = await mkdtemp(join(tmpdir(), "appgate-image-"));
    await writeFile(join(dir, IMAGE), "x");
    await runPrepare(f, { kind: "file", path: join(dir, IMAGE), fileName: IMAGE, workspace: dir }, { appliances: ["portal-1"] });
    const run = await runCancel(f, { deleteUpgradeFiles: true });
    expect(run.report.failure).toBeUndefined();
    expect(run.list("cancelled").sort()).toEqual(ALL_NAMES.filter((n) => n !== "gw-a1").sort());
    expect(run.list("skipped")).toEqual(["gw-a1"]);
    expect(run.summary).toMatch(/\| gw-a1 \| .*skipped: installing: never cancelled, left alone/);
    expect(f.events.filter((e) => e.type === "cancel").map((e) => e.appliance)).not.toContain("gw-a1");
    expect(f.appliance("gw-a1").upgradeStatus).toBe("installing");
    for (const n of run.list("cancelled")) expect(f.appliance(n).upgradeStatus).toBe("idle");
    expect([...f.files().keys()]).toEqual([]);
    expect(run.summary).toContain(`Upgrade image files deleted from the Controller: \`${IMAGE}\``);
  });

  it("an installing appliance named in appliances is still left alone", async () => {
    const f = await start({ "gw-a1": { upgrade: "installing", installMs: 60_000 } });
    const run = await runCancel(f, { appliances: ["gw-a1", "gw-a2"] });
    expect(run.list("cancelled")).toEqual(["gw-a2"]);
    expect(f.writes().map((w) => w.path)).toEqual([`/admin/appliances/${f.idOf("gw-a2")}/upgrade`]);
  });
});
