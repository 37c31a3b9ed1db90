import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ActionRun, runAction, visibleText } from "../helpers/run-action.ts";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";

/** The built dist/index.js, run as the runner runs it, against the fake API. */
const KEY = { keyId: "sbk_e2e", secret: "sbsec_e2e_very_secret", orgId: "org_e", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let dir: string;

beforeEach(async () => {
  fake = await startFakeStateBacked({ keys: [KEY] });
  fake.addMachine("shop");
  dir = mkdtempSync(join(tmpdir(), "e2e-"));
});
afterEach(() => fake.close());

const auth = () => ({ "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "shop" });

function noSecrets(run: ActionRun): void {
  expect(run.stdout).toContain(`::add-mask::${KEY.secret}`); // masked for the runner…
  expect(visibleText(run)).not.toContain(KEY.secret); // …and never printed
}

describe("dist/index.js: publish", () => {
  it("publishes a version then a migration from previous-version-id, as the README's workflow does", async () => {
    const old = fake.addVersion("shop", "v1", { current: true });
    const versionCode = `export default {}; // ${"é".repeat(3000)}`;
    const versionFile = join(dir, "shop.js");
    writeFileSync(versionFile, versionCode);
    const v = await runAction({ operation: "publish-version", ...auth(), "version-file": versionFile, "version-label": "v2", "make-current": "true" });
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.outputs).toMatchObject({ created: "true", "previous-version-id": old.id });
    const newId = v.outputs["version-id"]!;
    expect(fake.machine("shop").currentVersionId).toBe(newId);
    expect(fake.machine("shop").versions.find((x) => x.id === newId)!.code.equals(Buffer.from(versionCode))).toBe(true);
    expect(v.summary).toContain("Published version `v2` of `shop`");
    expect(v.summary).toContain(newId);
    expect(v.summary).toContain("0123456789ab"); // the commit
    expect(v.summary).toContain("https://github.com/acme/backend/actions/runs/4242");
    noSecrets(v);

    const migFile = join(dir, "mig.js");
    writeFileSync(migFile, "export function upgradeState(s) { return s; }");
    const m = await runAction({
      operation: "publish-migration",
      ...auth(),
      "migration-file": migFile,
      "from-version": v.outputs["previous-version-id"]!,
      "to-version": newId,
    });
    expect(m.code, m.stdout + m.stderr).toBe(0);
    expect(m.outputs).toMatchObject({ "from-version-id": old.id, "to-version-id": newId });
    const mig = fake.machine("shop").migrations.at(-1)!;
    expect(m.outputs["migration-id"]).toBe(mig.id);
    expect(mig.code.toString()).toBe("export function upgradeState(s) { return s; }");
    expect(m.summary).toContain("Published migration of `shop`");
    noSecrets(m);
  });

  it("dry run: resolves, reports the plan, creates nothing", async () => {
    fake.addVersion("shop", "v1", { current: true });
    const f = join(dir, "a.js");
    writeFileSync(f, "export default {};");
    const r = await runAction({ operation: "publish-version", ...auth(), "version-file": f, "dry-run": "true" });
    expect(r.code).toBe(0);
    expect(r.outputs.created).toBe("false");
    expect(fake.machine("shop").versions).toHaveLength(1);
    expect(fake.requests.filter((x) => x.method !== "GET")).toHaveLength(0);
    expect(r.summary).toContain("Dry run: would publish a version of `shop`");
  });

  it("a failing upload fails the step with the upload server's answer, writes the summary, never finalizes", async () => {
    fake.faults.push({ path: /^\/code-bucket$/, times: 10, action: { status: 400, body: "<Error><Code>EntityTooLarge</Code></Error>" } });
    const f = join(dir, "a.js");
    writeFileSync(f, "export default {};");
    const r = await runAction({ operation: "publish-version", ...auth(), "version-file": f });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error::uploading the version's code failed: the upload server answered HTTP 400: .*EntityTooLarge/);
    expect(r.stdout).not.toMatch(/\n\s+at /); // no stack trace
    expect(fake.count("PUT", /\/v\//)).toBe(0);
    expect(r.summary).toContain("did not finish");
    expect(r.summary).toMatch(/^### ❌ Publishing \*\*\w+\*\* of `shop` did not finish; the new version was not created\n/);
    expect(r.summary).toContain("**Error:** uploading the version's code failed");
    expect(r.outputs.created).toBe("false");
    noSecrets(r);
  });

  it("SIGTERM during the upload: stops within 2 seconds, writes what was done, never finalizes", async () => {
    const old = fake.addVersion("shop", "v1", { current: true });
    fake.faults.push({ path: /^\/code-bucket$/, action: { delayMs: 30_000 } });
    const f = join(dir, "a.js");
    writeFileSync(f, "export default {};");
    const r = await runAction(
      { operation: "publish-version", ...auth(), "version-file": f },
      { signal: { name: "SIGTERM", when: () => fake.requests.some((x) => x.method === "POST" && x.path === "/machines/shop/v") } },
    );
    expect(r.code).toBe(1);
    expect(r.exitAfterSignalMs).toBeLessThan(2000);
    expect(r.outputs).toMatchObject({ "previous-version-id": old.id, created: "false" });
    expect(r.summary).toContain("did not finish");
    expect(r.stdout).toMatch(/::error::Cancelled \(SIGTERM\)/);
    expect(fake.count("PUT", /\/v\//)).toBe(0);
  });

  it("bad input fails before any request, naming the input", async () => {
    const r = await runAction({ operation: "publish-version", ...auth(), "version-file": "x.js", "make-current": "maybe" });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("::error::Input 'make-current': must be 'true' or 'false', got 'maybe'");
    expect(r.summary).toContain("No request was sent");
    expect(r.summary).toMatch(/^### ❌ Not started: the input `make-current` needs a change\n\n\*\*What to do:\*\* Input 'make-current': must be 'true' or 'false'/);
    expect(r.summary).toContain("Input 'make-current'");
    expect(fake.requests).toHaveLength(0);
  });
});
