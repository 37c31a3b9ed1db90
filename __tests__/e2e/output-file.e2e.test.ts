/**
 * Through dist/index.js: an output file the step cannot write (GITHUB_OUTPUT naming a directory)
 * fails the step with one clear line, not a stack trace, and the job summary is still written.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";
import { runAction } from "../helpers/run-action.ts";

const KEY = { keyId: "sbk_out", secret: "sbsec_out_secret", orgId: "org_o", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;

beforeEach(async () => {
  fake = await startFakeStateBacked({ keys: [KEY] });
  fake.addMachine("app");
  const v = fake.addVersion("app", "v1", { current: true });
  fake.addInstances("app", ["a", "b"], v.id);
});
afterEach(() => fake.close());

describe("dist/index.js: an unwritable GITHUB_OUTPUT", () => {
  it("fails the step with one message naming GITHUB_OUTPUT; the summary is still written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "e2e-output-dir-"));
    const run = await runAction(
      { operation: "fleet-status", "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "app" },
      { env: { GITHUB_OUTPUT: dir }, timeoutMs: 30_000 },
    );
    expect(run.code).toBe(1);
    const errors = run.stdout.split("\n").filter((l) => l.startsWith("::error"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/Could not write the step's outputs \(GITHUB_OUTPUT\): EISDIR/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).not.toMatch(/\n\s+at /);
    expect(run.summary).toContain("app");
  });
});
