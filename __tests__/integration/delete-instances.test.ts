import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildConfig, type DeleteInstancesConfig } from "../../src/config/config.ts";
import { deleteInstances } from "../../src/operations/delete-instances.ts";
import { makeContext as makeContextWith } from "../helpers/context.ts";
import { InstantClock } from "../helpers/instant-clock.ts";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";

const KEY = { keyId: "sbk_del", secret: "sbsec_del", orgId: "org_d", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let clock: InstantClock;
const makeContext = () => makeContextWith({ clock });

beforeEach(async () => {
  clock = new InstantClock();
  fake = await startFakeStateBacked({ keys: [KEY], now: () => clock.now() });
  fake.addMachine("my-machine");
  const v = fake.addVersion("my-machine", "v1", { current: true });
  fake.addInstances("my-machine", ["user-1234", "user-2", "user-3", "bystander"], v.id);
});
afterEach(() => fake.close());

async function config(inputs: Record<string, string>): Promise<DeleteInstancesConfig> {
  const all: Record<string, string> = {
    operation: "delete-instances",
    "api-url": fake.url,
    "api-key-id": KEY.keyId,
    "api-key-secret": KEY.secret,
    machine: "my-machine",
    "danger-data-will-be-deleted-forever": "true",
    ...inputs,
  };
  return (await buildConfig((n) => all[n] ?? "", { sha: "s", repository: "r", workspace: process.cwd() })) as DeleteInstancesConfig;
}

describe("delete-instances", () => {
  it("deletes exactly the named instances with the guard the API checks", async () => {
    const t = makeContext();
    await deleteInstances(await config({ instances: "user-1234,user-2" }), t.ctx);
    expect([...fake.machine("my-machine").instances.keys()].sort()).toEqual(["bystander", "user-3"]);
    const body = JSON.parse(fake.requests.find((r) => r.path === "/machines/my-machine/i/user-1234")!.body);
    expect(body).toEqual({
      dangerDataWillBeDeletedForever: true,
      hmacSha256OfMachineInstanceNameWithMachineNameKey: "OMrbCLyRO_ngkHnzeEnEm-l0GpFV9KC9jiMZsgeQEWo",
    });
    expect(t.report.outputs.get("succeeded-count")).toBe("2");
    expect(t.report.failure).toBeUndefined();
  });

  it("reports a 400 naming a validation parameter as failed with that name", async () => {
    fake.faults.push({
      method: "DELETE",
      action: { status: 400, body: { error: "bad", code: "invalid-parameter", parameter: "hmacSha256OfMachineInstanceNameWithMachineNameKey" } },
    });
    const t = makeContext();
    await deleteInstances(await config({ instances: "user-3" }), t.ctx);
    expect(t.report.outputs.get("failed-instances")).toBe("user-3");
    expect(t.report.summary.join()).toContain("parameter 'hmacSha256OfMachineInstanceNameWithMachineNameKey'");
    expect(fake.machine("my-machine").instances.has("user-3")).toBe(true);
  });

  it("says deletion needs instances.admin when the key lacks it", async () => {
    fake.keys.set(KEY.keyId, { ...KEY, scopes: ["instances.read", "instances.write"] });
    const t = makeContext();
    await deleteInstances(await config({ instances: "user-3" }), t.ctx);
    expect(t.report.failure).toMatch(/missing-scope.*'instances\.admin' scope/);
    expect(fake.machine("my-machine").instances.size).toBe(4);
  });

  it("a misspelt machine fails the run once, before any deletion is sent", async () => {
    const t = makeContext();
    await deleteInstances(await config({ instances: "user-1234,user-2", machine: "my-machne" }), t.ctx).catch((e: Error) => t.report.fail(e.message));
    expect(t.report.failure).toMatch(/reading machine 'my-machne' failed: HTTP 404.*check the 'machine' name/);
    expect(fake.requests.filter((r) => r.method === "DELETE")).toHaveLength(0);
  });

  it("counts an instance as deleted when the first DELETE's answer was lost and the retry finds it gone", async () => {
    fake.faults.push({ method: "DELETE", path: /user-3$/, action: { dropAfterProcessing: true } });
    const t = makeContext();
    await deleteInstances(await config({ instances: "user-3" }), t.ctx);
    expect(Object.fromEntries(t.report.outputs)).toMatchObject({ "succeeded-count": "1", "skipped-count": "0" });
    expect(fake.machine("my-machine").instances.has("user-3")).toBe(false);
  });

  it("retries a 503 on DELETE and counts a 404 as already gone", async () => {
    fake.faults.push({ method: "DELETE", path: /user-2$/, times: 2, action: { status: 503 } });
    const t = makeContext();
    await deleteInstances(await config({ instances: "user-2,nobody" }), t.ctx);
    expect(Object.fromEntries(t.report.outputs)).toMatchObject({ "succeeded-count": "1", "skipped-count": "1", "failed-count": "0" });
  });
});
