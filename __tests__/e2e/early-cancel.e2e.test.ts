import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runAction } from "../helpers/run-action.ts";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";

/** Issue 9, item 6: a cancel before the first PUT, through dist/index.js as the runner runs it. */
const KEY = { keyId: "sbk_early", secret: "sbsec_early_secret", orgId: "org_e", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let hang: { method: string; path: RegExp; times: number; action: { delayMs: number } };
const names = (n: number) => Array.from({ length: n }, (_, i) => `inst-${String(i).padStart(5, "0")}`);

beforeEach(async () => {
  fake = await startFakeStateBacked({ keys: [KEY] });
  fake.addMachine("app");
  fake.addVersion("app", "v1");
  fake.addVersion("app", "v2", { current: true });
  // The label lookup (the list of versions) hangs: the run is still resolving when cancelled.
  hang = { method: "GET", path: /\/machines\/app\/v$/, times: 10, action: { delayMs: 20_000 } };
  fake.faults.push(hang);
});
afterEach(() => fake.close());

const auth = () => ({ "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "app" });
/** The version listing has arrived at the fake (and hangs there). */
const listing = () => hang.times < 10;

describe("dist/index.js: SIGINT before the first PUT", () => {
  it("with instances-file: every named instance is listed as not sent, in the outputs, the file and the report", async () => {
    const dir = mkdtempSync(join(tmpdir(), "early-cancel-"));
    const file = join(dir, "names.txt");
    writeFileSync(file, `${names(10_000).join("\n")}\nbad name\n`);
    const r = await runAction({ operation: "set-desired-version", ...auth(), "instances-file": file, "to-version": "label:v2" }, { signal: { name: "SIGINT", when: listing } });
    expect(r.code).toBe(1);
    expect(fake.count("PUT", /./)).toBe(0);
    expect(r.outputs["failed-count"]).toBe("10001");
    const failed = r.outputs["failed-instances"]!.split("\n").filter(Boolean);
    expect(failed).toHaveLength(10_001);
    expect(readFileSync(r.outputs["failed-instances-file"]!, "utf8").split("\n").filter(Boolean)).toHaveLength(10_001);
    const report = readFileSync(r.outputs["report-file"]!, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { instance: string; outcome: string; reason: string });
    expect(report).toHaveLength(10_001);
    expect(report.filter((l) => l.outcome === "not-done" && l.reason === "not sent: the run was cancelled before any request")).toHaveLength(10_000);
    expect(r.summary).toContain("stopped before sending");
    expect(r.summary).toContain("not sent: the run was cancelled before any request");
  });

  it("with all-instances: the summary says that nothing was sent", async () => {
    const r = await runAction({ operation: "set-desired-version", ...auth(), "all-instances": "true", "to-version": "label:v2" }, { signal: { name: "SIGINT", when: listing } });
    expect(r.code).toBe(1);
    expect(fake.count("PUT", /./)).toBe(0);
    expect(r.outputs["failed-count"]).toBe("0");
    expect(r.summary).toMatch(/stopped before sending\n\nThe run was cancelled before the instances were selected: nothing was sent\./);
  });
});
