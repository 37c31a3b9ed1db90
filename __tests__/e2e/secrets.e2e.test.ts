/**
 * Issue 9, item 2: a server that echoes a secret (the bearer token, a minted JWT, the Appgate
 * password) in an error body gets it into none of the bytes the action writes: log, outputs, job
 * summary, annotations, report files. Through dist/index.js, behind a proxy that misbehaves on purpose.
 */
import { existsSync, readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FAKE_PASSWORD, FAKE_USERNAME, type FakeController, startFakeController } from "../fakes/appgate/fake-controller.ts";
import { standardFleet } from "../fakes/appgate/fleet.ts";
import { type EchoProxy, startEchoProxy } from "../fakes/echo-proxy.ts";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";
import { type ActionRun, runAction, visibleText } from "../helpers/run-action.ts";

const KEY = { keyId: "sbk_e", secret: "sbsec_echo_e2e_secret", orgId: "org_echo", scopes: [...SCOPES_ALL] };
const USER_TOKEN = "user-token-that-a-server-echoes-0123456789";

/** Everything the run wrote: log (less the runner's own ::add-mask:: lines), summary, outputs, and the files it names. */
function written(run: ActionRun): string {
  const files = ["report-file", "failed-instances-file"]
    .map((o) => run.outputs[o])
    .filter((p): p is string => !!p && existsSync(p))
    .map((p) => readFileSync(p, "utf8"));
  return [visibleText(run), ...files].join("\n");
}

function expectNone(run: ActionRun, secrets: string[]): void {
  const all = written(run);
  for (const s of secrets) {
    expect(s.length).toBeGreaterThan(8);
    expect(all, `secret ${s.slice(0, 12)}… was written`).not.toContain(s);
  }
}

describe("dist/index.js: State Backed errors that echo the bearer token", () => {
  let fake: FakeStateBacked;
  let proxy: EchoProxy;
  beforeEach(async () => {
    fake = await startFakeStateBacked({ keys: [KEY], userTokens: { [USER_TOKEN]: { orgs: [KEY.orgId], scopes: [...SCOPES_ALL] } } });
    fake.addMachine("app");
    const v1 = fake.addVersion("app", "v1");
    fake.addVersion("app", "v2", { current: true });
    fake.addInstances("app", ["inst-1", "inst-2"], v1.id);
    proxy = await startEchoProxy(fake.url);
  });
  afterEach(async () => {
    await proxy.close();
    await fake.close();
  });

  const echo = (status: number) => ({
    status,
    body: (r: { bearer: string | undefined }) => ({ error: `the token ${r.bearer} is not accepted here`, ...(status === 400 ? { code: "invalid-parameter" } : {}) }),
  });
  const run = (auth: Record<string, string>) =>
    runAction({ operation: "set-desired-version", "api-url": proxy.url, machine: "app", instances: "inst-1\ninst-2", "to-version": "current", "max-attempts": "1", ...auth });

  it.each([400, 401, 403, 404, 500, 503])("HTTP %i echoing a minted JWT, on the first request and on every PUT: not in the summary, outputs, report file or log", async (status) => {
    const auth = { "api-key-id": KEY.keyId, "api-key-secret": KEY.secret };
    // The whole answer is the token, as a server that puts what it was sent in its error does.
    const body = (r: { bearer: string | undefined }) => ({ error: r.bearer, ...(status === 400 ? { code: "invalid-parameter" } : {}) });
    proxy.rules.push({ method: "GET", times: 1, status, body });
    const first = await run(auth);
    expect(first.code).toBe(1);

    proxy.rules.push({ method: "PUT", path: /\/i\/[^/]+\/v$/, status, body });
    const puts = await run(auth);
    expect(puts.code).toBe(1);

    const tokens = proxy.bearers();
    expect(tokens.length).toBeGreaterThan(0);
    // Short enough that the whole token fits in the 300-character message the action keeps.
    for (const t of tokens) expect(t.length).toBeLessThanOrEqual(300);
    for (const r of [first, puts]) expectNone(r, [...tokens, KEY.secret]);
    // The echo did reach what the action wrote, redacted.
    expect(first.summary).toMatch(/HTTP \d{3}[^\n]*\*\*\*/);
    expect(puts.summary + readFileSync(puts.outputs["report-file"]!, "utf8")).toMatch(/HTTP \d{3}[^\n]*\*\*\*/);
  });

  it.each([401, 403, 500])("HTTP %i echoing the 'token' input, on the first request and on the PUTs", async (status) => {
    proxy.rules.push({ method: "GET", times: 1, ...echo(status) });
    const first = await run({ token: USER_TOKEN });
    expect(first.code).toBe(1);
    expectNone(first, [USER_TOKEN]);
    expect(first.summary).toContain("the token *** is not accepted here");

    proxy.rules.push({ method: "PUT", ...echo(status) });
    const puts = await run({ token: USER_TOKEN });
    expect(puts.code).toBe(1);
    expectNone(puts, [USER_TOKEN]);
  });
});

describe("dist/index.js: a Controller whose login answer echoes the password", () => {
  let controller: FakeController;
  let proxy: EchoProxy;
  beforeEach(async () => {
    controller = await startFakeController({ appliances: standardFleet() });
    proxy = await startEchoProxy(controller.url);
  });
  afterEach(async () => {
    await proxy.close();
    await controller.close();
  });

  it.each([401, 422])("HTTP %i from POST /login with the password in its message", async (status) => {
    proxy.rules.push({
      method: "POST",
      path: /\/login$/,
      status,
      body: (r) => ({ id: "unauthorized", message: `wrong password: ${(JSON.parse(r.body) as { password: string }).password}` }),
    });
    const r = await runAction({ operation: "complete-appliance-upgrade", "controller-url": proxy.url, username: FAKE_USERNAME, password: FAKE_PASSWORD });
    expect(r.code).toBe(1);
    expectNone(r, [FAKE_PASSWORD]);
    expect(r.summary).toContain("wrong password: ***");
  });

  it("a token a login handed out, echoed by a later error, is redacted too", async () => {
    proxy.rules.push({ method: "GET", path: /\/appliances$/, status: 500, body: (r) => ({ id: "internal", message: `session ${r.bearer} broke` }) });
    const r = await runAction({ operation: "complete-appliance-upgrade", "controller-url": proxy.url, username: FAKE_USERNAME, password: FAKE_PASSWORD });
    expect(r.code).toBe(1);
    expect(controller.issuedTokens.length).toBeGreaterThan(0);
    expectNone(r, [...controller.issuedTokens, FAKE_PASSWORD]);
    expect(r.summary).toContain("session *** broke");
  });
});
