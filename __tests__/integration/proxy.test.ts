import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildConfig, type PublishVersionConfig, type SetDesiredVersionConfig } from "../../src/config/config.ts";
import { proxySettingsFromEnv } from "../../src/http/proxy.ts";
import { publishVersion } from "../../src/operations/publish-version.ts";
import { setDesiredVersion } from "../../src/operations/set-desired-version.ts";
import { runUpgrade } from "../fakes/appgate/harness.ts";
import { TEST_CA_PEM, TEST_SERVER_CERT_PEM, TEST_SERVER_KEY_PEM } from "../fakes/appgate/tls-fixture.ts";
import { useFleet } from "../fakes/appgate/use-fleet.ts";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";
import { makeContext } from "../helpers/context.ts";
import { type ForwardProxy, closedPort, startForwardProxy } from "../helpers/forward-proxy.ts";
import { InstantClock } from "../helpers/instant-clock.ts";

/** Every service through a real forward proxy on loopback, checked at the proxy's side and at the fake's. */
const KEY = { keyId: "sbk_proxy", secret: "sbsec_proxy_secret", orgId: "org_px", scopes: [...SCOPES_ALL] };
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function proxy(opts: Parameters<typeof startForwardProxy>[0] = {}): Promise<ForwardProxy> {
  const p = await startForwardProxy(opts);
  closers.push(() => p.close());
  return p;
}

async function stateBacked(clock?: InstantClock): Promise<FakeStateBacked> {
  const fake = await startFakeStateBacked({ keys: [KEY], ...(clock ? { now: () => clock.now() } : {}) });
  closers.push(() => fake.close());
  fake.addMachine("shop");
  return fake;
}

async function publishConfig(fake: FakeStateBacked): Promise<PublishVersionConfig> {
  const dir = mkdtempSync(join(tmpdir(), "proxy-"));
  const file = join(dir, "shop.js");
  writeFileSync(file, "export default {};");
  const all: Record<string, string> = { operation: "publish-version", "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "shop", "version-file": file };
  return (await buildConfig((n) => all[n] ?? "", { sha: "feedface", repository: "acme/backend", workspace: dir })) as PublishVersionConfig;
}

const host = (origin: string) => new URL(origin).host;

describe("State Backed through HTTP_PROXY", () => {
  it("publish-version: the API calls and the upload (another host) all go through the proxy", async () => {
    const p = await proxy();
    const fake = await stateBacked();
    const t = makeContext({ proxy: proxySettingsFromEnv({ HTTP_PROXY: p.url }) });
    await publishVersion(await publishConfig(fake), t.ctx);
    await t.ctx.http.close();
    expect(t.report.failure).toBeUndefined();
    expect(t.report.outputs.get("created")).toBe("true");
    // The fake got the API calls and the upload…
    expect(fake.requests.filter((r) => r.upload)).toHaveLength(1);
    expect(fake.requests.filter((r) => !r.upload).length).toBeGreaterThanOrEqual(3);
    // …and each of them was a request the proxy forwarded, to the right host.
    expect(p.seen).toHaveLength(fake.requests.length);
    for (const r of fake.requests) {
      const origin = r.upload ? fake.uploadOrigin : fake.url;
      expect(p.seen).toContain(`${r.method} ${origin}${r.path}${r.query ?? ""}`);
    }
    expect(p.targets()).toEqual(new Set([host(fake.url), host(fake.uploadOrigin)]));
  });

  it("NO_PROXY sends the host:port it names around the proxy; the others still go through it", async () => {
    const p = await proxy();
    const fake = await stateBacked();
    const t = makeContext({ proxy: proxySettingsFromEnv({ http_proxy: p.url, NO_PROXY: `example.org, ${host(fake.uploadOrigin)}` }) });
    await publishVersion(await publishConfig(fake), t.ctx);
    await t.ctx.http.close();
    expect(t.report.failure).toBeUndefined();
    expect(fake.uploads).toHaveLength(1);
    expect(p.targets()).toEqual(new Set([host(fake.url)]));
    expect(p.seen).toHaveLength(fake.requests.filter((r) => !r.upload).length);
  });

  it("HTTPS_PROXY alone is not used for http:// (nothing but the variables decides)", async () => {
    const p = await proxy();
    const fake = await stateBacked();
    const t = makeContext({ proxy: proxySettingsFromEnv({ HTTPS_PROXY: p.url }) });
    await publishVersion(await publishConfig(fake), t.ctx);
    await t.ctx.http.close();
    expect(t.report.failure).toBeUndefined();
    expect(p.seen).toEqual([]);
  });

  it("a bulk run: every instance's call went through the proxy", async () => {
    const clock = new InstantClock();
    const p = await proxy();
    const fake = await stateBacked(clock);
    const v1 = fake.addVersion("shop", "v1");
    const v2 = fake.addVersion("shop", "v2", { current: true });
    fake.addMigration("shop", v1.id, v2.id);
    const names = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    fake.addInstances("shop", names, v1.id);
    const all: Record<string, string> = { operation: "set-desired-version", "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "shop", "to-version": "current", "all-instances": "true" };
    const config = (await buildConfig((n) => all[n] ?? "", { sha: "s", repository: "r", workspace: tmpdir() })) as SetDesiredVersionConfig;
    const t = makeContext({ clock, proxy: proxySettingsFromEnv({ HTTP_PROXY: p.url }) });
    await setDesiredVersion(config, t.ctx);
    await t.ctx.http.close();
    expect(t.report.failure).toBeUndefined();
    expect(String(t.report.outputs.get("succeeded-count"))).toBe("300");
    const puts = fake.requests.filter((r) => r.method === "PUT");
    expect(puts).toHaveLength(300);
    expect(p.seen).toHaveLength(fake.requests.length);
    for (const r of puts) expect(p.seen).toContain(`PUT ${fake.url}${r.path}`);
  });
});

describe("a proxy that refuses", () => {
  it("407: one clear error naming the proxy (no credentials) and the host; not retried; nothing reached the API", async () => {
    const p = await proxy({ credentials: { user: "ci", password: "pr0xy-pa55" } });
    const fake = await stateBacked();
    const t = makeContext({ proxy: proxySettingsFromEnv({ HTTP_PROXY: p.url }) });
    await expect(publishVersion(await publishConfig(fake), t.ctx)).rejects.toThrow(
      new RegExp(`proxy ${p.url} \\(HTTP_PROXY\\) requires authentication: put user:password in the proxy URL \\(HTTP 407\\) for ${host(fake.url)}`),
    );
    expect(p.seen).toHaveLength(1);
    expect(fake.requests).toEqual([]);

    const wrong = makeContext({ proxy: proxySettingsFromEnv({ HTTP_PROXY: p.url.replace("//", "//ci:wrong-pass@") }) });
    const err = (await publishVersion(await publishConfig(fake), wrong.ctx).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(new RegExp(`proxy ${p.url} \\(HTTP_PROXY\\) refused the credentials in its URL \\(HTTP 407\\) for ${host(fake.url)}`));
    expect(err.message).not.toContain("wrong-pass");
    expect(fake.requests).toEqual([]);

    const right = makeContext({ proxy: proxySettingsFromEnv({ HTTP_PROXY: p.url.replace("//", "//ci:pr0xy-pa55@") }) });
    await publishVersion(await publishConfig(fake), right.ctx);
    expect(right.report.failure).toBeUndefined();
    expect(fake.uploads).toHaveLength(1);
    for (const c of [t, wrong, right]) await c.ctx.http.close();
  });

  it("407 in a bulk run: the run stops on that one error, before any instance is sent", async () => {
    const clock = new InstantClock();
    const p = await proxy({ credentials: { user: "ci", password: "x-secret" } });
    const fake = await stateBacked(clock);
    const v2 = fake.addVersion("shop", "v2", { current: true });
    const all: Record<string, string> = { operation: "set-desired-version", "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "shop", "to-version": v2.id, instances: Array.from({ length: 200 }, (_, i) => `u-${i}`).join("\n") };
    const config = (await buildConfig((n) => all[n] ?? "", { sha: "s", repository: "r", workspace: tmpdir() })) as SetDesiredVersionConfig;
    const t = makeContext({ clock, proxy: proxySettingsFromEnv({ HTTP_PROXY: p.url }) });
    await setDesiredVersion(config, t.ctx).catch((e: unknown) => t.report.fail((e as Error).message));
    await t.ctx.http.close();
    expect(t.report.failure).toMatch(/proxy http:\/\/127\.0\.0\.1:\d+ \(HTTP_PROXY\) requires authentication.*\(HTTP 407\)/);
    expect(p.seen).toHaveLength(1);
    expect(fake.requests).toEqual([]);
    expect(String(t.report.outputs.get("failed-count"))).toBe("0");
  });

  it("a refused connection names the proxy and the host, and is retried like any refused connection", async () => {
    const fake = await stateBacked();
    const port = await closedPort();
    const t = makeContext({ policy: { maxAttempts: 3 }, proxy: proxySettingsFromEnv({ HTTP_PROXY: `http://user:s3cret-word@127.0.0.1:${port}` }) });
    const err = (await publishVersion(await publishConfig(fake), t.ctx).catch((e: unknown) => e)) as Error;
    await t.ctx.http.close();
    expect(err.message).toMatch(new RegExp(`proxy http://127\\.0\\.0\\.1:${port} \\(HTTP_PROXY\\) refused the connection, so ${host(fake.url)} could not be reached`));
    expect(err.message).not.toContain("s3cret");
    expect(t.logger.lines.filter((l) => /retrying/.test(l))).toHaveLength(2);
    expect(t.logger.lines.join("\n")).not.toContain("s3cret");
    expect(fake.requests).toEqual([]);
  });

  it("a failed CONNECT names the proxy and the host it could not open a tunnel to", async () => {
    const p = await proxy();
    const port = await closedPort();
    const t = makeContext({ policy: { maxAttempts: 2 }, proxy: proxySettingsFromEnv({ HTTPS_PROXY: p.url }) });
    const err = (await t.ctx.http.request({ method: "GET", url: `https://127.0.0.1:${port}/x`, retry: "idempotent" }).catch((e: unknown) => e)) as Error;
    await t.ctx.http.close();
    expect(err.message).toMatch(new RegExp(`proxy ${p.url} \\(HTTPS_PROXY\\) refused to open a tunnel to 127\\.0\\.0\\.1:${port} \\(HTTP \\d{3}\\)`));
    expect(p.seen.every((s) => s === `CONNECT 127.0.0.1:${port}`)).toBe(true);
  });
});

describe("the Appgate Controller through HTTPS_PROXY (CONNECT)", () => {
  const start = useFleet({});

  it("runs over TLS through the tunnel with the test CA; without the CA the Controller's certificate is still refused", async () => {
    const p = await proxy();
    const f = await start({}, { tls: { key: TEST_SERVER_KEY_PEM, cert: TEST_SERVER_CERT_PEM } });
    const settings = proxySettingsFromEnv({ HTTPS_PROXY: p.url });
    const refused = await runUpgrade(f, { config: { dryRun: true }, proxy: settings });
    expect(refused.report.failure).toMatch(/the Controller's TLS certificate is not trusted/);
    expect(f.requests).toEqual([]);
    expect(p.seen.length).toBeGreaterThan(0);
    expect(p.targets()).toEqual(new Set([host(f.url)]));

    const tunnels = p.seen.length;
    const run = await runUpgrade(f, { config: { caCertificate: TEST_CA_PEM }, proxy: settings });
    expect(run.report.failure).toBeUndefined();
    expect(run.list("upgraded").length).toBeGreaterThan(0);
    expect(f.requests.length).toBeGreaterThan(10);
    expect(p.seen.length).toBeGreaterThan(tunnels);
    expect(p.seen.every((s) => s === `CONNECT ${host(f.url)}`)).toBe(true);
  });

  it("with the proxy down, nothing reaches the Controller directly", async () => {
    const f = await start({}, { tls: { key: TEST_SERVER_KEY_PEM, cert: TEST_SERVER_CERT_PEM } });
    const port = await closedPort();
    const run = await runUpgrade(f, { config: { dryRun: true, caCertificate: TEST_CA_PEM }, proxy: proxySettingsFromEnv({ https_proxy: `127.0.0.1:${port}` }) });
    expect(run.report.failure).toMatch(new RegExp(`proxy http://127\\.0\\.0\\.1:${port} \\(https_proxy\\) refused the connection, so ${host(f.url)} could not be reached`));
    expect(f.requests).toEqual([]);
  });
});
