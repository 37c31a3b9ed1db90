import { Readable } from "node:stream";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { signApiKeyToken } from "../../src/statebacked/token.ts";
import { buildUploadForm } from "../../src/statebacked/upload-form.ts";
import { type FakeStateBacked, ROUTES, SCOPES_ALL, TOP_ROUTES, startFakeStateBacked } from "../fakes/statebacked/server.ts";

/** The fake refuses what the real service refuses; otherwise a green suite would prove nothing. */
const KEY = { keyId: "sbk_strict", secret: "sbsec_strict", orgId: "org_s", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
const auth = () => ({ authorization: `Bearer ${signApiKeyToken(KEY, { sub: "t" }, Math.floor(Date.now() / 1000))}` });

beforeAll(async () => {
  fake = await startFakeStateBacked({ keys: [KEY] });
  fake.addMachine("m");
});
afterAll(() => fake.close());

async function provisional(gzip = true) {
  const res = await request(`${fake.url}/machines/m/v${gzip ? "?gzip" : ""}`, { method: "POST", headers: auth() });
  expect(res.statusCode).toBe(200);
  return (await res.body.json()) as { machineVersionId: string; codeUploadUrl: string; codeUploadFields: Record<string, string> };
}

async function upload(url: string, body: Buffer, contentType: string, headers: Record<string, string> = {}) {
  const res = await request(url, { method: "POST", body, headers: { "content-type": contentType, ...headers } });
  return { status: res.statusCode, text: await res.body.text() };
}

async function finalize(signedId: string) {
  const res = await request(`${fake.url}/machines/m/v/${signedId}`, { method: "PUT", headers: { ...auth(), "content-type": "application/json" }, body: "{}" });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

const code = gzipSync("export default {};");

describe("fake upload endpoint strictness", () => {
  it("accepts the documented form", async () => {
    const p = await provisional();
    const form = buildUploadForm(p.codeUploadFields, { name: "m.js", content: code, gzipped: true });
    expect((await upload(p.codeUploadUrl, form.body, form.contentType)).status).toBe(204);
    expect((await finalize(p.machineVersionId)).status).toBe(200);
  });

  it.each([
    ["a missing field", (f: Record<string, string>) => ({ ...f, Policy: undefined }), /missing Policy/],
    ["an altered field", (f: Record<string, string>) => ({ ...f, key: f.key + "x" }), /key/],
    ["an extra field", (f: Record<string, string>) => ({ ...f, acl: "public-read" }), /Extra input fields: acl/],
  ])("refuses %s", async (_n, mutate, message) => {
    const p = await provisional();
    const fields = Object.fromEntries(Object.entries(mutate(p.codeUploadFields)).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const form = buildUploadForm(fields, { name: "m.js", content: code, gzipped: true });
    const r = await upload(p.codeUploadUrl, form.body, form.contentType);
    expect(r.status).toBe(403);
    expect(r.text).toMatch(message);
    expect(r.text).toMatch(/^<\?xml/);
    expect((await finalize(p.machineVersionId)).status).toBe(400);
  });

  it("refuses a file part that is not last", async () => {
    const p = await provisional();
    const form = buildUploadForm(p.codeUploadFields, { name: "m.js", content: code, gzipped: true }, "BOUND");
    const extra = Buffer.from('--BOUND\r\nContent-Disposition: form-data; name="late"\r\n\r\nx\r\n--BOUND--\r\n');
    const body = Buffer.concat([form.body.subarray(0, form.body.length - "--BOUND--\r\n".length), extra]);
    const r = await upload(p.codeUploadUrl, body, form.contentType);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/last field/);
  });

  it("refuses a gzip upload without content-encoding", async () => {
    const p = await provisional(true);
    const form = buildUploadForm(p.codeUploadFields, { name: "m.js", content: code, gzipped: false });
    const r = await upload(p.codeUploadUrl, form.body, form.contentType);
    expect(r.status).toBe(403);
    expect(r.text).toMatch(/content-encoding/);
  });

  it("refuses fields out of the documented order", async () => {
    const p = await provisional();
    const reversed = Object.fromEntries(Object.entries(p.codeUploadFields).reverse());
    const form = buildUploadForm(reversed, { name: "m.js", content: code, gzipped: true });
    const r = await upload(p.codeUploadUrl, form.body, form.contentType);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/out of order/);
  });

  it("refuses oversized code, an authorization header and a chunked body", async () => {
    const p = await provisional();
    const big = buildUploadForm(p.codeUploadFields, { name: "m.js", content: Buffer.alloc(1_000_001), gzipped: true });
    expect((await upload(p.codeUploadUrl, big.body, big.contentType)).text).toMatch(/EntityTooLarge/);
    const form = buildUploadForm(p.codeUploadFields, { name: "m.js", content: code, gzipped: true });
    expect((await upload(p.codeUploadUrl, form.body, form.contentType, auth())).status).toBe(400);
    expect((await finalize(p.machineVersionId)).status).toBe(400); // the refused upload left nothing behind
    const chunked = await request(p.codeUploadUrl, {
      method: "POST",
      headers: { "content-type": form.contentType },
      body: Readable.from([form.body]),
    });
    expect(chunked.statusCode).toBe(411);
    await chunked.body.dump();
  });

  it("refuses to finalize an id with no upload, a tampered id, and code that is not gzip", async () => {
    const p = await provisional();
    const f = await finalize(p.machineVersionId);
    expect(f.status).toBe(400);
    expect(f.json).toMatchObject({ code: "invalid-parameter", parameter: "signedMachineVersionId" });
    expect((await finalize(p.machineVersionId.slice(0, -2) + "xx")).status).toBe(400);
    const q = await provisional();
    const form = buildUploadForm(q.codeUploadFields, { name: "m.js", content: Buffer.from("not gzip"), gzipped: true });
    expect((await upload(q.codeUploadUrl, form.body, form.contentType)).status).toBe(204);
    expect((await finalize(q.machineVersionId)).json).toMatchObject({ parameter: "code" });
  });
});

describe("fake API strictness", () => {
  it("refuses a cursor it did not hand out for this list, instead of ending the list", async () => {
    for (let i = 0; i < 60; i++) fake.addVersion("m", `p${i}`);
    const page1 = await request(`${fake.url}/machines/m/v`, { headers: auth() });
    const { cursor } = (await page1.body.json()) as { cursor: string };
    expect(cursor).toBeTruthy();
    // The last character changed (to one it is not), so the signature no longer matches.
    for (const bad of ["garbage", cursor.slice(0, -1) + (cursor.endsWith("A") ? "B" : "A")]) {
      const r = await request(`${fake.url}/machines/m/v?cursor=${encodeURIComponent(bad)}`, { headers: auth() });
      expect(r.statusCode).toBe(400);
      expect(await r.body.json()).toMatchObject({ parameter: "cursor" });
    }
    const other = await request(`${fake.url}/machines/m/i?cursor=${encodeURIComponent(cursor)}`, { headers: auth() });
    expect(other.statusCode).toBe(400); // a versions cursor is not an instances cursor
    await other.body.dump();
  });

  it("refuses an upload after its form expired", async () => {
    let now = Date.now();
    const f = await startFakeStateBacked({ keys: [KEY], now: () => now });
    f.addMachine("m");
    const res = await request(`${f.url}/machines/m/v?gzip`, { method: "POST", headers: auth() });
    const p = (await res.body.json()) as { codeUploadUrl: string; codeUploadFields: Record<string, string> };
    now += 16 * 60_000;
    const form = buildUploadForm(p.codeUploadFields, { name: "m.js", content: code, gzipped: true });
    const r = await upload(p.codeUploadUrl, form.body, form.contentType);
    expect(r.status).toBe(403);
    expect(r.text).toMatch(/expired/);
    await f.close();
  });

  it("refuses a missing token, a bad slug, an unknown machine and a wrong deletion HMAC", async () => {
    expect((await request(`${fake.url}/machines/m`)).statusCode).toBe(401);
    const bad = await request(`${fake.url}/machines/bad%20name`, { headers: auth() });
    expect(bad.statusCode).toBe(400);
    expect((await request(`${fake.url}/machines/nope`, { headers: auth() })).statusCode).toBe(404);
    const v = fake.addVersion("m", "v");
    fake.addInstances("m", ["i1"], v.id);
    const del = await request(`${fake.url}/machines/m/i/i1`, {
      method: "DELETE",
      headers: { ...auth(), "content-type": "application/json" },
      body: JSON.stringify({ dangerDataWillBeDeletedForever: true, hmacSha256OfMachineInstanceNameWithMachineNameKey: "wrong" }),
    });
    expect(del.statusCode).toBe(400);
    expect(await del.body.json()).toMatchObject({ parameter: "hmacSha256OfMachineInstanceNameWithMachineNameKey" });
    expect(fake.machine("m").instances.has("i1")).toBe(true);
  });

  it("asks a user of several orgs to name one", async () => {
    const f = await startFakeStateBacked({ userTokens: { usertok: { orgs: ["org_a", "org_b"], scopes: [...SCOPES_ALL] } } });
    f.addMachine("m");
    const r = await request(`${f.url}/machines/m`, { headers: { authorization: "Bearer usertok" } });
    expect(r.statusCode).toBe(400);
    expect(await r.body.json()).toMatchObject({ code: "specify-org" });
    const ok = await request(`${f.url}/machines/m`, { headers: { authorization: "Bearer usertok", "x-statebacked-org-id": "org_b" } });
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
    await f.close();
  });
});

describe("fake route table", () => {
  it.each([...ROUTES, ...TOP_ROUTES].map((r) => [`${r.method} ${r.path}`, r] as const))("%s refuses a key without its scope (403 missing-scope) and sends nothing to the handler", async (_, route) => {
    const narrow = { keyId: "sbk_narrow", secret: "sbsec_narrow", orgId: "org_s", scopes: SCOPES_ALL.filter((s) => s !== route.scope) };
    const f = await startFakeStateBacked({ keys: [narrow] });
    try {
      f.addMachine("m");
      const path = route.path.replace(":machine", "m").replace(/:[a-zA-Z]+/g, "x");
      const token = signApiKeyToken(narrow, { sub: "t" }, Math.floor(Date.now() / 1000));
      const res = await request(`${f.url}${path}`, { method: route.method as "GET", headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(403);
      expect(await res.body.json()).toMatchObject({ code: "missing-scope", error: `missing scope ${route.scope}` });
    } finally {
      await f.close();
    }
  });

  it("answers 404 for a path no row matches, after auth", async () => {
    const res = await request(`${fake.url}/machines/m/nothing-here`, { method: "GET", headers: auth() });
    expect(res.statusCode).toBe(404);
    expect(await res.body.json()).toEqual({ error: "no route GET /machines/m/nothing-here" });
  });
});
