/**
 * The fake Controller is strict the way the spec is: these tests keep it honest. Its time is
 * driven by hand (`clock.advance`): nothing here waits on the wall clock or on machine speed.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  FAKE_PASSWORD,
  FAKE_USERNAME,
  type FakeController,
  type FakeControllerOptions,
  startFakeController,
} from "../fakes/appgate/fake-controller.ts";
import { standardFleet, type SpecOverrides } from "../fakes/appgate/fleet.ts";

let fake: FakeController;
afterEach(async () => fake?.close());

const V23 = "application/vnd.appgate.peer-v23+json";
const DEVICE = "2f0c5a8e-6b1d-4c3e-9a7f-0123456789ab";

/** The fake's clock, moved only by the test. */
const clock = {
  t: 1_800_000_000_000,
  now: (): number => clock.t,
  advance: (ms: number): void => {
    clock.t += ms;
  },
};

function start(overrides: SpecOverrides = {}, options: Partial<FakeControllerOptions> = {}): Promise<FakeController> {
  return startFakeController({ appliances: standardFleet(overrides), now: clock.now, ...options }).then((f) => (fake = f));
}

async function call(
  path: string,
  init: { method?: string; accept?: string | null; token?: string; body?: unknown; contentType?: string; signal?: AbortSignal } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (init.accept !== null) headers.Accept = init.accept ?? V23;
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers["Content-Type"] = init.contentType ?? "application/json";
  const res = await fetch(`${fake.url}/admin${path}`, {
    method: init.method ?? "GET",
    headers,
    ...(init.signal ? { signal: init.signal } : {}),
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

type Entry = { name: string; status: string; details: { volumeNumber?: number; roles: { controller?: { maintenanceMode: boolean } } } };
const statusList = async (token: string, query = ""): Promise<Entry[]> => (await call(`/appliances/status${query}`, { token })).body.data as Entry[];
const upgradeStatus = async (token: string, name: string): Promise<unknown> => (await call(`/appliances/${fake.idOf(name)}/upgrade`, { token })).body.status;
const complete = (token: string, name: string, switchPartition: boolean) =>
  call(`/appliances/${fake.idOf(name)}/upgrade/complete`, { method: "POST", token, body: { switchPartition } });

describe("fake Controller: protocol", () => {
  it("requires the versioned Accept header (406 otherwise), /version wants application/json", async () => {
    await start();
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
    await start();
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
    await start({}, { tokenTtlMs: 40 });
    const token = await login();
    clock.advance(39);
    expect((await call("/appliances", { token })).status).toBe(200);
    clock.advance(1);
    expect(await call("/appliances", { token })).toMatchObject({ status: 401, body: { message: "Token expired" } });
  });

  it("answers 503 to everything once the primary's complete is accepted, when asked to misroute", async () => {
    await start({}, { misrouteAfterPrimaryComplete: true });
    const token = await login();
    expect((await complete(token, "ctrl-1", true)).status).toBe(202);
    // The primary installs (its own API would answer 502), but the calls reach another Controller: 503.
    expect((await call("/appliances", { token })).status).toBe(503);
    expect((await call("/version", { accept: "application/json" })).status).toBe(503);
  });

  it("filters the status list as the spec's filterBy does (?name=…, by inclusion)", async () => {
    await start();
    const token = await login();
    expect((await statusList(token, "?name=gw-a")).map((e) => e.name)).toEqual(["gw-a1", "gw-a2"]);
    expect((await statusList(token, "?name=gw-a1")).map((e) => e.name)).toEqual(["gw-a1"]);
    expect((await statusList(token, `?id=${fake.idOf("ctrl-2")}`)).map((e) => e.name)).toEqual(["ctrl-2"]);
    expect(await statusList(token)).toHaveLength(13);
  });

  it("holds status-list reads when asked to hang, until the client gives up", async () => {
    await start();
    const token = await login();
    fake.hangStatusReads(1);
    const abort = new AbortController();
    const hung = call("/appliances/status", { token, signal: abort.signal });
    await vi.waitFor(() => expect(fake.held()).toBe(1));
    abort.abort();
    await expect(hung).rejects.toThrow();
    await vi.waitFor(() => expect(fake.held()).toBe(0));
    expect(await statusList(token)).toHaveLength(13);
    expect(fake.requests.filter((r) => r.path === "/admin/appliances/status").map((r) => r.status)).toEqual([0, 200]);
  });
});

describe("fake Controller: maintenance mode", () => {
  it("changes complete after a while and show in the status list", async () => {
    await start({}, { changeMs: 30 });
    const token = await login();
    const id = fake.idOf("ctrl-2");
    const r = await call(`/appliances/${id}/maintenance`, { method: "POST", token, body: { enabled: true } });
    expect(r.status).toBe(202);
    const change = r.body.id as string;
    clock.advance(29);
    expect((await call(`/appliances/${id}/change/${change}`, { token })).body).toMatchObject({ status: "running" });
    clock.advance(1);
    expect((await call(`/appliances/${id}/change/${change}`, { token })).body).toMatchObject({ status: "completed", result: "success" });
    const entry = (await statusList(token)).find((d) => d.name === "ctrl-2");
    expect(entry?.details.roles.controller?.maintenanceMode).toBe(true);
    expect((await call(`/appliances/${fake.idOf("ctrl-3")}/change/${change}`, { token })).status).toBe(404);
  });

  it("a change can also run for a number of reads, and the Controller stays busy for a number of status reads after leaving", async () => {
    await start({ "ctrl-2": { maintenance: true } }, { changeMs: 0, busyMs: 0, changeReads: 2, busyReads: 2 });
    const token = await login();
    const id = fake.idOf("ctrl-2");
    const change = (await call(`/appliances/${id}/maintenance`, { method: "POST", token, body: { enabled: false } })).body.id as string;
    const changeStatus = async (): Promise<unknown> => (await call(`/appliances/${id}/change/${change}`, { token })).body.status;
    expect([await changeStatus(), await changeStatus(), await changeStatus()]).toEqual(["running", "running", "completed"]);
    const ctrl2 = async (): Promise<string> => (await statusList(token, "?name=ctrl-2"))[0]!.status;
    expect([await ctrl2(), await ctrl2(), await ctrl2()]).toEqual(["busy", "busy", "healthy"]);
    expect(fake.events.filter((e) => e.appliance === "ctrl-2").map((e) => `${e.type}${e.detail ? ` ${e.detail}` : ""}`)).toEqual([
      "maintenance off",
      "maintenance-done off",
      "not-busy",
    ]);
  });

  it("a Controller in maintenance refuses writes: with the primary in maintenance, every write through it but maintenance mode's own answers 503", async () => {
    await start({}, { changeMs: 0 });
    const token = await login();
    expect((await call(`/appliances/${fake.idOf("ctrl-2")}/maintenance`, { method: "POST", token, body: { enabled: true } })).status).toBe(202);
    expect((await complete(token, "gw-a1", false)).status).toBe(202);
    expect((await call(`/appliances/${fake.idOf("ctrl-1")}/maintenance`, { method: "POST", token, body: { enabled: true } })).status).toBe(202);
    expect((await statusList(token, "?name=ctrl-1"))[0]!.details.roles.controller?.maintenanceMode).toBe(true);
    expect((await complete(token, "gw-a2", false)).status).toBe(503);
    expect((await call(`/appliances/${fake.idOf("gw-a2")}/upgrade`, { method: "DELETE", token })).status).toBe(503);
    expect((await call("/appliances", { token })).status).toBe(200);
    expect(fake.appliance("gw-a2").upgradeStatus).toBe("ready");
    // Maintenance mode itself can still be turned off (else nothing could turn it off again); then writes are accepted.
    expect((await call(`/appliances/${fake.idOf("ctrl-1")}/maintenance`, { method: "POST", token, body: { enabled: false } })).status).toBe(202);
    expect(fake.appliance("ctrl-1").maintenance).toBe(false);
    expect((await complete(token, "gw-a2", false)).status).toBe(202);
  });
});

describe("fake Controller: upgrade lifecycle", () => {
  it("refuses changes in the wrong state with 412", async () => {
    await start({ "gw-a1": { upgrade: "downloading" } });
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
    await start({}, { installMs: 40, rebootMs: 40, readyLagMs: 20 });
    const token = await login();
    const id = fake.idOf("gw-b1");
    expect((await complete(token, "gw-b1", false)).status).toBe(202);
    clock.advance(39);
    expect(await upgradeStatus(token, "gw-b1")).toBe("installing");
    clock.advance(1);
    expect(await upgradeStatus(token, "gw-b1")).toBe("success");
    expect(fake.appliance("gw-b1")).toMatchObject({ volume: 1, version: "6.4.2-31000" });
    expect((await call(`/appliances/${id}/upgrade/switch-partition`, { method: "POST", token })).status).toBe(202);
    expect((await call(`/appliances/${id}/upgrade`, { token })).status).toBe(502);
    expect((await statusList(token, "?name=gw-b1"))[0]!.status).toBe("offline");
    clock.advance(40);
    expect(await upgradeStatus(token, "gw-b1")).toBe("idle");
    expect(fake.appliance("gw-b1")).toMatchObject({ volume: 2, version: "6.5.0-32000" });
    expect((await statusList(token, "?name=gw-b1"))[0]!.status).toBe("busy");
    clock.advance(20);
    expect((await statusList(token, "?name=gw-b1"))[0]!.status).toBe("healthy");
    const w = fake.windows().find((x) => x.name === "gw-b1")!;
    expect(w.end! - w.start).toBe(40 + 40 + 20);
  });

  it("the primary's own API answers 502 while it installs and drops connections while it reboots", async () => {
    await start({}, { installMs: 60, rebootMs: 60, readyLagMs: 0 });
    const token = await login();
    expect((await complete(token, "ctrl-1", true)).status).toBe(202);
    expect((await call("/appliances", { token })).status).toBe(502);
    expect((await call("/version", { accept: "application/json" })).status).toBe(502);
    clock.advance(60);
    await expect(call("/appliances", { token })).rejects.toThrow();
    clock.advance(60);
    expect(await upgradeStatus(token, "ctrl-1")).toBe("idle");
    expect(fake.appliance("ctrl-1")).toMatchObject({ volume: 2, version: "6.5.0-32000" });
  });

  it("an install can last a number of status reads; the status can lag behind a complete", async () => {
    await start({ "gw-a1": { installMs: 0, installReads: 2 }, "gw-a2": { installMs: 0, statusLagReads: 2 } });
    const token = await login();
    await complete(token, "gw-a1", false);
    await complete(token, "gw-a2", false);
    const reads = async (name: string): Promise<unknown[]> => [await upgradeStatus(token, name), await upgradeStatus(token, name), await upgradeStatus(token, name)];
    expect(await reads("gw-a1")).toEqual(["installing", "installing", "success"]);
    expect(await reads("gw-a2")).toEqual(["ready", "ready", "success"]);
  });

  it("the primary keeps answering while its status lags", async () => {
    await start({ "ctrl-1": { statusLagReads: 1 } }, { installMs: 60 });
    const token = await login();
    await complete(token, "ctrl-1", true);
    expect(await upgradeStatus(token, "ctrl-1")).toBe("ready");
    expect((await call("/appliances", { token })).status).toBe(502);
  });

  it("with switchPartition:true an install can show a transient `success` before it reboots by itself", async () => {
    await start({ "ctrl-2": { installMs: 10, successReads: 2 } }, { rebootMs: 10, readyLagMs: 0 });
    const token = await login();
    await complete(token, "ctrl-2", true);
    clock.advance(10);
    expect([await upgradeStatus(token, "ctrl-2"), await upgradeStatus(token, "ctrl-2")]).toEqual(["success", "success"]);
    expect((await call(`/appliances/${fake.idOf("ctrl-2")}/upgrade`, { token })).status).toBe(502);
    clock.advance(10);
    expect(await upgradeStatus(token, "ctrl-2")).toBe("idle");
    expect(fake.appliance("ctrl-2")).toMatchObject({ volume: 2, version: "6.5.0-32000" });
  });

  it("a reboot can come back on the old partition, and an entry can lack its volumeNumber", async () => {
    await start({ "gw-c1": { bootsOldPartition: true }, "gw-c2": { noVolumeNumber: true } }, { installMs: 0, rebootMs: 10, readyLagMs: 0 });
    const token = await login();
    await complete(token, "gw-c1", true);
    clock.advance(10);
    expect(await upgradeStatus(token, "gw-c1")).toBe("idle");
    expect(fake.appliance("gw-c1")).toMatchObject({ volume: 1, version: "6.4.2-31000" });
    const entries = await statusList(token, "?name=gw-c");
    expect(entries.map((e) => e.details.volumeNumber)).toEqual([1, undefined]);
  });
});

describe("fake Controller: backup, files, prepare (issue 12)", () => {
  it("refuses what the real one does: prepare unless idle or failed, cancel while installing, a download without …+gpg or Range", async () => {
    await start({ "gw-a1": { upgrade: "installing" }, "gw-a2": { upgrade: "idle" } });
    const token = await login();
    const prepare = (n: string, imageUrl: unknown) => call(`/appliances/${fake.idOf(n)}/upgrade/prepare`, { method: "POST", token, body: { imageUrl } });
    expect((await prepare("gw-b1", "https://x.test/appgate-6.5.0-32000-release.img.zip")).status).toBe(412); // ready
    expect((await prepare("gw-a2", 5)).status).toBe(422);
    expect((await prepare("gw-a2", "controller://ctrl-1.example.test:443/appgate-6.5.0-32000-release.img.zip")).status).toBe(422); // no such file
    expect((await prepare("gw-a2", "https://x.test/appgate-6.5.0-32000-release.img.zip")).status).toBe(202);
    expect(fake.appliance("gw-a2").upgradeStatus).toBe("started");
    expect((await call(`/appliances/${fake.idOf("gw-a1")}/upgrade`, { method: "DELETE", token })).status).toBe(412);

    const started = await call(`/appliances/${fake.idOf("ctrl-1")}/backup`, { method: "POST", token, body: { logs: false, audit: false } });
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    const file = `/appliances/${fake.idOf("ctrl-1")}/backup/${id}`;
    expect((await call(`${file}/status`, { token })).body.status).toBe("processing");
    clock.advance(1_000);
    expect((await call(`${file}/status`, { token })).body).toMatchObject({ status: "done", result: "success" });
    expect((await call(file, { token })).status).toBe(406); // …+json
    expect((await call(file, { token, accept: "application/vnd.appgate.peer-v23+gpg" })).status).toBe(400); // no Range
    const res = await fetch(`${fake.url}/admin${file}`, { headers: { Authorization: `Bearer ${token}`, Accept: "application/vnd.appgate.peer-v23+gpg", Range: "bytes=10-19" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 10-19/${fake.backupContent().length}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(fake.backupContent().subarray(10, 20))).toBe(true);
  });

  it("a disabled Backup API refuses a backup, and says so in the global settings", async () => {
    await start({}, { backupApiEnabled: false });
    const token = await login();
    expect((await call("/global-settings", { token })).body.backupApiEnabled).toBe(false);
    expect((await call(`/appliances/${fake.idOf("ctrl-1")}/backup`, { method: "POST", token, body: {} })).status).toBe(412);
  });
});
