import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runAction } from "../helpers/run-action.ts";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";

/** dist/index.js as GitHub Enterprise Server runs it: its own server URL, and before 3.6 no job summary file. */
const KEY = { keyId: "sbk_ghes", secret: "sbsec_ghes_secret", orgId: "org_g", scopes: [...SCOPES_ALL] };
const NO_SUMMARY = "No job summary is written: this runner does not provide GITHUB_STEP_SUMMARY (GitHub Enterprise Server before 3.6).";
let fake: FakeStateBacked;
let versionFile: string;

beforeEach(async () => {
  fake = await startFakeStateBacked({ keys: [KEY] });
  fake.addMachine("shop");
  versionFile = join(mkdtempSync(join(tmpdir(), "e2e-ghes-")), "shop.js");
  writeFileSync(versionFile, "export default {};");
});
afterEach(() => fake.close());

const inputs = () => ({ operation: "publish-version", "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "shop", "version-file": versionFile });

describe("dist/index.js on GitHub Enterprise Server", () => {
  it("links in the summary use GITHUB_SERVER_URL", async () => {
    const run = await runAction(inputs(), { env: { GITHUB_SERVER_URL: "https://ghes.example.corp" } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.summary).toContain("https://ghes.example.corp/acme/backend/actions/runs/4242");
    expect(run.summary).toContain("https://ghes.example.corp/acme/backend/commit/0123456789abcdef0123456789abcdef01234567");
    expect(run.summary).not.toContain("https://github.com");
    expect(run.stdout).not.toContain(NO_SUMMARY);
  });

  it("without GITHUB_STEP_SUMMARY the step works, sets its outputs and says once that no summary is written", async () => {
    const run = await runAction(inputs(), { env: { GITHUB_STEP_SUMMARY: undefined, GITHUB_SERVER_URL: "https://ghes.example.corp" } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs["created"]).toBe("true");
    expect(run.stdout.split("\n").filter((l) => l === NO_SUMMARY)).toHaveLength(1);
    expect(run.stderr).toBe("");
  });

  it("without GITHUB_STEP_SUMMARY a failing step still fails with its error, once, and no crash", async () => {
    fake.faults.push({ method: "POST", path: /\/machines\/shop\/v$/, action: { status: 400 } });
    const run = await runAction(inputs(), { env: { GITHUB_STEP_SUMMARY: undefined } });
    expect(run.code).toBe(1);
    expect(run.stdout.split("\n").filter((l) => l.startsWith("::error::"))).toHaveLength(1);
    expect(run.stdout.split("\n").filter((l) => l === NO_SUMMARY)).toHaveLength(1);
    expect(run.stderr).toBe("");

    const bad = await runAction({ ...inputs(), "version-file": "" }, { env: { GITHUB_STEP_SUMMARY: undefined } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/::error::.*version-file/);
    expect(bad.stdout.split("\n").filter((l) => l === NO_SUMMARY)).toHaveLength(1);
  });
});
