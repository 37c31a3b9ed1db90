import { afterEach, describe, expect, it, vi } from "vitest";
import { AppgateClient } from "../../src/appgate/api/client.ts";
import { AppgateApiError, AuthError, MisroutedError } from "../../src/appgate/api/errors.ts";
import type { AppgateAuth } from "../../src/appgate/api/session.ts";
import { HttpClient } from "../../src/http/client.ts";
import { systemClock } from "../../src/runtime/clock.ts";
import { MemoryLogger } from "../../src/runtime/logger.ts";
import { FAKE_PASSWORD, FAKE_USERNAME, type FakeController, startFakeController } from "../fakes/appgate/fake-controller.ts";
import { standardFleet } from "../fakes/appgate/fleet.ts";
import { TEST_DEVICE_ID } from "../fakes/appgate/harness.ts";
import { TEST_CA_PEM, TEST_SERVER_CERT_PEM, TEST_SERVER_KEY_PEM } from "../fakes/appgate/tls-fixture.ts";
import { TransportError } from "../../src/http/retry.ts";

let fake: FakeController;
let http: HttpClient;
afterEach(async () => {
  await http?.destroy();
  await fake?.close();
});

const password: AppgateAuth = { kind: "password", username: FAKE_USERNAME, password: FAKE_PASSWORD, providerName: "local", deviceId: TEST_DEVICE_ID };

function client(auth: AppgateAuth = password, apiVersion?: number, onToken?: (t: string) => void, ca?: string): { c: AppgateClient; logger: MemoryLogger } {
  const logger = new MemoryLogger();
  http = new HttpClient({
    clock: systemClock,
    logger,
    policy: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10, maxRetryAfterMs: 100 },
    ...(ca !== undefined ? { ca } : {}),
  });
  const c = new AppgateClient({
    http,
    baseUrl: new URL(`${fake.url}/admin`),
    auth,
    logger,
    ...(apiVersion !== undefined ? { apiVersion } : {}),
    ...(onToken ? { onToken } : {}),
  });
  return { c, logger };
}

describe("AppgateClient", () => {
  it("reads the API version from GET /version, signs in with the device id, sends the versioned Accept header", async () => {
    fake = await startFakeController({ appliances: standardFleet(), peerVersion: 21, lowestPeerVersion: 19 });
    const tokens: string[] = [];
    const { c } = client(password, undefined, (t) => tokens.push(t));
    await c.connect();
    expect(c.apiVersion).toBe(21);
    expect(await c.appliances()).toHaveLength(13);
    expect(fake.logins).toEqual([{ username: FAKE_USERNAME, providerName: "local", deviceId: TEST_DEVICE_ID }]);
    expect(tokens).toHaveLength(1);
    expect(fake.refusals.notAcceptable).toBe(0);
  });

  it("says which versions the Controller supports when the given api-version is refused", async () => {
    fake = await startFakeController({ appliances: standardFleet() });
    const { c } = client(password, 30);
    await expect(c.connect()).rejects.toThrow(/does not accept API version 30 \(it supports 18 to 23\); set api-version/);
  });

  it("turns refused credentials into an AuthError that mentions MFA, without the password", async () => {
    fake = await startFakeController({ appliances: standardFleet() });
    const { c } = client({ ...password, password: "wrong-password-123" });
    const err = await c.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthError);
    expect((err as Error).message).toMatch(/signing in as 'api-admin' \(provider 'local'\): refused \(HTTP 401: Login failed\).*exempt from admin MFA/);
    expect((err as Error).message).not.toContain("wrong-password-123");
  });

  it("signs in again once on a 401 and repeats the call; parallel calls share that login", async () => {
    fake = await startFakeController({ appliances: standardFleet() });
    const { c } = client();
    await c.connect();
    fake.revokeTokens();
    const results = await Promise.all(Array.from({ length: 5 }, () => c.liveStatus()));
    expect(results).toHaveLength(5);
    expect(fake.logins).toHaveLength(2);
    expect(c.logins).toBe(2);
  });

  it("a 401 with a given token is an AuthError (it cannot be renewed)", async () => {
    fake = await startFakeController({ appliances: standardFleet(), staticTokens: ["t-123"] });
    const { c } = client({ kind: "token", token: "t-123" });
    await c.connect();
    await c.appliances();
    fake.revokeTokens();
    await expect(c.appliances()).rejects.toBeInstanceOf(AuthError);
    expect(fake.logins).toEqual([]);
  });

  it("maps 503 to MisroutedError and other refusals to AppgateApiError with the Controller's message", async () => {
    fake = await startFakeController({ appliances: standardFleet(), misrouteAfterPrimaryComplete: true });
    const { c } = client();
    await c.connect();
    const missing = await c.upgradeStatus({ id: "00000000-0000-4000-8000-000000000000", name: "ghost" }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(AppgateApiError);
    expect((missing as AppgateApiError).status).toBe(404);
    expect((missing as Error).message).toMatch(/^reading the upgrade status of ghost: HTTP 404 not_found: no such resource/);
    await c.completeUpgrade({ id: fake.idOf("ctrl-1"), name: "ctrl-1" }, true);
    await expect(c.appliances()).rejects.toBeInstanceOf(MisroutedError);
  });

  it("trusts the Controller's private CA given as ca-certificate, and refuses the certificate without it", async () => {
    fake = await startFakeController({ appliances: standardFleet(), tls: { key: TEST_SERVER_KEY_PEM, cert: TEST_SERVER_CERT_PEM } });
    expect(fake.url).toMatch(/^https:/);
    const bare = client();
    const err = await bare.c.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    // A network failure names the call it happened in.
    expect((err as Error).message).toMatch(/^reading the API version \(GET \/version\): /);
    expect(fake.requests).toEqual([]);
    await http.destroy();

    const trusted = client(password, undefined, undefined, TEST_CA_PEM);
    await trusted.c.connect();
    expect(await trusted.c.appliances()).toHaveLength(13);
  });

  it("gives up on a call that gets no answer after the call's timeout (the per-poll 5 s), and the next one is answered", async () => {
    fake = await startFakeController({ appliances: standardFleet() });
    const { c } = client();
    await c.connect();
    fake.hangStatusReads(1);
    const err = await c.liveStatus({ timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).transient).toBe(true);
    expect((err as Error).message).toMatch(/^reading appliance status \(GET \/appliances\/status\): request timed out/);
    await vi.waitFor(() => expect(fake.held()).toBe(0));
    expect((await c.liveStatus({ timeoutMs: 200 })).size).toBe(13);
  });

  it("each typed method calls its endpoint, with the versioned Accept header and the body the spec asks for", async () => {
    fake = await startFakeController({ appliances: standardFleet({ "gw-a1": { upgrade: "success" } }) });
    const { c } = client();
    await c.connect();
    const ctrl2 = { id: fake.idOf("ctrl-2"), name: "ctrl-2" };
    const gw = { id: fake.idOf("gw-a1"), name: "gw-a1" };
    const gw2 = { id: fake.idOf("gw-a2"), name: "gw-a2" };
    fake.requests.length = 0;
    expect((await c.liveStatus({ name: "ctrl-2" })).get(ctrl2.id)?.maintenanceMode).toBe(false);
    expect(await c.upgradeStatus(gw2)).toEqual({ status: "ready", details: "appgate-6.5.0-32000-release.img.zip" });
    const changeId = await c.setMaintenance(ctrl2, true);
    expect(changeId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await c.change(ctrl2, changeId!, "maintenance mode on")).id).toBe(changeId);
    expect(await c.switchPartition(gw)).toMatch(/^[0-9a-f-]{36}$/);
    expect(await c.completeUpgrade(gw2, false)).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "GET /admin/appliances/status?name=ctrl-2 200",
      `GET /admin/appliances/${gw2.id}/upgrade 200`,
      `POST /admin/appliances/${ctrl2.id}/maintenance 202`,
      `GET /admin/appliances/${ctrl2.id}/change/${changeId} 200`,
      `POST /admin/appliances/${gw.id}/upgrade/switch-partition 202`,
      `POST /admin/appliances/${gw2.id}/upgrade/complete 202`,
    ]);
    expect(fake.events.filter((e) => e.type === "complete")).toEqual([expect.objectContaining({ appliance: "gw-a2", detail: "switchPartition=false" })]);
    expect(fake.refusals).toEqual({ notAcceptable: 0, unauthorized: 0 });
  });
});
