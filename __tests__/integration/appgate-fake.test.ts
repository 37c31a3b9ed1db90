/** The fake Controller is strict the way the spec is: these tests keep it honest. */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { FAKE_PASSWORD, FAKE_USERNAME, type FakeController, startFakeController } from "../fakes/appgate/fake-controller.ts";
import { standardFleet } from "../fakes/appgate/fleet.ts";

let fake: FakeController;
afterEach(async () => fake?.close());

const V23 = "application/vnd.appgate.peer-v23+json";
const DEVICE = "2f0c5a8e-6b1d-4c3e-9a7f-0123456789ab";

async function call(
  path: string,
  init: { method?: string; accept?: string | null; token?: string; body?: unknown; contentType?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (init.accept !== null) headers.Accept = init.accept ?? V23;
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers["Content-Type"] = init.contentType ?? "application/json";
  const res = await fetch(`${fake.url}/admin${path}`, {
    method: init.method ?? "GET",
    headers,
    ...(init.body !== undefined ? { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

async function login(): Promise<string> {
  const r = await call("/login", { method: "POST", body: { providerName: "local", username: FAKE_USERNAME, password: FAKE_PASSWORD, deviceId: DEVICE } });
  expect(r.status).toBe(200);
  return r.body.token as string;
}

describe("fake Controller: protocol", () => {
  it("requires the versioned Accept header (406 otherwise), /version wants application/json", async () => {
    fake = await startFakeController({ appliances: standardFleet() });
    expect((await call("/version")).status).toBe(406);
    expect(await call("/version", { accept: "application/json" })).toMatchObject({ status: 200, body: { peerVersion: 23, lowestPeerVersionSupported: 18 } });
    const token = await login();
    expect((await call("/appliances", { token, accept: null })).status).toBe(406);
    expect((await call("/appliances", { token, accept: "application/json" })).status).toBe(406);
    expect((await call("/appliances", { token, accept: "application/vnd.appgate.peer-v24+json" })).status).toBe(406);
    expect((await call("/appliances", { token, accept: "application/vnd.appgate.peer-v17+json" })).status).toBe(406);
    expect((await call("/appliances", { token, accept: "application/vnd.appgate.peer-v18+json" })).status).toBe(200);
    const r = await call("/login", { method: "POST", accept: "application/vnd.appgate.peer-v30+json", body: {} });
    expect(r).toMatchObject({ status: 406, body: { minSupportedVersion: 18, maxSupportedVersion: 23 } });
  });

  it("checks the login body and the credentials, then requires the Bearer token", async () => {
    fake = await startFakeController({ appliances: standardFleet() });
    expect((await call("/appliances")).status).toBe(401);
    expect((await call("/appliances", { token: "made-up" })).status).toBe(401);
    const noDevice = await call("/login", { method: "POST", body: { providerName: "local", username: FAKE_USERNAME, password: FAKE_PASSWORD } });
    expect(noDevice).toMatchObject({ status: 422, body: { errors: [{ field: "deviceId" }] } });
    const notUuid = await call("/login", { method: "POST", body: { providerName: "local", username: FAKE_USERNAME, password: FAKE_PASSWORD, deviceId: "laptop" } });
    expect(notUuid.status).toBe(422);
    const wrong = await call("/login", { method: "POST", body: { providerName: "local", username: FAKE_USERNAME, password: "nope", deviceId: DEVICE } });
    expect(wrong.status).toBe(401);
    const textBody = await call("/login", { method: "POST", body: "{}", contentType: "text/plain" });
    expect(textBody.status).toBe(400);
    const token = await login();
    const list = await call("/appliances", { token });
    expect(list.status).toBe(200);
    expect((list.body.data as unknown[]).length).toBe(13);
    expect(fake.logins).toEqual([{ username: FAKE_USERNAME, providerName: "local", deviceId: DEVICE }]);
  });

  it("expires tokens after their lifetime", async () => {
    fake = await startFakeController({ appliances: standardFleet(), tokenTtlMs: 40 });
    const token = await login();
    expect((await call("/appliances", { token })).status).toBe(200);
    await sleep(60);
    expect(await call("/appliances", { token })).toMatchObject({ status: 401, body: { message: "Token expired" } });
  });

  it("answers 503 to everything once the primary's complete is accepted, when asked to misroute", async () => {
    fake = await startFakeController({ appliances: standardFleet(), misrouteAfterPrimaryComplete: true, installMs: 10_000 });
    const token = await login();
    expect((await call(`/appliances/${fake.idOf("ctrl-1")}/upgrade/complete`, { method: "POST", token, body: { switchPartition: true } })).status).toBe(202);
    // The primary installs (its own API would answer 502), but the calls reach another Controller: 503.
    expect((await call("/appliances", { token })).status).toBe(503);
    expect((await call("/version", { accept: "application/json" })).status).toBe(503);
  });
});

describe("fake Controller: upgrade lifecycle", () => {
  it("refuses changes in the wrong state with 412", async () => {
    fake = await startFakeController({
      appliances: standardFleet({ "gw-a1": { upgrade: "downloading" } }),
      installMs: 10_000,
    });
    const token = await login();
    const id = (n: string): string => fake.idOf(n);
    expect((await call(`/appliances/${id("gw-a1")}/upgrade/complete`, { method: "POST", token, body: {} })).status).toBe(412);
    expect((await call(`/appliances/${id("gw-a2")}/upgrade/switch-partition`, { method: "POST", token, body: {} })).status).toBe(412);
    expect((await call(`/appliances/${id("gw-a2")}/upgrade/complete`, { method: "POST", token, body: { switchPartition: "yes" } })).status).toBe(400);
    expect((await call(`/appliances/${id("gw-a2")}/upgrade/complete`, { method: "POST", token, body: {} })).status).toBe(202);
    expect((await call(`/appliances/${id("gw-a2")}/upgrade/complete`, { method: "POST", token, body: {} })).status).toBe(412);
    expect((await call(`/appliances/${id("gw-a2")}/upgrade`, { method: "DELETE", token })).status).toBe(412);
    expect((await call(`/appliances/${id("gw-a2")}/maintenance`, { method: "POST", token, body: { enabled: true } })).status).toBe(412);
    expect((await call(`/appliances/${id("ctrl-2")}/maintenance`, { method: "POST", token, body: {} })).status).toBe(422);
    expect((await call(`/appliances/00000000-0000-4000-8000-000000000000/upgrade`, { token })).status).toBe(404);
    expect(fake.appliance("gw-a2")).toMatchObject({ upgradeStatus: "installing", phase: "installing" });
  });

  it("installs, waits for switch-partition, reboots (502), then comes back idle on the new partition and version", async () => {
    fake = await startFakeController({ appliances: standardFleet(), installMs: 40, rebootMs: 40, readyLagMs: 20 });
    const token = await login();
    const id = fake.idOf("gw-b1");
    const status = async (): Promise<unknown> => (await call(`/appliances/${id}/upgrade`, { token })).body.status;
    expect((await call(`/appliances/${id}/upgrade/complete`, { method: "POST", token, body: { switchPartition: false } })).status).toBe(202);
    expect(await status()).toBe("installing");
    await sleep(60);
    expect(await status()).toBe("success");
    expect(fake.appliance("gw-b1")).toMatchObject({ volume: 1, version: "6.4.2-31000" });
    const sw = await call(`/appliances/${id}/upgrade/switch-partition`, { method: "POST", token });
    expect(sw.status).toBe(202);
    expect((await call(`/appliances/${id}/upgrade`, { token })).status).toBe(502);
    const live = await call("/appliances/status", { token });
    expect((live.body.data as { name: string; status: string }[]).find((d) => d.name === "gw-b1")?.status).toBe("offline");
    await sleep(60);
    expect(await status()).toBe("idle");
    expect(fake.appliance("gw-b1")).toMatchObject({ volume: 2, version: "6.5.0-32000" });
    await sleep(30);
    const w = fake.windows().find((x) => x.name === "gw-b1")!;
    expect(w.end! - w.start).toBeGreaterThanOrEqual(40 + 40 + 20);
  });

  it("the primary's own API answers 502 while it installs and drops connections while it reboots", async () => {
    fake = await startFakeController({ appliances: standardFleet(), installMs: 60, rebootMs: 60, readyLagMs: 0 });
    const token = await login();
    expect((await call(`/appliances/${fake.idOf("ctrl-1")}/upgrade/complete`, { method: "POST", token, body: { switchPartition: true } })).status).toBe(202);
    expect((await call("/appliances", { token })).status).toBe(502);
    expect((await call("/version", { accept: "application/json" })).status).toBe(502);
    await sleep(80);
    await expect(call("/appliances", { token })).rejects.toThrow();
    await sleep(60);
    expect((await call(`/appliances/${fake.idOf("ctrl-1")}/upgrade`, { token })).body.status).toBe("idle");
    expect(fake.appliance("ctrl-1")).toMatchObject({ volume: 2, version: "6.5.0-32000" });
  });

  it("maintenance mode changes complete after a while and show in the status list", async () => {
    fake = await startFakeController({ appliances: standardFleet(), changeMs: 30 });
    const token = await login();
    const id = fake.idOf("ctrl-2");
    const r = await call(`/appliances/${id}/maintenance`, { method: "POST", token, body: { enabled: true } });
    expect(r.status).toBe(202);
    const change = r.body.id as string;
    expect((await call(`/appliances/${id}/change/${change}`, { token })).body).toMatchObject({ status: "running" });
    await sleep(40);
    expect((await call(`/appliances/${id}/change/${change}`, { token })).body).toMatchObject({ status: "completed", result: "success" });
    const live = await call("/appliances/status", { token });
    const entry = (live.body.data as { name: string; details: { roles: { controller: { maintenanceMode: boolean } } } }[]).find((d) => d.name === "ctrl-2");
    expect(entry?.details.roles.controller.maintenanceMode).toBe(true);
    expect((await call(`/appliances/${fake.idOf("ctrl-3")}/change/${change}`, { token })).status).toBe(404);
  });
});
