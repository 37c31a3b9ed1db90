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
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import {
  advance,
  applianceJson,
  type ApplianceState,
  DEFAULT_TARGET_IMAGE,
  type DownWindow,
  type FakeApplianceSpec,
  isDown,
  lagging,
  newAppliance,
  type Phase,
  readUpgradeStatus,
  startInstall,
  startLag,
  startReboot,
  statusJson,
} from "./fake-appliance.ts";

export { DEFAULT_TARGET_IMAGE, DEFAULT_VERSION, stableId } from "./fake-appliance.ts";
export type { DownWindow, FakeApplianceSpec, FakeRole, InitialUpgrade } from "./fake-appliance.ts";

export interface FakeControllerOptions {
  appliances: FakeApplianceSpec[];
  /** The fake's clock (default Date.now). */
  now?: () => number;
  peerVersion?: number;
  lowestPeerVersion?: number;
  username?: string;
  password?: string;
  providerName?: string;
  /** Tokens accepted without a login (for `token` auth), until revoked. */
  staticTokens?: string[];
  tokenTtlMs?: number;
  /** Admin hostname of the primary (default 127.0.0.1, the loopback address tests use). */
  primaryHost?: string;
  targetImage?: string;
  installMs?: number;
  rebootMs?: number;
  readyLagMs?: number;
  /** Maintenance-mode changes take this long… */
  changeMs?: number;
  /** …and answer `running` to this many reads of the change first. */
  changeReads?: number;
  /** A Controller stays busy this long after leaving maintenance mode… */
  busyMs?: number;
  /** …and for this many of its status-list entries. */
  busyReads?: number;
  /** Once the primary's complete is accepted, every call answers 503 (a load balancer in the way). */
  misrouteAfterPrimaryComplete?: boolean;
  /** These appliances' first complete is carried out but its answer is lost (connection dropped). */
  dropCompleteAnswer?: string[];
  /** Tokens issued before the primary's reboot are refused after it. */
  primaryRebootRevokesTokens?: boolean;
  /** Serve HTTPS with this key and certificate (see tls-fixture.ts). */
  tls?: { key: string; cert: string };
  hooks?: {
    /** Before a complete is processed (may change state, e.g. start the install itself). */
    beforeComplete?: (name: string, fake: FakeController) => void;
    afterComplete?: (name: string, fake: FakeController) => void;
    /** After an upgrade status was read (before the answer is sent). */
    afterStatusRead?: (name: string, status: string, fake: FakeController) => void;
  };
}

export interface RequestRecord {
  at: number;
  method: string;
  /** Path and query as sent. */
  path: string;
  /** 0 = no answer (connection dropped, or held until the client gave up). */
  status: number;
}

export interface FakeEvent {
  at: number;
  type: "complete" | "switch-partition" | "maintenance" | "maintenance-done" | "not-busy" | "cancel" | "login" | "refused";
  appliance?: string;
  detail?: string;
}

interface Change {
  id: string;
  applianceId: string;
  doneAt: number;
  /** Reads still answered `running` whatever the time. */
  reads: number;
  apply?: (at: number) => void;
  applied: boolean;
}

export interface FakeApplianceView {
  id: string;
  name: string;
  version: string;
  volume: number;
  upgradeStatus: string;
  phase: Phase["kind"];
  maintenance: boolean;
}

export interface FakeController {
  url: string;
  close(): Promise<void>;
  requests: RequestRecord[];
  events: FakeEvent[];
  /** POST/DELETE calls other than /login, i.e. attempted changes. */
  writes(): RequestRecord[];
  logins: { username: string; providerName: string; deviceId: string }[];
  /** Every token a login handed out. */
  issuedTokens: string[];
  windows(): DownWindow[];
  /** Most of `names` down at the same moment. */
  maxConcurrentDown(names: readonly string[]): number;
  /** Every token stops working (as if all expired). */
  revokeTokens(): void;
  /** Sets the upgrade status directly (as if the appliance changed on its own). */
  setUpgradeStatus(name: string, status: string, details?: string): void;
  /** Starts an install as if another admin had completed the upgrade (no request recorded). */
  completeBehindTheScenes(name: string, switchPartition: boolean): void;
  setOffline(name: string, offline: boolean): void;
  /** The next `count` GET /appliances/status never answer (held until the client gives up). */
  hangStatusReads(count: number): void;
  /** Requests held without an answer right now. */
  held(): number;
  appliance(name: string): FakeApplianceView;
  idOf(name: string): string;
  /** Install + reboot + ready lag (+ maintenance-off change and busy time for other Controllers). */
  nominalDurationMs(name: string): number;
  /** Requests answered 406 / 401 (strictness checks). */
  refusals: { notAcceptable: number; unauthorized: number };
}

export const FAKE_USERNAME = "api-admin";
export const FAKE_PASSWORD = "s3cret-Pa55word!";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const WRITES = new Set(["POST", "PUT", "DELETE", "PATCH"]);

export async function startFakeController(o: FakeControllerOptions): Promise<FakeController> {
  const now = o.now ?? ((): number => Date.now());
  const peer = o.peerVersion ?? 23;
  const lowest = o.lowestPeerVersion ?? 18;
  const username = o.username ?? FAKE_USERNAME;
  const password = o.password ?? FAKE_PASSWORD;
  const providerName = o.providerName ?? "local";
  const ttl = o.tokenTtlMs ?? 3_600_000;
  const primaryHost = o.primaryHost ?? "127.0.0.1";
  const changeMs = o.changeMs ?? 20;
  const busyMs = o.busyMs ?? 20;

  const tokens = new Map<string, number>();
  for (const t of o.staticTokens ?? []) tokens.set(t, Infinity);
  const changes = new Map<string, Change>();
  const requests: RequestRecord[] = [];
  const events: FakeEvent[] = [];
  const windows: DownWindow[] = [];
  const logins: FakeController["logins"] = [];
  const issuedTokens: string[] = [];
  const refusals = { notAcceptable: 0, unauthorized: 0 };
  const dropAnswer = new Set(o.dropCompleteAnswer ?? []);
  let misrouted = false;
  let hangLeft = 0;
  let held = 0;

  const defaults = {
    targetImage: o.targetImage ?? DEFAULT_TARGET_IMAGE,
    installMs: o.installMs ?? 150,
    rebootMs: o.rebootMs ?? 100,
    readyLagMs: o.readyLagMs ?? 20,
  };
  const states: ApplianceState[] = o.appliances.map((spec) => newAppliance(spec, defaults, now()));
  for (const s of states) if (s.window) windows.push(s.window);
  const primary = states.find((s) => s.spec.primary);

  const byId = (id: string): ApplianceState | undefined => states.find((s) => s.id === id);
  const byName = (name: string): ApplianceState => {
    const s = states.find((x) => x.spec.name === name);
    if (!s) throw new Error(`fake: no appliance ${name}`);
    return s;
  };

  const onReboot = (s: ApplianceState) => (): void => {
    if (s === primary && o.primaryRebootRevokesTokens) {
      for (const [tok, exp] of tokens) if (exp !== Infinity) tokens.delete(tok);
    }
  };

  function install(s: ApplianceState, t: number, switchPartition: boolean): void {
    startInstall(s, t, switchPartition);
    if (s.window) windows.push(s.window);
  }

  function advanceChanges(t: number): void {
    for (const c of changes.values()) {
      if (!c.applied && c.reads <= 0 && t >= c.doneAt) {
        c.applied = true;
        c.apply?.(t);
      }
    }
  }

  function advanceAll(): number {
    const t = now();
    for (const s of states) advance(s, t, onReboot(s));
    advanceChanges(t);
    return t;
  }

  function newChange(applianceId: string, doneAt: number, reads = 0, apply?: (at: number) => void): string {
    const id = randomUUID();
    changes.set(id, { id, applianceId, doneAt, reads, applied: false, ...(apply ? { apply } : {}) });
    return id;
  }

  function send(res: ServerResponse, status: number, body?: unknown, contentType = `application/vnd.appgate.peer-v${peer}+json`): number {
    if (body === undefined) {
      res.writeHead(status).end();
    } else {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      res.writeHead(status, { "Content-Type": typeof body === "string" ? "text/html" : contentType, "Content-Length": Buffer.byteLength(text) });
      res.end(text);
    }
    return status;
  }
  const err = (res: ServerResponse, status: number, id: string, message: string, extra: object = {}): number =>
    send(res, status, { id, message, ...extra }, "application/json");

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  /** Parses a JSON object body; answers 400 (and returns undefined) when it is not one. */
  async function jsonBody(req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown> | undefined> {
    const text = await readBody(req);
    if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) {
      err(res, 400, "bad_request", "Content-Type must be application/json");
      return undefined;
    }
    try {
      const v: unknown = JSON.parse(text);
      if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      /* fall through */
    }
    err(res, 400, "bad_request", "body is not a JSON object");
    return undefined;
  }

  /** Holds a request without answering until the client gives up (closes the connection). */
  function hang(req: IncomingMessage): Promise<"dropped"> {
    held++;
    return new Promise((resolve) =>
      req.socket.once("close", () => {
        held--;
        resolve("dropped");
      }),
    );
  }

  /** The status list, filtered as the spec's filterBy does (`?name=…`, `?id=…`, by inclusion). */
  function statusList(url: URL, t: number): unknown {
    const filters = (["name", "id"] as const).flatMap((f) => url.searchParams.getAll(f).map((v) => ({ f, v })));
    const chosen = states.filter((s) => filters.every(({ f, v }) => (f === "name" ? s.spec.name : s.id).includes(v)));
    const data = chosen.map((s) =>
      statusJson(s, t, () => events.push({ at: t, type: "not-busy", appliance: s.spec.name })),
    );
    return { range: `0-${data.length}/${data.length}`, filterBy: filters.map(({ f, v }) => ({ name: f, value: v })), data };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number | "dropped"> {
    const t = advanceAll();
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    if (!url.pathname.startsWith("/admin/")) return err(res, 404, "not_found", "not under /admin");
    const path = url.pathname.slice("/admin".length);

    // A load balancer that sends calls to another Controller (in maintenance mode) once the primary goes down.
    if (misrouted) {
      await readBody(req);
      return err(res, 503, "service_unavailable", "Service Temporarily Unavailable: Controller in maintenance mode");
    }
    // The primary Controller itself installing (services stopped, unless a lag hides it) or rebooting (no answer at all).
    if (primary && primary.phase.kind === "installing" && !lagging(primary)) {
      await readBody(req);
      return send(res, 502, "<html><head><title>502 Bad Gateway</title></head></html>");
    }
    if (primary && primary.phase.kind === "rebooting") {
      req.socket.destroy();
      return "dropped";
    }

    if (path === "/version") {
      if (method !== "GET") return err(res, 405, "method_not_allowed", "GET only");
      if (req.headers.accept !== "application/json") {
        refusals.notAcceptable++;
        return err(res, 406, "not_acceptable", "/version expects Accept: application/json");
      }
      return send(res, 200, { peerVersion: peer, lowestPeerVersionSupported: lowest }, "application/json");
    }

    const m = /^application\/vnd\.appgate\.peer-v(\d+)\+json$/.exec(req.headers.accept ?? "");
    const asked = m ? Number(m[1]) : undefined;
    if (asked === undefined || asked < lowest || asked > peer) {
      refusals.notAcceptable++;
      await readBody(req);
      return err(res, 406, "not_acceptable", `Accept must be application/vnd.appgate.peer-v<${lowest}..${peer}>+json`, {
        minSupportedVersion: lowest,
        maxSupportedVersion: peer,
      });
    }

    if (path === "/login") {
      if (method !== "POST") return err(res, 405, "method_not_allowed", "POST only");
      const body = await jsonBody(req, res);
      if (!body) return 400;
      const errors: { field: string; message: string }[] = [];
      if (typeof body.providerName !== "string") errors.push({ field: "providerName", message: "may not be null" });
      if (typeof body.deviceId !== "string" || !UUID_RE.test(body.deviceId)) errors.push({ field: "deviceId", message: "must be a UUID" });
      if (errors.length > 0) return err(res, 422, "validation_error", "Request validation failed", { errors });
      if (body.providerName !== providerName || body.username !== username || body.password !== password) {
        events.push({ at: t, type: "refused", detail: "login" });
        return err(res, 401, "unauthorized", "Login failed", { reason: "Invalid username or password." });
      }
      const token = randomUUID().replace(/-/g, "") + randomUUID().replace(/-/g, "");
      tokens.set(token, t + ttl);
      issuedTokens.push(token);
      logins.push({ username, providerName, deviceId: body.deviceId as string });
      events.push({ at: t, type: "login" });
      return send(res, 200, { token, expires: new Date(t + ttl).toISOString(), user: { name: username, needTwoFactorAuth: false } });
    }

    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
    const exp = auth ? tokens.get(auth[1]!) : undefined;
    if (exp === undefined || t >= exp) {
      refusals.unauthorized++;
      await readBody(req);
      return err(res, 401, "unauthorized", exp === undefined ? "Invalid token" : "Token expired");
    }

    // A Controller in maintenance mode refuses writes: the primary's refuses every write sent through it.
    if (WRITES.has(method) && primary?.maintenance) {
      await readBody(req);
      events.push({ at: t, type: "refused", detail: `${method} ${path}: the primary Controller is in maintenance mode` });
      return err(res, 503, "service_unavailable", "Controller in maintenance mode");
    }

    if (path === "/appliances" && method === "GET") {
      const data = states.map((s, i) => applianceJson(s, i, peer, primaryHost));
      return send(res, 200, { range: `0-${data.length}/${data.length}`, orderBy: "name", descending: false, queries: [], totalCount: data.length, filterBy: [], data });
    }
    if (path === "/appliances/status" && method === "GET") {
      if (hangLeft > 0) {
        hangLeft--;
        return hang(req);
      }
      return send(res, 200, statusList(url, t));
    }

    const pm = /^\/appliances\/([^/]+)(\/.*)$/.exec(path);
    const s = pm ? byId(pm[1]!) : undefined;
    if (!pm || !s) {
      await readBody(req);
      return err(res, 404, "not_found", `no such resource: ${method} ${path}`);
    }
    return applianceCall(req, res, s, pm[2]!, method, t);
  }

  async function applianceCall(req: IncomingMessage, res: ServerResponse, s: ApplianceState, sub: string, method: string, t: number): Promise<number | "dropped"> {
    if (sub === "/upgrade" && method === "GET") {
      if (isDown(s)) return err(res, 502, "bad_gateway", `${s.spec.name} does not answer`);
      const answer = readUpgradeStatus(s, t);
      o.hooks?.afterStatusRead?.(s.spec.name, answer.status, api);
      return send(res, 200, answer);
    }
    if (sub === "/upgrade" && method === "DELETE") {
      if (s.upgradeStatus === "installing") return err(res, 412, "appliance_state_error", "cannot cancel while installing");
      s.upgradeStatus = "idle";
      s.upgradeDetails = "";
      events.push({ at: t, type: "cancel", appliance: s.spec.name });
      return send(res, 202, { id: newChange(s.id, t) }, "appliance/json");
    }
    if (sub === "/upgrade/complete" && method === "POST") {
      const body = await jsonBody(req, res);
      if (!body) return 400;
      if (body.switchPartition !== undefined && typeof body.switchPartition !== "boolean") {
        return err(res, 400, "bad_request", "switchPartition must be a boolean");
      }
      o.hooks?.beforeComplete?.(s.spec.name, api);
      advance(s, now(), onReboot(s));
      if (isDown(s)) return err(res, 502, "bad_gateway", `${s.spec.name} does not answer`);
      if (s.upgradeStatus !== "ready") {
        return err(res, 412, "appliance_state_error", `upgrade status is ${s.upgradeStatus}; complete needs ready`);
      }
      const sp = body.switchPartition === true;
      const before = { status: s.upgradeStatus, details: s.upgradeDetails };
      install(s, t, sp);
      startLag(s, before);
      events.push({ at: t, type: "complete", appliance: s.spec.name, detail: `switchPartition=${sp}` });
      if (s === primary && o.misrouteAfterPrimaryComplete) misrouted = true;
      o.hooks?.afterComplete?.(s.spec.name, api);
      if (dropAnswer.delete(s.spec.name)) {
        req.socket.destroy();
        return "dropped";
      }
      return send(res, 202, { id: newChange(s.id, t + s.installMs) }, "appliance/json");
    }
    if (sub === "/upgrade/switch-partition" && method === "POST") {
      await readBody(req);
      if (isDown(s)) return err(res, 502, "bad_gateway", `${s.spec.name} does not answer`);
      if (s.upgradeStatus !== "success") {
        return err(res, 412, "appliance_state_error", `upgrade status is ${s.upgradeStatus}; switch-partition needs success`);
      }
      const before = { status: s.upgradeStatus, details: s.upgradeDetails };
      startReboot(s, t);
      startLag(s, before);
      events.push({ at: t, type: "switch-partition", appliance: s.spec.name });
      return send(res, 202, { id: newChange(s.id, t + s.rebootMs) }, "appliance/json");
    }
    if (sub === "/maintenance" && method === "POST") {
      const body = await jsonBody(req, res);
      if (!body) return 400;
      if (typeof body.enabled !== "boolean") {
        return err(res, 422, "validation_error", "Request validation failed", { errors: [{ field: "enabled", message: "may not be null" }] });
      }
      if (!s.spec.roles.includes("controller")) return err(res, 412, "appliance_state_error", "maintenance mode is for Controllers");
      if (isDown(s)) return err(res, 502, "bad_gateway", `${s.spec.name} does not answer`);
      const enabled = body.enabled;
      events.push({ at: t, type: "maintenance", appliance: s.spec.name, detail: enabled ? "on" : "off" });
      const id = newChange(s.id, t + changeMs, o.changeReads ?? 0, (at) => {
        s.maintenance = enabled;
        events.push({ at, type: "maintenance-done", appliance: s.spec.name, detail: enabled ? "on" : "off" });
        if (!enabled) {
          s.busyUntil = at + busyMs;
          s.busyReads = o.busyReads ?? 0;
          s.leavingBusy = true;
        }
      });
      return send(res, 202, { id }, "appliance/json");
    }
    const cm = /^\/change\/([^/]+)$/.exec(sub);
    if (cm && method === "GET") {
      const c = changes.get(decodeURIComponent(cm[1]!));
      if (!c || c.applianceId !== s.id) return err(res, 404, "not_found", "no such change");
      if (c.reads > 0) c.reads--;
      else advanceChanges(t);
      return send(res, 200, { id: c.id, status: c.applied ? "completed" : "running", result: c.applied ? "success" : "", details: "" });
    }
    await readBody(req);
    return err(res, 404, "not_found", `no such resource: ${method} ${sub}`);
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const at = now();
    handle(req, res).then(
      (status) => requests.push({ at, method: req.method ?? "", path: req.url ?? "", status: status === "dropped" ? 0 : status }),
      (e: unknown) => {
        requests.push({ at, method: req.method ?? "", path: req.url ?? "", status: 500 });
        if (!res.headersSent) err(res, 500, "internal_error", String(e));
      },
    );
  };
  const server = o.tls ? createTlsServer({ key: o.tls.key, cert: o.tls.cert }, onRequest) : createServer(onRequest);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  const api: FakeController = {
    url: `${o.tls ? "https" : "http"}://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    requests,
    events,
    writes: () => requests.filter((r) => WRITES.has(r.method) && !r.path.startsWith("/admin/login")),
    logins,
    issuedTokens,
    windows() {
      advanceAll();
      return windows.map((w) => ({ ...w }));
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
      tokens.clear();
    },
    setUpgradeStatus(name, status, details = "") {
      const s = byName(name);
      s.upgradeStatus = status;
      s.upgradeDetails = details;
    },
    completeBehindTheScenes(name, switchPartition) {
      const s = byName(name);
      advance(s, now(), onReboot(s));
      if (s.upgradeStatus !== "ready") throw new Error(`fake: ${name} is not ready`);
      install(s, now(), switchPartition);
    },
    setOffline(name, offline) {
      byName(name).offline = offline;
    },
    hangStatusReads(count) {
      hangLeft = count;
    },
    held: () => held,
    appliance(name) {
      advanceAll();
      const s = byName(name);
      return {
        id: s.id,
        name,
        version: s.version,
        volume: s.volume,
        upgradeStatus: s.upgradeStatus,
        phase: s.phase.kind,
        maintenance: s.maintenance,
      };
    },
    idOf: (name) => byName(name).id,
    nominalDurationMs(name) {
      const s = byName(name);
      const extra = s.spec.roles.includes("controller") && !s.spec.primary ? changeMs + busyMs : 0;
      return s.installMs + s.rebootMs + s.readyLagMs + extra;
    },
    refusals,
  };
  return api;
}
