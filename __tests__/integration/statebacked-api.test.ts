import { afterEach, describe, expect, it } from "vitest";
import { StateBackedApi } from "../../src/statebacked/api.ts";
import { ApiKeyTokens } from "../../src/statebacked/token.ts";
import { makeContext } from "../helpers/context.ts";
import { InstantClock } from "../helpers/instant-clock.ts";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";

const KEY = { keyId: "sbk_api", secret: "sbsec_api", orgId: "org_a", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked | undefined;
afterEach(() => fake?.close());

describe("StateBackedApi", () => {
  it("signs a fresh token on each attempt, so long Retry-After waits cannot outlast it", async () => {
    const clock = new InstantClock();
    fake = await startFakeStateBacked({ keys: [KEY], now: () => clock.now() });
    fake.addMachine("m");
    // A request's attempts and waits stay within max-attempts x request-timeout: 5 x 2 min here.
    const t = makeContext({ clock, policy: { maxAttempts: 5, maxRetryAfterMs: 200_000 }, requestTimeoutMs: 120_000 });
    const tokens = new ApiKeyTokens(KEY, clock);
    const api = new StateBackedApi({ http: t.ctx.http, baseUrl: new URL(fake.url), tokens });
    await api.getCurrentVersion("m"); // mints a 15-minute token
    clock.skip(9 * 60_000); // 6 minutes left: still handed out as it is
    fake.faults.push({ method: "GET", times: 3, action: { status: 429, retryAfter: "150" } });
    await expect(api.getCurrentVersion("m")).resolves.toBeUndefined(); // 7.5 minutes of waits later
    expect(tokens.mints).toBe(2);
  });

  it("pages to the end through a base URL with a trailing slash", async () => {
    fake = await startFakeStateBacked({ keys: [KEY], pageSize: 2 });
    fake.addMachine("m");
    for (let i = 0; i < 5; i++) fake.addVersion("m", `v${i}`);
    const t = makeContext();
    const api = new StateBackedApi({ http: t.ctx.http, baseUrl: new URL(`${fake.url}/`), tokens: new ApiKeyTokens(KEY, t.clock) });
    const labels: string[] = [];
    for await (const page of api.listVersions("m")) labels.push(...page.map((v) => v.clientInfo));
    expect(labels).toEqual(["v0", "v1", "v2", "v3", "v4"]);
    expect(fake.count("GET", /\/machines\/m\/v$/)).toBe(3);
  });

  it("turns a 2xx answer without the documented fields into an error naming the step", async () => {
    fake = await startFakeStateBacked({ keys: [KEY] });
    fake.addMachine("m");
    fake.faults.push({ method: "POST", action: { status: 200, body: { machineVersionId: "x" } } });
    const t = makeContext();
    const api = new StateBackedApi({ http: t.ctx.http, baseUrl: new URL(fake.url), tokens: new ApiKeyTokens(KEY, t.clock) });
    await expect(api.createProvisionalVersion("m")).rejects.toThrow(/creating the version \(provisional\) failed: .*no valid codeUploadUrl/);
  });
});
