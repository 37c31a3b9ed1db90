/**
 * Issue 9, item 7, through dist/index.js: a FIFO with no writer, a device and a link out of the
 * workspace are refused at once with an input error; the step neither hangs nor fills memory.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";
import { runAction } from "../helpers/run-action.ts";

const KEY = { keyId: "sbk_files", secret: "sbsec_files_secret", orgId: "org_f", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let ws: string;

beforeEach(async () => {
  fake = await startFakeStateBacked({ keys: [KEY] });
  fake.addMachine("app");
  fake.addVersion("app", "v1", { current: true });
  ws = mkdtempSync(join(tmpdir(), "e2e-ws-"));
});
afterEach(() => fake.close());

const auth = () => ({ "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "app" });
/** Well under the harness's own limit: a run that hangs on the file fails here. */
const opts = () => ({ env: { GITHUB_WORKSPACE: ws }, timeoutMs: 20_000 });

describe("dist/index.js: file inputs", () => {
  it("instances-file: a FIFO with no writer is refused at once", async () => {
    const pipe = join(ws, "names.fifo");
    execFileSync("mkfifo", [pipe]);
    const r = await runAction({ operation: "set-desired-version", ...auth(), "instances-file": pipe, "to-version": "current" }, opts());
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error::Input 'instances-file': '.*names\.fifo' is not a regular file \(a FIFO\)/);
    expect(fake.requests).toHaveLength(0);
  });

  it("version-file: a link to a file outside the workspace is refused; /dev/zero too", async () => {
    const outside = mkdtempSync(join(tmpdir(), "e2e-outside-"));
    writeFileSync(join(outside, "private.key"), "-----BEGIN PRIVATE KEY-----");
    symlinkSync(join(outside, "private.key"), join(ws, "bundle.js"));
    const r = await runAction({ operation: "publish-version", ...auth(), "version-file": join(ws, "bundle.js") }, opts());
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error::Input 'version-file': '.*bundle\.js' is outside the workspace/);
    expect(fake.requests).toHaveLength(0);

    const zero = await runAction({ operation: "publish-version", ...auth(), "version-file": "/dev/zero" }, { ...opts(), env: { GITHUB_WORKSPACE: "/" } });
    expect(zero.code).toBe(1);
    expect(zero.stdout).toMatch(/::error::Input 'version-file': '\/dev\/zero' is not a regular file \(a character device\)/);
  });
});
