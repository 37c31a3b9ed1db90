/**
 * A fake Appgate SDP Controller admin API (loopback, node:http, port 0) that simulates the
 * completion of prepared upgrades with scaled-down durations, strict per the v23 spec:
 * - versioned Accept header required (406 otherwise; /version wants application/json),
 *   Bearer token required (401), tokens expire (ttl) or can be revoked mid-run;
 * - POST /login checks providerName, deviceId (UUID), credentials;
 * - complete only when `ready`, switch-partition only when `success` (412 otherwise),
 *   DELETE refused while installing, maintenance only on Controllers;
 * - install time, then (switchPartition) a reboot window during which the appliance's calls
 *   answer 502 — and when it is the primary Controller, every call answers 502 during its
 *   install and has its connection dropped during its reboot — then the partition
 *   (volumeNumber) and version change, upgrade status idle, and state ready after a lag;
 * - optional: a misrouting 503 once the primary's complete is accepted, offline appliances,
 *   installs that fail, a complete whose answer is lost, hooks around complete.
 * It records every request, the state-changing calls, the logins, and for each appliance the
 * window during which it was down (complete accepted → ready), to check who was down together.
 * State advances lazily from timestamps, so what is recorded is exact, not sampled.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";

export type FakeRole = "controller" | "logServer" | "logForwarder" | "gateway" | "connector" | "portal" | "metricsAggregator";

export type InitialUpgrade = "idle" | "ready" | "installing" | "success" | "failed" | "downloading" | "upgraded";

export interface FakeApplianceSpec {
  name: string;
  roles: FakeRole[];
  /** The Controller controller-url points at (its admin hostname is `primaryHost`). */
  primary?: boolean;
  site?: string;
  adminHostname?: string;
  /** Connectors sharing one are an HA set (networking.nics[].ipv4.virtualIp). */
  virtualIp?: string;
  /** Version running now (default 6.4.2-31000). */
  version?: string;
  volume?: number;
  /** Upgrade state at start; `upgraded` = idle, already on the prepared version, partition switched. */
  upgrade?: InitialUpgrade;
  /** Prepared image (default the fleet's targetImage). */
  image?: string;
  installMs?: number;
  rebootMs?: number;
  readyLagMs?: number;
  /** The install ends with upgrade status `failed`. */
  failInstall?: boolean;
  offline?: boolean;
  activated?: boolean;
}

export interface FakeControllerOptions {
  appliances: FakeApplianceSpec[];
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
  /** Maintenance-mode changes take this long. */
  changeMs?: number;
  /** A Controller stays busy this long after leaving maintenance mode. */
  busyMs?: number;
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
  };
}

export interface RequestRecord {
  at: number;
  method: string;
  path: string;
  status: number;
}

export interface FakeEvent {
  at: number;
  type: "complete" | "switch-partition" | "maintenance" | "cancel" | "login" | "refused";
  appliance?: string;
  detail?: string;
}

export interface DownWindow {
  name: string;
  start: number;
  /** Ready again (undefined while still down). */
  end?: number;
}

type Phase =
  | { kind: "up" }
  | { kind: "installing"; since: number; switchPartition: boolean }
  | { kind: "rebooting"; since: number }
  | { kind: "starting"; since: number };

interface ApplianceState {
  spec: FakeApplianceSpec;
  id: string;
  siteId: string;
  version: string;
  volume: number;
  upgradeStatus: string;
  upgradeDetails: string;
  image: string;
  phase: Phase;
  offline: boolean;
  maintenance: boolean;
  busyUntil: number;
  installMs: number;
  rebootMs: number;
  readyLagMs: number;
  window?: DownWindow;
}

interface Change {
  id: string;
  applianceId: string;
  doneAt: number;
  apply?: () => void;
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
  appliance(name: string): FakeApplianceView;
  idOf(name: string): string;
  /** Install + reboot + ready lag (+ maintenance-off change and busy time for other Controllers). */
  nominalDurationMs(name: string): number;
  /** Requests answered 406 / 401 (strictness checks). */
  refusals: { notAcceptable: number; unauthorized: number };
}

export const DEFAULT_TARGET_IMAGE = "appgate-6.5.0-32000-release.img.zip";
export const DEFAULT_VERSION = "6.4.2-31000";
export const FAKE_USERNAME = "api-admin";
export const FAKE_PASSWORD = "s3cret-Pa55word!";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A stable UUID for a name, so ids are the same from run to run. */
export function stableId(name: string): string {
  const h = createHash("sha256").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function versionOfImage(image: string): string {
  const m = /(\d+\.\d+\.\d+)(?:-(\d+))?/.exec(image);
  return m ? `${m[1]}${m[2] ? `-${m[2]}` : ""}` : "0.0.0";
}

export async function startFakeController(o: FakeControllerOptions): Promise<FakeController> {
  const now = (): number => Date.now();
  const peer = o.peerVersion ?? 23;
  const lowest = o.lowestPeerVersion ?? 18;
  const username = o.username ?? FAKE_USERNAME;
  const password = o.password ?? FAKE_PASSWORD;
  const providerName = o.providerName ?? "local";
  const ttl = o.tokenTtlMs ?? 3_600_000;
  const primaryHost = o.primaryHost ?? "127.0.0.1";
  const changeMs = o.changeMs ?? 20;
  const busyMs = o.busyMs ?? 20;
  const targetImage = o.targetImage ?? DEFAULT_TARGET_IMAGE;

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

  const states: ApplianceState[] = o.appliances.map((spec) => {
    const image = spec.image ?? targetImage;
    const s: ApplianceState = {
      spec,
      id: stableId(spec.name),
      siteId: stableId(`site:${spec.site ?? "Default"}`),
      version: spec.version ?? DEFAULT_VERSION,
      volume: spec.volume ?? 1,
      upgradeStatus: "idle",
      upgradeDetails: "",
      image,
      phase: { kind: "up" },
      offline: spec.offline ?? false,
      maintenance: false,
      busyUntil: 0,
      installMs: spec.installMs ?? o.installMs ?? 150,
      rebootMs: spec.rebootMs ?? o.rebootMs ?? 100,
      readyLagMs: spec.readyLagMs ?? o.readyLagMs ?? 20,
    };
    switch (spec.upgrade ?? "ready") {
      case "ready":
        s.upgradeStatus = "ready";
        s.upgradeDetails = image;
        break;
      case "installing":
        s.upgradeStatus = "installing";
        s.phase = { kind: "installing", since: now(), switchPartition: spec.roles.includes("controller") };
        s.window = { name: spec.name, start: now() };
        windows.push(s.window);
        break;
      case "success":
        s.upgradeStatus = "success";
        s.upgradeDetails = "a reboot is required for the Upgrade to go into effect";
        break;
      case "failed":
        s.upgradeStatus = "failed";
        s.upgradeDetails = "installation failed: not enough disk space";
        break;
      case "downloading":
        s.upgradeStatus = "downloading";
        break;
      case "upgraded":
        s.version = versionOfImage(image);
        s.volume = (spec.volume ?? 1) === 1 ? 2 : 1;
        break;
      case "idle":
        break;
    }
    return s;
  });
  const primary = states.find((s) => s.spec.primary);

  const byId = (id: string): ApplianceState | undefined => states.find((s) => s.id === id);
  const byName = (name: string): ApplianceState => {
    const s = states.find((x) => x.spec.name === name);
    if (!s) throw new Error(`fake: no appliance ${name}`);
    return s;
  };

  /** Moves an appliance's lifecycle forward to time t. */
  function advance(s: ApplianceState, t: number): void {
    for (;;) {
      const p = s.phase;
      if (p.kind === "installing" && t >= p.since + s.installMs) {
        const at = p.since + s.installMs;
        if (s.spec.failInstall) {
          s.phase = { kind: "up" };
          s.upgradeStatus = "failed";
          s.upgradeDetails = "installation failed: image verification error";
          if (s.window) s.window.end = at;
        } else if (p.switchPartition) {
          s.phase = { kind: "rebooting", since: at };
          s.upgradeStatus = "installing";
        } else {
          s.phase = { kind: "up" };
          s.upgradeStatus = "success";
          s.upgradeDetails = "a reboot is required for the Upgrade to go into effect";
        }
        continue;
      }
      if (p.kind === "rebooting" && t >= p.since + s.rebootMs) {
        const at = p.since + s.rebootMs;
        s.phase = { kind: "starting", since: at };
        s.volume = s.volume === 1 ? 2 : 1;
        s.version = versionOfImage(s.image);
        s.upgradeStatus = "idle";
        s.upgradeDetails = "";
        if (s === primary && o.primaryRebootRevokesTokens) {
          for (const [tok, exp] of tokens) if (exp !== Infinity) tokens.delete(tok);
        }
        continue;
      }
      if (p.kind === "starting" && t >= p.since + s.readyLagMs) {
        s.phase = { kind: "up" };
        if (s.window) s.window.end = p.since + s.readyLagMs;
        continue;
      }
      break;
    }
  }

  function advanceChanges(t: number): void {
    for (const c of changes.values()) {
      if (!c.applied && t >= c.doneAt) {
        c.applied = true;
        c.apply?.();
      }
    }
  }

  function advanceAll(): number {
    const t = now();
    for (const s of states) advance(s, t);
    advanceChanges(t);
    return t;
  }

  function newChange(applianceId: string, doneAt: number, apply?: () => void): string {
    const id = randomUUID();
    changes.set(id, { id, applianceId, doneAt, applied: false, ...(apply ? { apply } : {}) });
    return id;
  }

  function isDown(s: ApplianceState): boolean {
    return s.offline || s.phase.kind === "rebooting";
  }

  function applianceJson(s: ApplianceState): unknown {
    const roles = s.spec.roles;
    const role = (r: FakeRole): { enabled: boolean } => ({ enabled: roles.includes(r) });
    const ipv4: Record<string, unknown> = {
      dhcp: { enabled: false, dns: false, routers: false, ntp: false, mtu: false },
      static: [{ address: `10.0.${states.indexOf(s)}.10`, netmask: 24, snat: false }],
    };
    if (s.spec.virtualIp) ipv4.virtualIp = s.spec.virtualIp;
    const out: Record<string, unknown> = {
      id: s.id,
      name: s.spec.name,
      notes: "",
      tags: [],
      activated: s.spec.activated ?? true,
      pendingCertificateRenewal: false,
      version: peer,
      hostname: `${s.spec.name}.example.test`,
      site: s.siteId,
      siteName: s.spec.site ?? "Default",
      clientInterface: { hostname: `${s.spec.name}.example.test`, httpsPort: 443 },
      networking: { hosts: [], nics: [{ enabled: true, name: "eth0", ipv4 }], dnsServers: [], routes: [] },
      controller: role("controller"),
      gateway: role("gateway"),
      logServer: role("logServer"),
      logForwarder: role("logForwarder"),
      connector: role("connector"),
      portal: role("portal"),
      metricsAggregator: role("metricsAggregator"),
    };
    if (roles.includes("controller") || roles.includes("logServer")) {
      out.adminInterface = {
        hostname: s.spec.primary ? primaryHost : (s.spec.adminHostname ?? `${s.spec.name}.example.test`),
        httpsPort: 8443,
        httpsCiphers: ["ECDHE-RSA-AES256-GCM-SHA384"],
      };
    }
    return out;
  }

  const FUNCTION_NAMES: Record<FakeRole, string> = {
    controller: "Controller",
    gateway: "Gateway",
    logServer: "LogServer",
    logForwarder: "LogForwarder",
    connector: "Connector",
    portal: "Portal",
    metricsAggregator: "Metrics Aggregator",
  };

  function statusJson(s: ApplianceState, t: number): unknown {
    let status: string;
    let state: string;
    if (s.offline || s.phase.kind === "rebooting") {
      status = "offline";
      state = "";
    } else if (s.phase.kind === "starting") {
      status = "busy";
      state = "appliance_starting";
    } else {
      status = s.phase.kind === "installing" || t < s.busyUntil ? "busy" : "healthy";
      state = s.spec.roles.includes("controller") ? "controller_ready" : "appliance_ready";
    }
    const details: Record<string, unknown> = {
      version: s.version,
      status,
      state,
      volumeNumber: s.volume,
      upgrade: { status: s.phase.kind === "installing" ? "upgrading" : "idle", details: "" },
      roles: s.spec.roles.includes("controller") ? { controller: { status, maintenanceMode: s.maintenance } } : {},
    };
    return {
      id: s.id,
      name: s.spec.name,
      site: s.siteId,
      siteName: s.spec.site ?? "Default",
      activated: s.spec.activated ?? true,
      functions: s.spec.roles.map((r) => FUNCTION_NAMES[r]),
      status,
      state,
      applianceVersion: s.version,
      numberOfSessions: 0,
      details,
    };
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
    // The primary Controller itself installing (services stopped) or rebooting (no answer at all).
    if (primary && primary.phase.kind === "installing") {
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

    if (path === "/appliances" && method === "GET") {
      const data = states.map(applianceJson);
      return send(res, 200, { range: `0-${data.length}/${data.length}`, orderBy: "name", descending: false, queries: [], totalCount: data.length, filterBy: [], data });
    }
    if (path === "/appliances/status" && method === "GET") {
      return send(res, 200, { range: `0-${states.length}/${states.length}`, data: states.map((s) => statusJson(s, t)) });
    }

    const pm = /^\/appliances\/([^/]+)(\/.*)$/.exec(path);
    const s = pm ? byId(pm[1]!) : undefined;
    if (!pm || !s) {
      await readBody(req);
      return err(res, 404, "not_found", `no such resource: ${method} ${path}`);
    }
    const sub = pm[2]!;

    if (sub === "/upgrade" && method === "GET") {
      if (isDown(s)) return err(res, 502, "bad_gateway", `${s.spec.name} does not answer`);
      return send(res, 200, { status: s.upgradeStatus, details: s.upgradeDetails });
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
      advance(s, now());
      if (isDown(s)) return err(res, 502, "bad_gateway", `${s.spec.name} does not answer`);
      if (s.upgradeStatus !== "ready") {
        return err(res, 412, "appliance_state_error", `upgrade status is ${s.upgradeStatus}; complete needs ready`);
      }
      const sp = body.switchPartition === true;
      startInstall(s, t, sp);
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
      s.phase = { kind: "rebooting", since: t };
      s.upgradeStatus = "installing";
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
      const id = newChange(s.id, t + changeMs, () => {
        s.maintenance = enabled;
        if (!enabled) s.busyUntil = t + changeMs + busyMs;
      });
      return send(res, 202, { id }, "appliance/json");
    }
    const cm = /^\/change\/([^/]+)$/.exec(sub);
    if (cm && method === "GET") {
      const c = changes.get(decodeURIComponent(cm[1]!));
      if (!c || c.applianceId !== s.id) return err(res, 404, "not_found", "no such change");
      const done = t >= c.doneAt;
      return send(res, 200, { id: c.id, status: done ? "completed" : "running", result: done ? "success" : "", details: "" });
    }
    await readBody(req);
    return err(res, 404, "not_found", `no such resource: ${method} ${path}`);
  }

  function startInstall(s: ApplianceState, t: number, switchPartition: boolean): void {
    s.phase = { kind: "installing", since: t, switchPartition };
    s.upgradeStatus = "installing";
    s.upgradeDetails = "";
    s.window = { name: s.spec.name, start: t };
    windows.push(s.window);
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
    writes: () => requests.filter((r) => (r.method === "POST" || r.method === "DELETE") && !r.path.startsWith("/admin/login")),
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
      advance(s, now());
      if (s.upgradeStatus !== "ready") throw new Error(`fake: ${name} is not ready`);
      startInstall(s, now(), switchPartition);
    },
    setOffline(name, offline) {
      byName(name).offline = offline;
    },
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
