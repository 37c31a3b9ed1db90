/** How one fake appliance looks in the Controller's answers: GET /appliances and GET /appliances/status entries. */
import { type ApplianceState, type FakeRole, isDown } from "./fake-appliance.ts";

/** Busy after leaving maintenance mode: for a time and for a number of status reads. */
function busyNow(s: ApplianceState, t: number): boolean {
  if (s.busyReads > 0) {
    s.busyReads--;
    return true;
  }
  return t < s.busyUntil;
}

export const FUNCTION_NAMES: Record<FakeRole, string> = {
  controller: "Controller",
  gateway: "Gateway",
  logServer: "LogServer",
  logForwarder: "LogForwarder",
  connector: "Connector",
  portal: "Portal",
  metricsAggregator: "Metrics Aggregator",
};

/** The GET /appliances/status entry (counts a busy read); `onNotBusy` is told when a busy spell is first seen over. */
export function statusJson(s: ApplianceState, t: number, onNotBusy: () => void): unknown {
  let status: string;
  let state: string;
  if (isDown(s)) {
    status = "offline";
    state = "";
  } else if (s.phase.kind === "starting") {
    status = "busy";
    state = "appliance_starting";
  } else {
    const busy = s.phase.kind === "installing" || s.phase.kind === "installed" || busyNow(s, t);
    status = busy ? "busy" : "healthy";
    state = s.spec.roles.includes("controller") ? "controller_ready" : "appliance_ready";
    if (!busy && s.leavingBusy) {
      s.leavingBusy = false;
      onNotBusy();
    }
  }
  const details: Record<string, unknown> = {
    version: s.version,
    status,
    state,
    upgrade: { status: s.phase.kind === "installing" ? "upgrading" : "idle", details: "" },
    roles: s.spec.roles.includes("controller") ? { controller: { status, maintenanceMode: s.maintenance } } : {},
  };
  if (!s.spec.noVolumeNumber) details.volumeNumber = s.volume;
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
    disk: s.spec.disk ?? 40,
    numberOfSessions: 0,
    details,
  };
}

/** The GET /appliances entry. */
export function applianceJson(s: ApplianceState, index: number, peer: number, primaryHost: string): unknown {
  const roles = s.spec.roles;
  const role = (r: FakeRole): { enabled: boolean } => ({ enabled: roles.includes(r) });
  const ipv4: Record<string, unknown> = {
    dhcp: { enabled: false, dns: false, routers: false, ntp: false, mtu: false },
    static: [{ address: `10.0.${index}.10`, netmask: 24, snat: false }],
  };
  if (s.spec.virtualIp) ipv4.virtualIp = s.spec.virtualIp;
  const out: Record<string, unknown> = {
    id: s.id,
    name: s.spec.name,
    notes: "",
    tags: s.spec.tags ?? [],
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
