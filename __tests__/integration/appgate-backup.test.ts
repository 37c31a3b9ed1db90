/**
 * complete-appliance-upgrade's safety net (issue 12): the primary Controller backed up before
 * any change, and the CLI's pre-checks (disk, version jump, auto-scaled gateways), and the API
 * version read again after the primary's upgrade. Against the fake Controller over loopback.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FakeController } from "../fakes/appgate/fake-controller.ts";
import { startFakeController } from "../fakes/appgate/fake-controller.ts";
import { ALL_NAMES, standardFleet } from "../fakes/appgate/fleet.ts";
import { runUpgrade } from "../fakes/appgate/harness.ts";
import { useFleet } from "../fakes/appgate/use-fleet.ts";

const start = useFleet({ installMs: 60, rebootMs: 40, readyLagMs: 10 });
const firstIndex = (f: FakeController, types: string[]): number => f.events.findIndex((e) => types.includes(e.type));
const CHANGES = ["maintenance", "complete", "switch-partition"];

describe("backup before the first change", () => {
  it("backs up the primary, downloads it byte for byte (Accept …+gpg, in ranges) before any change, then upgrades", async () => {
    const f = await start();
    const run = await runUpgrade(f, { config: { backup: true } });
    expect(run.report.failure).toBeUndefined();
    const file = run.report.outputs.get("backup-file")!;
    expect(file.startsWith(run.tempDir)).toBe(true);
    expect(file).toMatch(/appgate-backup-ctrl-1-\d{8}-\d{6}Z\.bkp$/);
    expect((await readFile(file)).equals(f.backupContent())).toBe(true);
    const backupAt = firstIndex(f, ["backup"]);
    const lastDownload = f.events.findLastIndex((e) => e.type === "backup-download");
    expect(backupAt).toBeGreaterThanOrEqual(0);
    expect(lastDownload).toBeLessThan(firstIndex(f, CHANGES));
    expect(f.events.filter((e) => e.type === "backup").map((e) => e.appliance)).toEqual(["ctrl-1"]);
    const downloads = f.requests.filter((r) => /\/backup\/[^/]+$/.test(r.path));
    expect(downloads.length).toBeGreaterThan(1); // 300,000 bytes in 64 KiB ranges
    expect(downloads.every((r) => /^application\/vnd\.appgate\.peer-v23\+gpg$/.test(r.accept) && r.status === 206)).toBe(true);
    expect(run.summary).toMatch(/\*\*Backup\*\* of the primary Controller.*300000 bytes.*collective's configuration, encrypted with the backup passphrase.*actions\/upload-artifact/);
    expect(run.list("upgraded")).toHaveLength(ALL_NAMES.length);
  });

  it("resumes a dropped download with Range from where it stopped", async () => {
    const f = await start({}, { dropBackupDownloads: [2, 3] });
    const path = join((await runUpgrade(f, { config: { dryRun: true } })).tempDir, "ctrl.bkp");
    const run = await runUpgrade(f, { config: { backup: true, backupPath: path } });
    expect(run.report.failure).toBeUndefined();
    expect(run.report.outputs.get("backup-file")).toBe(path);
    expect((await readFile(path)).equals(f.backupContent())).toBe(true);
    expect(run.logger.lines).toContainEqual(expect.stringMatching(/^ctrl-1: backup download interrupted at byte 65536 .*resuming with Range/));
    const starts = f.events.filter((e) => e.type === "backup-download").map((e) => Number(e.detail!.split("-")[0]));
    expect(starts).toEqual([...new Set(starts)]); // no byte range fetched twice once answered
    expect(starts[1]).toBe(65536);
  });

  it("a disabled Backup API fails pre-flight before any change, saying how to enable it or to set backup: false", async () => {
    const f = await start({}, { backupApiEnabled: false });
    const run = await runUpgrade(f, { config: { backup: true } });
    expect(run.report.failure).toMatch(/backup: the Backup API is disabled in the collective's global settings.*or set backup: false/);
    expect(f.writes()).toEqual([]);
    expect(run.report.outputs.has("backup-file")).toBe(false);
  });

  it("a failed backup stops the run before any change", async () => {
    const f = await start({}, { backupFails: true });
    const run = await runUpgrade(f, { config: { backup: true } });
    expect(run.report.failure).toMatch(/the backup of ctrl-1 failed \(Backup failed: gpg: no passphrase set\); nothing was changed/);
    expect(firstIndex(f, CHANGES)).toBe(-1);
    expect(run.report.outputs.has("backup-file")).toBe(false);
  });

  it("a dry run checks that the Backup API is enabled and makes no backup", async () => {
    const f = await start();
    const run = await runUpgrade(f, { config: { backup: true, dryRun: true } });
    expect(run.report.failure).toBeUndefined();
    expect(f.requests.some((r) => r.path === "/admin/global-settings")).toBe(true);
    expect(f.writes()).toEqual([]);
    const off = await start({}, { backupApiEnabled: false });
    expect((await runUpgrade(off, { config: { backup: true, dryRun: true } })).report.failure).toMatch(/Backup API is disabled/);
  });
});

describe("sdpctl's pre-checks", () => {
  it("a jump of more than two minor versions is refused before any change", async () => {
    const f = await start({ "gw-b1": { version: "6.2.0-29000" } });
    const run = await runUpgrade(f);
    expect(run.report.failure).toMatch(/gw-b1: 6\.2\.0-29000 → 6\.5\.0-32000 spans more than 2 minor versions/);
    expect(f.writes()).toEqual([]);
  });

  it("auto-scaled gateways are left out with a warning; a full disk is a warning per appliance", async () => {
    const f = await startFakeController({
      appliances: [
        ...standardFleet({ "gw-a2": { disk: 82 } }),
        { name: "Site A Autoscaling Instance 1", roles: ["gateway"], site: "Site A" },
        { name: "gw template", roles: ["gateway"], site: "Site A", activated: false, tags: ["template"], upgrade: "idle" },
      ],
      installMs: 60,
      rebootMs: 40,
      readyLagMs: 10,
    });
    try {
      const run = await runUpgrade(f);
      expect(run.report.failure).toBeUndefined();
      expect(run.list("skipped").sort()).toEqual(["Site A Autoscaling Instance 1", "gw template"]);
      expect(f.events.filter((e) => e.type === "complete").map((e) => e.appliance)).not.toContain("Site A Autoscaling Instance 1");
      expect(run.logger.lines).toContain("warning: Site A Autoscaling Instance 1 is an auto-scaled gateway (its auto-scaling replaces it): left out, as sdpctl does");
      expect(run.logger.lines).toContainEqual(expect.stringMatching(/^warning: gw-a2: disk 82 % full \(75 % or more\)/));
      expect(run.summary).toMatch(/gw-a2: disk 82 % full/);
    } finally {
      await f.close();
    }
  });
});

describe("the API version after the primary's upgrade", () => {
  it("is read again once the primary is back, and used from then on", async () => {
    const f = await start({}, { peerVersion: 23, lowestPeerVersion: 18, apiVersionAfterPrimaryUpgrade: { peer: 24, lowest: 18 } });
    const run = await runUpgrade(f);
    expect(run.report.failure).toBeUndefined();
    expect(run.list("upgraded")).toHaveLength(ALL_NAMES.length);
    expect(f.refusals.notAcceptable).toBe(0);
    // GET /version twice: at the start, and once the primary is back; every call after the second speaks v24.
    const versionReads = f.requests.flatMap((r, i) => (r.path === "/admin/version" ? [i] : []));
    expect(versionReads).toHaveLength(2);
    expect(versionReads[1]).toBeGreaterThan(f.requests.findIndex((r) => r.path.endsWith(`${f.idOf("ctrl-1")}/upgrade/complete`)));
    const after = f.requests.slice(versionReads[1]! + 1);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => r.accept === "application/vnd.appgate.peer-v24+json")).toBe(true);
    expect(run.logger.lines).toContain("Controller peer API version is now 24 (was 23)");
  });
});
