import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildConfig, type PublishMigrationConfig, type PublishVersionConfig } from "../../src/config/config.ts";
import { publishMigration } from "../../src/operations/publish-migration.ts";
import { publishVersion } from "../../src/operations/publish-version.ts";
import { makeContext } from "../helpers/context.ts";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";

const KEY = { keyId: "sbk_pub", secret: "sbsec_pub_secret", orgId: "org_p", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
let dir: string;

beforeEach(async () => {
  fake = await startFakeStateBacked({ keys: [KEY], pageSize: 3 });
  fake.addMachine("shop", ["email"]);
  dir = mkdtempSync(join(tmpdir(), "pub-"));
});
afterEach(() => fake.close());

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function config<T>(inputs: Record<string, string>): Promise<T> {
  const all: Record<string, string> = { "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "shop", ...inputs };
  return (await buildConfig((n) => all[n] ?? "", { sha: "feedface", repository: "acme/backend", workspace: dir })) as T;
}

describe("publish-version", () => {
  it("gzips, creates, uploads and finalizes; the stored code equals the file", async () => {
    const prev = fake.addVersion("shop", "old", { current: true });
    const code = "export default { states: {} }; // " + "x".repeat(5000);
    const t = makeContext();
    await publishVersion(
      await config<PublishVersionConfig>({ operation: "publish-version", "version-file": file("shop.js", code), "make-current": "true", "index-selectors": '{"email":"$.public.email"}' }),
      t.ctx,
    );
    const versionId = t.report.outputs.get("version-id")!;
    expect(versionId).toMatch(/^ver_/);
    expect(t.report.outputs.get("previous-version-id")).toBe(prev.id);
    expect(t.report.outputs.get("created")).toBe("true");
    const stored = fake.machine("shop").versions.find((v) => v.id === versionId)!;
    expect(stored.code.toString()).toBe(code);
    expect(stored.clientInfo).toBe("feedface");
    expect(stored.indexSelectors).toEqual({ email: "$.public.email" });
    expect(fake.machine("shop").currentVersionId).toBe(versionId);
    expect(fake.uploads.at(-1)).toMatchObject({ filename: "shop.js", hadAuthorization: false });
    expect(fake.requests.find((r) => r.method === "POST" && r.path === "/machines/shop/v")).toBeTruthy();
    expect(t.masked).toHaveLength(1); // the minted token
    const summary = t.report.summary.join("\n");
    expect(summary).toContain("Published version `feedface` of `shop`");
    expect(summary).toContain(versionId);
    expect(summary).toMatch(/gzipped/);
    expect(summary).not.toContain(KEY.secret);
    expect(t.report.failure).toBeUndefined();
  });

  it("reuses an existing label with skip-if-exists and creates nothing", async () => {
    for (let i = 0; i < 5; i++) fake.addVersion("shop", `v${i}`);
    const existing = fake.addVersion("shop", "v1.2.3", { current: true });
    const t = makeContext();
    await publishVersion(
      await config<PublishVersionConfig>({ operation: "publish-version", "version-file": file("a.js", "x"), "version-label": "v1.2.3", "skip-if-exists": "true" }),
      t.ctx,
    );
    expect(t.report.outputs.get("version-id")).toBe(existing.id);
    expect(t.report.outputs.get("created")).toBe("false");
    expect(fake.count("POST", /\/v$/)).toBe(0);
    expect(fake.machine("shop").versions).toHaveLength(6);
  });

  it("in a dry run sends no mutating request", async () => {
    const t = makeContext();
    await publishVersion(await config<PublishVersionConfig>({ operation: "publish-version", "version-file": file("a.js", "x"), "dry-run": "true" }), t.ctx);
    expect(fake.requests.every((r) => r.method === "GET")).toBe(true);
    expect(t.report.outputs.get("created")).toBe("false");
    expect(t.report.summary.join()).toContain("Dry run");
  });

  it("refuses code over the limits before any request, giving both sizes", async () => {
    const { randomBytes } = await import("node:crypto");
    const t = makeContext();
    const cfg = await config<PublishVersionConfig>({ operation: "publish-version", "version-file": file("big.js", randomBytes(1_100_000)) });
    await expect(publishVersion(cfg, t.ctx)).rejects.toThrow(/1100000 bytes raw .* bytes gzipped \(limit 1000000\)/);
    expect(fake.requests).toHaveLength(0);
  });

  it("shows the upload server's status and body and never finalizes after a failed upload", async () => {
    fake.faults.push({ path: /^\/code-bucket$/, times: 5, action: { status: 403, body: "<Error><Code>AccessDenied</Code></Error>" } });
    const t = makeContext();
    const cfg = await config<PublishVersionConfig>({ operation: "publish-version", "version-file": file("a.js", "x") });
    await expect(publishVersion(cfg, t.ctx)).rejects.toThrow(/upload server answered HTTP 403.*AccessDenied/);
    expect(fake.count("PUT", /\/v\//)).toBe(0);
  });

  it("retries transient failures: 503 on finalize, a dropped connection and 429 with Retry-After", async () => {
    fake.faults.push(
      { method: "GET", path: /^\/machines\/shop$/, action: { drop: true } },
      { method: "POST", path: /\/v$/, action: { status: 429, retryAfter: "2" } },
      { method: "PUT", path: /\/v\//, times: 2, action: { status: 503 } },
    );
    const t = makeContext();
    await publishVersion(await config<PublishVersionConfig>({ operation: "publish-version", "version-file": file("a.js", "x") }), t.ctx);
    expect(t.report.outputs.get("created")).toBe("true");
    expect(fake.machine("shop").versions).toHaveLength(1);
    expect((t.clock as import("../helpers/instant-clock.ts").InstantClock).waits.some((w) => w >= 2000)).toBe(true);
  });

  it("repeats the provisional create after a 503 (safe: an unused provisional id is abandoned)", async () => {
    fake.faults.push({ method: "POST", path: /\/v$/, action: { status: 503 } }, { method: "POST", path: /\/v$/, action: { dropAfterProcessing: true } });
    const t = makeContext();
    await publishVersion(await config<PublishVersionConfig>({ operation: "publish-version", "version-file": file("a.js", "x") }), t.ctx);
    expect(fake.count("POST", /\/v$/)).toBe(3);
    expect(fake.provisionalCount).toBe(2); // the one whose answer was lost is abandoned
    expect(fake.machine("shop").versions).toHaveLength(1);
  });

  it("sends the documented requests: bare ?gzip, JSON bodies, the upload to its own host", async () => {
    const t = makeContext();
    await publishVersion(await config<PublishVersionConfig>({ operation: "publish-version", "version-file": file("a.js", "x") }), t.ctx);
    const create = fake.requests.find((r) => r.method === "POST" && r.path === "/machines/shop/v")!;
    expect(create.query).toBe("?gzip");
    expect(create.contentType).toBe("application/json");
    const upload = fake.requests.find((r) => r.upload)!;
    expect(upload.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const finalize = fake.requests.find((r) => r.method === "PUT")!;
    expect(JSON.parse(finalize.body)).toEqual({ clientInfo: "feedface", makeCurrent: false });
  });

  it("when finalize's answer is lost and the API refuses the repeat, says the version may exist", async () => {
    fake.faults.push({ method: "PUT", path: /\/v\//, action: { dropAfterProcessing: true } });
    const t = makeContext();
    const cfg = await config<PublishVersionConfig>({ operation: "publish-version", "version-file": file("a.js", "x") });
    await expect(publishVersion(cfg, t.ctx)).rejects.toThrow(/finalizing the version failed: HTTP 400.*an earlier attempt may have been carried out/);
    expect(fake.machine("shop").versions).toHaveLength(1); // it was created, once
  });

  it("when finalize's answer is lost and the API accepts the repeat, publishes once", async () => {
    await fake.close();
    fake = await startFakeStateBacked({ keys: [KEY], repeatedFinalize: "same-id" });
    fake.addMachine("shop");
    fake.faults.push({ method: "PUT", path: /\/v\//, action: { dropAfterProcessing: true } });
    const t = makeContext();
    await publishVersion(await config<PublishVersionConfig>({ operation: "publish-version", "version-file": file("a.js", "x") }), t.ctx);
    expect(fake.machine("shop").versions).toHaveLength(1);
    expect(t.report.outputs.get("version-id")).toBe(fake.machine("shop").versions[0]!.id);
  });

  it("with a user token of a user in several orgs: a clear hint without org-id, success with it", async () => {
    await fake.close();
    fake = await startFakeStateBacked({ userTokens: { "user-token": { orgs: ["org_a", "org_b"], scopes: [...SCOPES_ALL] } } });
    fake.addMachine("shop");
    const base = { operation: "publish-version", "api-url": fake.url, token: "user-token", machine: "shop", "version-file": file("a.js", "x") };
    const build = (extra: Record<string, string>) => buildConfig((n) => ({ ...base, ...extra })[n] ?? "", { sha: "s", repository: "r", workspace: dir }) as Promise<PublishVersionConfig>;
    await expect(publishVersion(await build({}), makeContext().ctx)).rejects.toThrow(/code specify-org.*set the 'org-id' input/);
    const t = makeContext();
    await publishVersion(await build({ "org-id": "org_b" }), t.ctx);
    expect(t.report.outputs.get("created")).toBe("true");
    expect(fake.requests.filter((r) => !r.upload && r.status === 200).every((r) => r.orgHeader === "org_b")).toBe(true);
  });

  it("turns a missing scope into one line with the scope to add", async () => {
    fake.keys.set(KEY.keyId, { ...KEY, scopes: ["machines.read", "machine-versions.read"] });
    const t = makeContext();
    const cfg = await config<PublishVersionConfig>({ operation: "publish-version", "version-file": file("a.js", "x") });
    await expect(publishVersion(cfg, t.ctx)).rejects.toThrow(
      "creating the version (provisional) failed: HTTP 403, code missing-scope — missing scope machine-versions.write (hint: the key lacks the 'machine-versions.write' scope this step needs: create a key that has it)",
    );
  });
});

describe("publish-migration", () => {
  it("resolves label and current references and publishes the migration", async () => {
    const v1 = fake.addVersion("shop", "v1");
    for (let i = 0; i < 4; i++) fake.addVersion("shop", `filler${i}`);
    const v2 = fake.addVersion("shop", "v2", { current: true });
    const code = "export function upgradeState(s) { return s; }";
    const t = makeContext();
    await publishMigration(
      await config<PublishMigrationConfig>({ operation: "publish-migration", "migration-file": file("mig.js", code), "from-version": "label:v1", "to-version": "current" }),
      t.ctx,
    );
    expect(t.report.outputs.get("from-version-id")).toBe(v1.id);
    expect(t.report.outputs.get("to-version-id")).toBe(v2.id);
    const mig = fake.machine("shop").migrations.at(-1)!;
    expect(t.report.outputs.get("migration-id")).toBe(mig.id);
    expect(mig).toMatchObject({ from: v1.id, to: v2.id });
    expect(mig.code.toString()).toBe(code);
    expect(fake.uploads.at(-1)!.filename).toBe(`shop_${v1.id}_to_${v2.id}.js`);
  });

  it("reads the migration id under either key the spec names", async () => {
    await fake.close();
    fake = await startFakeStateBacked({ keys: [KEY], migrationIdKey: "machineVersionId" });
    fake.addMachine("shop");
    const a = fake.addVersion("shop", "a");
    const b = fake.addVersion("shop", "b");
    const t = makeContext();
    await publishMigration(await config<PublishMigrationConfig>({ operation: "publish-migration", "migration-file": file("m.js", "x"), "from-version": a.id, "to-version": b.id }), t.ctx);
    expect(t.report.outputs.get("migration-id")).toBe(fake.machine("shop").migrations[0]!.id);
    expect(fake.requests.find((r) => r.method === "PUT")!.body).toBe("");
  });

  it("lists what was found when a label matches no version or several", async () => {
    fake.addVersion("shop", "a");
    fake.addVersion("shop", "dup");
    fake.addVersion("shop", "dup");
    const none = await config<PublishMigrationConfig>({ operation: "publish-migration", "migration-file": file("m.js", "x"), "from-version": "label:zzz", "to-version": "label:a" });
    await expect(publishMigration(none, makeContext().ctx)).rejects.toThrow(/Input 'from-version': machine 'shop' has no version labelled 'zzz'; labels found: 'a', 'dup'/);
    const two = await config<PublishMigrationConfig>({ operation: "publish-migration", "migration-file": file("m.js", "x"), "from-version": "label:a", "to-version": "label:dup" });
    await expect(publishMigration(two, makeContext().ctx)).rejects.toThrow(/Input 'to-version': 2 versions of 'shop' are labelled 'dup' \(ver_/);
    expect(fake.count("POST", /migrations/)).toBe(0);
  });
});
