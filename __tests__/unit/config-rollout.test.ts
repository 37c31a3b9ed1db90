import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { type SetDesiredVersionConfig, buildConfig } from "../../src/config/config.ts";
import { InputError } from "../../src/config/inputs.ts";

const BASE = { operation: "set-desired-version", "api-key-id": "sbk_abc", "api-key-secret": "sbsec_xyz", machine: "m", "to-version": "current", "all-instances": "true" };

const build = (inputs: Record<string, string>) => buildConfig((n) => ({ ...BASE, ...inputs })[n] ?? "", { sha: "s", repository: "r", workspace: tmpdir() });

async function inputError(inputs: Record<string, string>): Promise<InputError> {
  const err = await build(inputs).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

describe("config: rollout inputs of set-desired-version", () => {
  it("defaults to one wave of 100%: today's behaviour", async () => {
    const c = (await build({})) as SetDesiredVersionConfig;
    expect(c.rollout).toEqual({ waves: [10000], soakMs: 300_000, minUpgradedPercent: 0, rollbackOnHalt: false });
  });

  it("reads waves, soak, gates and rollback", async () => {
    const c = (await build({ waves: "1%, 10%, 100%", "wave-soak-seconds": "1", "max-error-logs": "0", "min-upgraded-percent": "80", "rollback-on-halt": "true" })) as SetDesiredVersionConfig;
    expect(c.rollout).toEqual({ waves: [100, 1000, 10000], soakMs: 1000, maxErrorLogs: 0, minUpgradedPercent: 80, rollbackOnHalt: true });
  });

  it.each([
    [{ waves: "10%, 5%" }, "waves", /must increase/],
    [{ waves: "50" }, "waves", /not a percentage/],
    [{ waves: "1%,10%", "wave-soak-seconds": "-1" }, "wave-soak-seconds", /whole number/],
    [{ waves: "1%,10%", "wave-soak-seconds": "999999" }, "wave-soak-seconds", /from 0 to 21600/],
    [{ waves: "1%,10%", "max-error-logs": "lots" }, "max-error-logs", /whole number/],
    [{ waves: "1%,10%", "min-upgraded-percent": "101" }, "min-upgraded-percent", /from 0 to 100/],
    [{ waves: "1%,10%", "rollback-on-halt": "yes" }, "rollback-on-halt", /'true' or 'false'/],
    [{ "max-error-logs": "0" }, "max-error-logs", /several waves.*'waves' is 100%/],
    [{ waves: "5%", "min-upgraded-percent": "10" }, "min-upgraded-percent", /several waves.*'waves' is 5%/],
    [{ "rollback-on-halt": "true" }, "rollback-on-halt", /several waves/],
  ] as [Record<string, string>, string, RegExp][])("refuses %j naming %s", async (inputs, input, message) => {
    const e = await inputError(inputs);
    expect(e.input).toBe(input);
    expect(e.message).toMatch(message);
  });

  it("accepts settings that change nothing with one wave (a shared workflow may always pass them)", async () => {
    const c = (await build({ "wave-soak-seconds": "60", "rollback-on-halt": "false", "min-upgraded-percent": "0" })) as SetDesiredVersionConfig;
    expect(c.rollout.waves).toEqual([10000]);
  });

  it("refuses the rollout inputs for other operations", async () => {
    const e = await inputError({ operation: "delete-instances", waves: "1%,100%", instances: "a", "all-instances": "", "danger-data-will-be-deleted-forever": "true", "to-version": "" });
    expect(e.input).toBe("waves");
    expect(e.message).toMatch(/does not apply to operation 'delete-instances'/);
  });
});
