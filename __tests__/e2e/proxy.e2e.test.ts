import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runAction, visibleText } from "../helpers/run-action.ts";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";
import { type ForwardProxy, startForwardProxy } from "../helpers/forward-proxy.ts";
import { FAKE_PASSWORD, FAKE_USERNAME } from "../fakes/appgate/fake-controller.ts";
import { TEST_CA_PEM, TEST_SERVER_CERT_PEM, TEST_SERVER_KEY_PEM } from "../fakes/appgate/tls-fixture.ts";
import { useFleet } from "../fakes/appgate/use-fleet.ts";

/** The built dist/index.js behind a real forward proxy that wants credentials. */
const KEY = { keyId: "sbk_e2e_px", secret: "sbsec_e2e_px_secret", orgId: "org_e", scopes: [...SCOPES_ALL] };
const PROXY_PASSWORD = "Pr0xy-pass-w0rd";
let fake: FakeStateBacked;
let proxy: ForwardProxy;
let versionFile: string;

beforeEach(async () => {
  fake = await startFakeStateBacked({ keys: [KEY] });
  fake.addMachine("shop");
  proxy = await startForwardProxy({ credentials: { user: "runner", password: PROXY_PASSWORD } });
  versionFile = join(mkdtempSync(join(tmpdir(), "e2e-px-")), "shop.js");
  writeFileSync(versionFile, "export default {};");
});
afterEach(async () => {
  await proxy.close();
  await fake.close();
});

const startFleet = useFleet({ installMs: 300, rebootMs: 200, readyLagMs: 50 });

const inputs = () => ({ operation: "publish-version", "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "shop", "version-file": versionFile });

describe("dist/index.js behind a proxy", () => {
  it("publishes through HTTP_PROXY with credentials: every request went through it, the credentials are masked and never shown", async () => {
    const url = proxy.url.replace("//", `//runner:${PROXY_PASSWORD}@`);
    const run = await runAction(inputs(), { env: { HTTP_PROXY: url } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs["created"]).toBe("true");
    expect(fake.uploads).toHaveLength(1);
    expect(proxy.seen).toHaveLength(fake.requests.length);
    expect(proxy.targets()).toEqual(new Set([new URL(fake.url).host, new URL(fake.uploadOrigin).host]));
    expect(run.stdout).toContain(`http:// requests go through the proxy ${proxy.url} (HTTP_PROXY).`);
    expect(run.stdout).toContain(`::add-mask::${PROXY_PASSWORD}`);
    expect(visibleText(run)).not.toContain(PROXY_PASSWORD);
  });

  it("a bulk run through http_proxy: every instance's call went through the proxy", async () => {
    const v1 = fake.addVersion("shop", "v1");
    const v2 = fake.addVersion("shop", "v2", { current: true });
    fake.addMigration("shop", v1.id, v2.id);
    fake.addInstances("shop", Array.from({ length: 500 }, (_, i) => `user-${i}`), v1.id);
    const url = proxy.url.replace("//", `//runner:${PROXY_PASSWORD}@`);
    const run = await runAction(
      { operation: "set-desired-version", "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "shop", "to-version": "current", "all-instances": "true" },
      { env: { http_proxy: url, no_proxy: "example.com" } },
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs["succeeded-count"]).toBe("500");
    const puts = fake.requests.filter((r) => r.method === "PUT");
    expect(puts).toHaveLength(500);
    expect(proxy.seen).toHaveLength(fake.requests.length);
    expect(new Set(proxy.seen.filter((s) => s.startsWith("PUT ")))).toEqual(new Set(puts.map((r) => `PUT ${fake.url}${r.path}`)));
    expect(visibleText(run)).not.toContain(PROXY_PASSWORD);
  });

  it("an Appgate dry run over TLS through HTTPS_PROXY (CONNECT), with the test CA as ca-certificate", async () => {
    const f = await startFleet({}, { tls: { key: TEST_SERVER_KEY_PEM, cert: TEST_SERVER_CERT_PEM } });
    const url = proxy.url.replace("//", `//runner:${PROXY_PASSWORD}@`);
    const run = await runAction(
      { operation: "complete-appliance-upgrade", "controller-url": f.url, username: FAKE_USERNAME, password: FAKE_PASSWORD, "ca-certificate": TEST_CA_PEM, "dry-run": "true" },
      { env: { HTTPS_PROXY: url } },
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.summary).toContain("| Primary Controller | ctrl-1 |");
    expect(f.requests.length).toBeGreaterThan(5);
    expect(proxy.seen.length).toBeGreaterThan(0);
    expect(proxy.seen.every((s) => s === `CONNECT ${new URL(f.url).host}`)).toBe(true);
    expect(run.stdout).toContain(`https:// requests go through the proxy ${proxy.url} (HTTPS_PROXY).`);
    expect(visibleText(run)).not.toContain(PROXY_PASSWORD);
  });

  it("a 407 fails the step with one error naming the proxy and the host", async () => {
    const run = await runAction(inputs(), { env: { http_proxy: proxy.url, NO_PROXY: "example.com" } });
    expect(run.code).toBe(1);
    const line = `proxy ${proxy.url} (http_proxy) requires authentication: put user:password in the proxy URL (HTTP 407) for ${new URL(fake.url).host}`;
    expect(run.stdout.split("\n").filter((l) => l.startsWith("::error::") && l.includes(line))).toHaveLength(1);
    expect(run.summary).toContain(line);
    expect(fake.requests).toEqual([]);
  });

  it("a proxy variable that is not a URL fails before any request, naming the variable", async () => {
    const run = await runAction(inputs(), { env: { HTTPS_PROXY: "ftp://runner:secret@proxy" } });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::.*HTTPS_PROXY uses ftp:\/\/: only http:\/\/ and https:\/\/ proxies are supported/);
    expect(visibleText(run)).not.toContain("secret@");
    expect(fake.requests).toEqual([]);
  });

  it("credentials with a bad percent-escape fail the step with an input error and a summary, not a crash", async () => {
    const run = await runAction(inputs(), { env: { HTTPS_PROXY: `http://runner:bad%ZZ${PROXY_PASSWORD}@127.0.0.1:9` } });
    expect(run.code).toBe(1);
    expect(run.stderr).not.toMatch(/URIError/);
    expect(run.stdout).toMatch(/::error::.*HTTPS_PROXY has a user name or password with a /);
    expect(run.summary).toContain("HTTPS_PROXY has a user name or password with a '%' that is not a percent-escape (write '%' as %25)");
    expect(run.summary).toContain("No request was sent");
    expect(visibleText(run)).not.toContain(PROXY_PASSWORD);
    expect(fake.requests).toEqual([]);
  });
});
