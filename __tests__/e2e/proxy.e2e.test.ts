import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runAction, visibleText } from "../helpers/run-action.ts";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";
import { type ForwardProxy, startForwardProxy } from "../helpers/forward-proxy.ts";

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
});
