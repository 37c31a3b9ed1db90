import { StateBackedClient } from "@statebacked/client";
import { signToken } from "@statebacked/token";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";

/**
 * Keeps the fake honest: the official client and token library, unchanged, talk to the fake
 * as they would to the real API, and succeed; and what they send where they could go wrong is refused.
 */
const KEY = { keyId: "sbk_conformance", secret: "sbsec_conformance_secret", orgId: "org_c", scopes: [...SCOPES_ALL] };

let fake: FakeStateBacked;
let client: StateBackedClient;

beforeAll(async () => {
  fake = await startFakeStateBacked({ keys: [KEY], pageSize: 2 });
  fake.addMachine("shop");
  const token = await signToken({ stateBackedKeyId: KEY.keyId, stateBackedSecretKey: KEY.secret }, { sub: "ci" }, { expires: { in: "10m" } });
  client = new StateBackedClient({ token: async () => token }, { apiHost: fake.url });
});
afterAll(() => fake.close());

describe("the fake State Backed API against @statebacked/client", () => {
  it("creates versions (gzipped and plain) and a migration, and lists them", async () => {
    const code1 = "export default { id: 'v1' };";
    const v1 = await client.machineVersions.create("shop", { clientInfo: "v1", gzippedCode: gzipSync(code1), makeCurrent: true });
    const v2 = await client.machineVersions.create("shop", { clientInfo: "v2", code: "export default { id: 'v2' };" });
    expect(v1.machineVersionId).toMatch(/^ver_[A-Za-z0-9_-]{22}$/);
    const shop = fake.machine("shop");
    expect(shop.currentVersionId).toBe(v1.machineVersionId);
    expect(shop.versions.find((v) => v.id === v1.machineVersionId)!.code.toString()).toBe(code1);
    expect(fake.uploads.map((u) => u.filename)).toEqual(["shop.js", "shop.js"]);

    const mig = await client.machineVersionMigrations.create("shop", {
      fromMachineVersionId: v1.machineVersionId,
      toMachineVersionId: v2.machineVersionId,
      gzippedCode: gzipSync("export function upgradeState(s) { return s; }"),
    });
    // The spec's response schema names the key machineVersionId; the server sends machineVersionMigrationId.
    expect((mig as Record<string, unknown>).machineVersionMigrationId).toBe(fake.machine("shop").migrations.at(-1)!.id);
    expect(fake.uploads.at(-1)!.filename).toBe(`shop_${v1.machineVersionId}_to_${v2.machineVersionId}.js`);

    fake.addVersion("shop", "v3");
    const page1 = await client.machineVersions.list("shop");
    expect(page1.versions.map((v) => v.clientInfo)).toEqual(["v1", "v2"]);
    expect(page1.cursor).toBeTruthy();
    const page2 = await client.machineVersions.list("shop", { cursor: page1.cursor! });
    expect(page2.versions.map((v) => v.clientInfo)).toEqual(["v3"]);
    expect(page2.cursor).toBeUndefined();

    const m = await client.machines.get("shop");
    expect(m.machine.currentVersion?.id).toBe(v1.machineVersionId);
  });

  it("sets desired versions along a migration path and refuses one without a path", async () => {
    const shop = fake.machine("shop");
    const [v1, v2] = shop.versions;
    fake.addInstances("shop", ["u1", "u2"], v1!.id);
    await client.machineInstances.admin.updateDesiredVersion("shop", "u1", { targetMachineVersionId: v2!.id });
    expect(shop.instances.get("u1")!.desiredVersionId).toBe(v2!.id);
    const listed = await client.machineInstances.list("shop");
    expect(listed.instances.map((i) => [i.slug, i.machineVersion.id])).toEqual([["u1", v1!.id], ["u2", v1!.id]]);
    const admin = await client.machineInstances.admin.get("shop", "u1");
    expect(admin.desiredMachineVersion?.id).toBe(v2!.id);
    fake.addInstances("shop", ["u3"], v2!.id);
    await expect(client.machineInstances.admin.updateDesiredVersion("shop", "u3", { targetMachineVersionId: v1!.id })).rejects.toMatchObject({
      code: "no-migration-path",
    });
  });

  it("deletes an instance with the client's own HMAC and nothing else", async () => {
    await client.machineInstances.dangerously.delete("shop", "u2", { dangerDataWillBeDeletedForever: true });
    expect(fake.machine("shop").instances.has("u2")).toBe(false);
    expect(fake.machine("shop").instances.has("u1")).toBe(true);
  });

  it("refuses an expired token, a wrong secret and a missing scope", async () => {
    const expired = await signToken({ stateBackedKeyId: KEY.keyId, stateBackedSecretKey: KEY.secret }, { sub: "ci" }, { expires: { at: Math.floor(Date.now() / 1000) - 10 } });
    const bad = await signToken({ stateBackedKeyId: KEY.keyId, stateBackedSecretKey: "sbsec_wrong" }, { sub: "ci" }, { expires: { in: "10m" } });
    for (const t of [expired, bad]) {
      const c = new StateBackedClient({ token: async () => t }, { apiHost: fake.url });
      await expect(c.machines.get("shop")).rejects.toMatchObject({ status: 401 });
    }
    fake.keys.set("sbk_readonly", { keyId: "sbk_readonly", secret: "sbsec_ro", orgId: "org_c", scopes: ["machines.read"] });
    const ro = await signToken({ stateBackedKeyId: "sbk_readonly", stateBackedSecretKey: "sbsec_ro" }, { sub: "ci" }, { expires: { in: "10m" } });
    const c = new StateBackedClient({ token: async () => ro }, { apiHost: fake.url });
    await expect(c.machineVersions.create("shop", { clientInfo: "x", code: "x" })).rejects.toMatchObject({ code: "missing-scope" });
  });
});
