/**
 * A fake Appgate SDP Controller admin API (loopback, node:http, port 0) that simulates the
 * completion of prepared upgrades with scaled-down durations, strict per the v23 spec:
 * - versioned Accept header required (406 otherwise; /version wants application/json),
 *   Bearer token required (401), tokens expire (ttl) or can be revoked mid-run;
 * - POST /login checks providerName, deviceId (UUID), credentials;
 * - complete only when `ready`, switch-partition only when `success` (412 otherwise),
 *   DELETE refused while installing, maintenance only on Controllers;
 * - a Controller in maintenance refuses writes: while the primary is in maintenance, every
 *   write sent through it answers 503;
 * - GET /appliances/status takes filters (`?name=…`, `?id=…`, matched by inclusion);
 * - install time, then (switchPartition) a reboot window during which the appliance's calls
 *   answer 502 — and when it is the primary Controller, every call answers 502 during its
 *   install and has its connection dropped during its reboot — then the partition
 *   (volumeNumber) and version change, upgrade status idle, and state ready after a lag;
 * - optional faults: a misrouting 503 once the primary's complete is accepted, offline
 *   appliances, installs that fail, a complete whose answer is lost, status reads that lag, a
 *   transient `success`, a reboot back onto the old partition, no volumeNumber, status lists
 *   that hang, hooks around complete and status reads (see fake-appliance.ts for the per-appliance ones).
 * It records every request, the state-changing calls, the logins, and for each appliance the
 * window during which it was down (complete accepted → ready), to check who was down together.
 * Time comes from `now` (default Date.now): tests of the fake itself drive it by hand.
 *
 * The parts: controller-state.ts (the collective, changes, tokens, records), controller-gate.ts
 * (what every call meets first: misroutes, Accept, login, token, maintenance), the route tables
 * (appliance-routes.ts, upgrade-routes.ts) and http-fake.ts (the transport).
 */
import { HttpFake } from "../http-fake.ts";
import type { FakeController, FakeControllerOptions, RequestRecord } from "./controller-options.ts";
import { gate, WRITES } from "./controller-gate.ts";
import { ControllerState } from "./controller-state.ts";
import { applianceRoutes } from "./appliance-routes.ts";
import { fail } from "./answers.ts";
import { dispatch, type Route } from "./routes.ts";
import { upgradeRoutes } from "./upgrade-routes.ts";
import { backupRoutes } from "./backup-routes.ts";
import { fileRoutes } from "./files-routes.ts";

export { DEFAULT_TARGET_IMAGE, DEFAULT_VERSION, stableId } from "./fake-appliance.ts";
export type { DownWindow, FakeApplianceSpec, FakeRole, InitialUpgrade } from "./fake-appliance.ts";
export type { FakeApplianceView, FakeController, FakeControllerOptions, FakeEvent, RequestRecord } from "./controller-options.ts";
export { FAKE_PASSWORD, FAKE_USERNAME } from "./controller-state.ts";

const ROUTES: readonly Route[] = [...applianceRoutes, ...upgradeRoutes, ...backupRoutes, ...fileRoutes];

export async function startFakeController(o: FakeControllerOptions): Promise<FakeController> {
  const st = new ControllerState(o);
  const requests: RequestRecord[] = [];
  const http = new HttpFake({
    now: st.now,
    keepAliveTimeoutMs: 5_000,
    ...(o.tls ? { tls: o.tls } : {}),
    record: (r) => requests.push({ at: r.at, method: r.method, path: r.path + r.query, accept: String(r.headers.accept ?? ""), status: r.status }),
    handle: async (ex) => {
      const t = st.advanceAll();
      if (!ex.path.startsWith("/admin/")) return void fail(ex, 404, "not_found", "not under /admin");
      const path = ex.path.slice("/admin".length);
      if (gate(ex, st, path, t)) return;
      await dispatch(ROUTES, ex, st, path, t);
    },
  });
  await http.start();

  const api: FakeController = {
    url: http.url,
    close: () => http.close(),
    requests,
    events: st.events,
    writes: () => requests.filter((r) => WRITES.has(r.method) && !r.path.startsWith("/admin/login")),
    logins: st.logins,
    issuedTokens: st.issuedTokens,
    windows() {
      st.advanceAll();
      return st.windows.map((w) => ({ ...w }));
    },
    maxConcurrentDown(names) {
      const ws = api.windows().filter((w) => names.includes(w.name));
      let max = 0;
      for (const w of ws) {
        const at = w.start;
        const n = ws.filter((x) => x.start <= at && (x.end === undefined || x.end > at)).length;
        max = Math.max(max, n);
      }
      return max;
    },
    revokeTokens() {
      st.tokens.clear();
    },
    setUpgradeStatus(name, status, details = "") {
      const s = st.byName(name);
      s.upgradeStatus = status;
      s.upgradeDetails = details;
    },
    completeBehindTheScenes(name, switchPartition) {
      const s = st.byName(name);
      st.advanceOne(s);
      if (s.upgradeStatus !== "ready") throw new Error(`fake: ${name} is not ready`);
      st.install(s, st.now(), switchPartition);
    },
    setOffline(name, offline) {
      st.byName(name).offline = offline;
    },
    hangStatusReads(count) {
      st.hangLeft = count;
    },
    held: () => http.held,
    appliance(name) {
      st.advanceAll();
      const s = st.byName(name);
      return { id: s.id, name, version: s.version, volume: s.volume, upgradeStatus: s.upgradeStatus, phase: s.phase.kind, maintenance: s.maintenance };
    },
    idOf: (name) => st.byName(name).id,
    nominalDurationMs(name) {
      const s = st.byName(name);
      const extra = s.spec.roles.includes("controller") && !s.spec.primary ? st.changeMs + st.busyMs : 0;
      return s.installMs + s.rebootMs + s.readyLagMs + extra;
    },
    refusals: st.refusals,
    backupContent: () => st.backupContent,
    files: () => st.files,
    maxConcurrentPreparing() {
      st.advanceAll();
      const ws = st.prepareWindows;
      return Math.max(0, ...ws.map((w) => ws.filter((x) => x.start <= w.start && (x.end === undefined || x.end > w.start)).length));
    },
    apiVersions: () => ({ peer: st.peer, lowest: st.lowest }),
  };
  st.api = api;
  return api;
}
