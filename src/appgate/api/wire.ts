/**
 * The parts of the Controller's answers this operation uses (OpenAPI v23: appliance.yml,
 * appliance_upgrade.yml), read defensively: a missing field becomes undefined, never a crash.
 */

export interface UpgradeStatus {
  /** idle, started, downloading, verifying, ready, installing, success, failed (or whatever else the Controller said). */
  status: string;
  details: string;
}

export type Role = "controller" | "logServer" | "logForwarder" | "gateway" | "connector" | "portal" | "metricsAggregator";
export const ROLES: readonly Role[] = ["controller", "logServer", "logForwarder", "gateway", "connector", "portal", "metricsAggregator"];

export const ROLE_LABELS: Record<Role, string> = {
  controller: "Controller",
  logServer: "LogServer",
  logForwarder: "LogForwarder",
  gateway: "Gateway",
  connector: "Connector",
  portal: "Portal",
  metricsAggregator: "MetricsAggregator",
};

/** One appliance as a call names it: its id for the path, its name for messages. */
export interface ApplianceRef {
  id: string;
  name: string;
}

/** GET /appliances item. */
export interface ApplianceInfo {
  id: string;
  name: string;
  activated: boolean;
  siteId?: string;
  siteName?: string;
  adminHostname?: string;
  /** Enabled functions. */
  roles: Role[];
  /** Virtual IPs configured on the appliance's NICs (IPv4 and IPv6). */
  virtualIps: string[];
  /** Tags (an auto-scale template is tagged `template`). */
  tags: string[];
  /** The hostname other appliances reach it by (`hostname`), and its client interface's HTTPS port. */
  peerHostname?: string;
  peerPort?: number;
}

/** GET /appliances/status item. */
export interface ApplianceLiveStatus {
  id: string;
  /** healthy, busy, warning, error, offline, n/a. */
  status: string;
  /** controller_ready / appliance_ready when up. */
  state: string;
  applianceVersion?: string;
  volumeNumber?: number;
  maintenanceMode?: boolean;
  /** Disk use in percent. */
  disk?: number;
}

export interface ChangeStatus {
  id: string;
  status: string;
  result: string;
  details: string;
}

export const READY_STATES = ["controller_ready", "appliance_ready"];
export const ONLINE_STATUSES = ["healthy", "busy", "warning", "error"];

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The `data` array of a list answer. */
export function listData(body: unknown): unknown[] {
  return arr(obj(body).data);
}

export function toApplianceInfo(raw: unknown): ApplianceInfo | undefined {
  const a = obj(raw);
  const id = str(a.id);
  const name = str(a.name);
  if (id === undefined || name === undefined) return undefined;
  const roles = ROLES.filter((r) => obj(a[r]).enabled === true);
  const virtualIps: string[] = [];
  for (const nic of arr(obj(a.networking).nics)) {
    const n = obj(nic);
    if (n.enabled === false) continue;
    for (const family of ["ipv4", "ipv6"]) {
      const vip = str(obj(n[family]).virtualIp)?.trim();
      if (vip) virtualIps.push(vip.toLowerCase());
    }
  }
  const tags = arr(a.tags).filter((t): t is string => typeof t === "string");
  const info: ApplianceInfo = { id, name, activated: a.activated !== false, roles, virtualIps, tags };
  const site = str(a.site);
  if (site !== undefined) info.siteId = site;
  const siteName = str(a.siteName);
  if (siteName !== undefined) info.siteName = siteName;
  const peer = str(a.hostname);
  if (peer !== undefined) info.peerHostname = peer;
  const port = obj(a.clientInterface).httpsPort;
  if (typeof port === "number") info.peerPort = port;
  const admin = str(obj(a.adminInterface).hostname);
  if (admin !== undefined) info.adminHostname = admin;
  return info;
}

export function toLiveStatus(raw: unknown): ApplianceLiveStatus | undefined {
  const a = obj(raw);
  const id = str(a.id);
  if (id === undefined) return undefined;
  const details = obj(a.details);
  const s: ApplianceLiveStatus = {
    id,
    status: str(a.status) ?? str(details.status) ?? "n/a",
    state: str(a.state) ?? str(details.state) ?? "",
  };
  const version = str(a.applianceVersion) ?? str(details.version);
  if (version !== undefined) s.applianceVersion = version;
  if (typeof details.volumeNumber === "number") s.volumeNumber = details.volumeNumber;
  const maintenance = obj(obj(details.roles).controller).maintenanceMode;
  if (typeof maintenance === "boolean") s.maintenanceMode = maintenance;
  const disk = typeof a.disk === "number" ? a.disk : obj(details.disk).percent;
  if (typeof disk === "number" && Number.isFinite(disk)) s.disk = disk;
  return s;
}

export function toUpgradeStatus(raw: unknown): UpgradeStatus {
  const a = obj(raw);
  return { status: str(a.status) ?? "", details: str(a.details) ?? "" };
}

export function toChangeStatus(raw: unknown): ChangeStatus {
  const a = obj(raw);
  return { id: str(a.id) ?? "", status: str(a.status) ?? "", result: str(a.result) ?? "", details: str(a.details) ?? "" };
}

/** The `id` of a 202 ChangeId answer. */
export function changeIdOf(raw: unknown): string | undefined {
  return str(obj(raw).id);
}

/** `{id, message}` error bodies (422 adds errors[]). */
export function errorMessageOf(raw: unknown): { id?: string; message?: string } {
  const a = obj(raw);
  const out: { id?: string; message?: string } = {};
  const id = str(a.id);
  if (id !== undefined) out.id = id;
  let message = str(a.message) ?? str(a.reason);
  const errors = arr(a.errors)
    .map((e) => {
      const o = obj(e);
      const field = str(o.field);
      const m = str(o.message);
      return field && m ? `${field}: ${m}` : m;
    })
    .filter((m): m is string => m !== undefined);
  if (errors.length > 0) message = `${message ?? "validation failed"} (${errors.join("; ")})`;
  if (message !== undefined) out.message = message;
  return out;
}
