/**
 * Issue 9, item 3: text from an input or a server never starts a workflow command in the log
 * (the runner runs a line that starts with `::`, and splits lines at CR and LF). Through
 * dist/index.js, against the fakes.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FAKE_PASSWORD, FAKE_USERNAME, type FakeController, startFakeController } from "../fakes/appgate/fake-controller.ts";
import { standardFleet } from "../fakes/appgate/fleet.ts";
import { SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";
import { runAction } from "../helpers/run-action.ts";

/** Commands an attacker would like the runner to run: each carries the word PWNED where the runner would act on it. */
const PAYLOAD = "\n::add-mask::PWNED\n::stop-commands::PWNED\n  ::error title=PWNED::x\r::warning::PWNED\n##[add-mask]PWNED";

/** Lines of the step's output that the runner would take for a command carrying the payload. */
function injected(stdout: string): string[] {
  return stdout.split(/\r\n|\r|\n/).filter((l) => /^\s*::[^:]*(::)?PWNED|^\s*::\w+ title=PWNED|##\[[^\]]*\]PWNED/.test(l));
}

describe("dist/index.js: workflow commands smuggled in text", () => {
  it("the detector sees the payload when it is printed raw", () => {
    expect(injected(`x${PAYLOAD}`)).toHaveLength(5);
  });

  it("a version-label with a line break is refused with an input error naming it, and nothing is sent", async () => {
    const KEY = { keyId: "sbk_cmd", secret: "sbsec_cmd_secret", orgId: "org_c", scopes: [...SCOPES_ALL] };
    const fake = await startFakeStateBacked({ keys: [KEY] });
    try {
      fake.addMachine("shop");
      const dir = mkdtempSync(join(tmpdir(), "cmd-"));
      writeFileSync(join(dir, "a.js"), "export default {};");
      const r = await runAction(
        { operation: "publish-version", "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "shop", "version-file": join(dir, "a.js"), "version-label": `v1${PAYLOAD}` },
        { env: { GITHUB_WORKSPACE: dir } },
      );
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/::error::Input 'version-label': must be a single line without control characters/);
      expect(fake.requests).toHaveLength(0);
      expect(injected(r.stdout)).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  describe("Appgate appliance names from the Controller", () => {
    let controller: FakeController | undefined;
    afterEach(async () => controller?.close());

    it("are escaped before the log", async () => {
      const fleet = standardFleet().map((a) => (a.name === "gw-a1" ? { ...a, name: `gw-a1${PAYLOAD}` } : a));
      controller = await startFakeController({ appliances: fleet, installMs: 50, rebootMs: 50, readyLagMs: 10 });
      const r = await runAction({ operation: "complete-appliance-upgrade", "controller-url": controller.url, username: FAKE_USERNAME, password: FAKE_PASSWORD, "dry-run": "true" });
      // The name did reach the log (escaped), and no line of it is a command.
      expect(r.stdout).toContain("gw-a1");
      expect(r.stdout).toMatch(/PWNED/);
      expect(injected(r.stdout)).toEqual([]);
    });
  });
});
