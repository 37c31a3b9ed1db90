import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildConfig, type PublishMigrationConfig, type PublishVersionConfig } from "../../src/config/config.ts";
import { publishMigration } from "../../src/operations/publish-migration.ts";
import { publishVersion } from "../../src/operations/publish-version.ts";
import { uploadUrlRefusal } from "../../src/runtime/url-policy.ts";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";
import { makeContext } from "../helpers/context.ts";

// Issue 9, item 10: the code upload is never less secure than the API address.

const KEY = { keyId: "sbk_up", secret: "sbsec_up_secret", orgId: "org_u", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let dir: string;

beforeEach(async () => {
  fake = await startFakeStateBacked({ keys: [KEY] });
  fake.addMachine("shop");
  dir = mkdtempSync(join(tmpdir(), "upload-url-"));
});
afterEach(() => fake.close());

async function config<T>(inputs: Record<string, string>): Promise<T> {
  const path = join(dir, "code.js");
  writeFileSync(path, "export default {};");
  const all: Record<string, string> = { "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "shop", ...inputs };
  all[all.operation === "publish-version" ? "version-file" : "migration-file"] = path;
  return (await buildConfig((n) => all[n] ?? "", { sha: "feedface", repository: "acme/backend", workspace: dir })) as T;
}

describe("the upload address from the provisional answer", () => {
  it("plain http:// to a host that is not loopback is refused before anything is sent there, and nothing is finalized", async () => {
    fake.uploadOrigin = "http://upload.example.invalid:8080";
    const t = makeContext();
    const err = await publishVersion(await config<PublishVersionConfig>({ operation: "publish-version" }), t.ctx).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/uploading the version's code refused before sending: .*'http:\/\/upload\.example\.invalid:8080'.*not loopback/);
    expect(fake.requests.filter((r) => r.upload)).toHaveLength(0);
    expect(fake.count("PUT", /\/v\//)).toBe(0);
  });

  it("the same for a migration", async () => {
    const a = fake.addVersion("shop", "a");
    const b = fake.addVersion("shop", "b");
    fake.uploadOrigin = "http://10.0.0.1";
    const t = makeContext();
    const cfg = await config<PublishMigrationConfig>({ operation: "publish-migration", "from-version": a.id, "to-version": b.id });
    const err = await publishMigration(cfg, t.ctx).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/refused before sending/);
    expect(fake.count("PUT", /\/migrations\//)).toBe(0);
  });

  it("a loopback http:// upload with a loopback http:// API (local tests) still works", async () => {
    const t = makeContext();
    await publishVersion(await config<PublishVersionConfig>({ operation: "publish-version" }), t.ctx);
    expect(t.report.outputs.get("created")).toBe("true");
  });
});

describe("uploadUrlRefusal", () => {
  const https = new URL("https://api.statebacked.dev");
  const local = new URL("http://127.0.0.1:4000");
  it.each([
    [https, "https://bucket.example.com/x", undefined],
    [https, "http://bucket.example.com/x", /plain http:\/\/ while 'api-url' is https:/],
    [https, "http://127.0.0.1:9/x", /plain http:\/\/ while 'api-url' is https:/],
    [new URL("http://localhost:4000"), "https://bucket.example.com/x", undefined],
    [local, "http://127.0.0.1:9/x", undefined],
    [local, "http://[::1]:9/x", undefined],
    [local, "http://bucket.example.com/x", /not loopback/],
    [https, "ftp://bucket.example.com/x", /scheme 'ftp:'/],
    [https, "https://user:pw@bucket.example.com/x", /credentials/],
    [https, "not a url", /not a URL/],
  ] as const)("api %s, upload %s", (api, upload, expected) => {
    const why = uploadUrlRefusal(api, upload);
    if (expected === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(expected);
  });
});
