/**
 * One appliance of the fake Controller: its spec, its state and its upgrade lifecycle, and how
 * it looks in the Controller's answers (GET /appliances, GET /appliances/status).
 *
 * The lifecycle advances lazily from timestamps (install → [transient success] → reboot →
 * starting → up), so what is recorded is exact, not sampled. Some steps can also wait for a
 * number of reads instead of (or on top of) time: a test then decides when they end by what the
 * action asks, never by how fast the machine is.
 */
import { createHash } from "node:crypto";

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
  /** The install also lasts until its upgrade status was read this many times during it. */
  installReads?: number;
  /** After a complete or switch-partition is accepted, this many reads still show the status before it (lag). */
  statusLagReads?: number;
  /** With switchPartition:true, the install ends at `success` for this many reads before the reboot starts. */
  successReads?: number;
  /** The reboot comes back idle on the OLD partition and version (a failed switch). */
  bootsOldPartition?: boolean;
  /** Its status entry carries no details.volumeNumber. */
  noVolumeNumber?: boolean;
  /** A Controller in maintenance mode at start. */
  maintenance?: boolean;
  /** The install ends with upgrade status `failed`. */
  failInstall?: boolean;
  /** Turning its maintenance mode on is refused with this status (500: a Controller in trouble; 422, 403: for good). */
  refuseMaintenanceOn?: number;
  offline?: boolean;
  activated?: boolean;
  /** Disk use in percent in the status list (default 40). */
  disk?: number;
  tags?: string[];
  /** A prepare ends with upgrade status `failed`. */
  failPrepare?: boolean;
}

export type Phase =
  | { kind: "up" }
  | { kind: "installing"; since: number; switchPartition: boolean }
  /** Installed with switchPartition:true, showing `success` until its reads are used up. */
  | { kind: "installed"; since: number }
  | { kind: "rebooting"; since: number }
  | { kind: "starting"; since: number };

export interface DownWindow {
  name: string;
  start: number;
  /** Ready again (undefined while still down). */
  end?: number;
}

export interface ApplianceState {
  spec: FakeApplianceSpec;
  id: string;
  siteId: string;
  version: string;
  volume: number;
  upgradeStatus: string;
  upgradeDetails: string;
  image: string;
  phase: Phase;
  /** Reads the current phase still waits for, and when the last of them came. */
  phaseReads: number;
  phaseReadsDoneAt: number;
  /** Lagging answers still to give: the upgrade status as it was before the last change. */
  lag?: { reads: number; status: string; details: string };
  offline: boolean;
  maintenance: boolean;
  busyUntil: number;
  busyReads: number;
  /** Left maintenance mode and not yet seen not busy (for the `not-busy` event). */
  leavingBusy: boolean;
  installMs: number;
  rebootMs: number;
  readyLagMs: number;
  window?: DownWindow;
  /** A prepare under way: started → downloading → verifying → ready (or failed). */
  prepare?: { since: number; ms: number; image: string; window: DownWindow };
}

export interface FleetDefaults {
  targetImage: string;
  installMs: number;
  rebootMs: number;
  readyLagMs: number;
}

export const DEFAULT_TARGET_IMAGE = "appgate-6.5.0-32000-release.img.zip";
export const DEFAULT_VERSION = "6.4.2-31000";
const REBOOT_REQUIRED = "a reboot is required for the Upgrade to go into effect";

/** A stable UUID for a name, so ids are the same from run to run. */
export function stableId(name: string): string {
  const h = createHash("sha256").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function versionOfImage(image: string): string {
  const m = /(\d+\.\d+\.\d+)(?:-(\d+))?/.exec(image);
  return m ? `${m[1]}${m[2] ? `-${m[2]}` : ""}` : "0.0.0";
}

export function newAppliance(spec: FakeApplianceSpec, d: FleetDefaults, now: number): ApplianceState {
  const image = spec.image ?? d.targetImage;
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
    phaseReads: 0,
    phaseReadsDoneAt: now,
    offline: spec.offline ?? false,
    maintenance: spec.maintenance ?? false,
    busyUntil: 0,
    busyReads: 0,
    leavingBusy: false,
    installMs: spec.installMs ?? d.installMs,
    rebootMs: spec.rebootMs ?? d.rebootMs,
    readyLagMs: spec.readyLagMs ?? d.readyLagMs,
  };
  switch (spec.upgrade ?? "ready") {
    case "ready":
      setStatus(s, "ready", image);
      break;
    case "installing":
      startInstall(s, now, spec.roles.includes("controller"));
      break;
    case "success":
      setStatus(s, "success", REBOOT_REQUIRED);
      break;
    case "failed":
      setStatus(s, "failed", "installation failed: not enough disk space");
      break;
    case "downloading":
      setStatus(s, "downloading", "");
      break;
    case "upgraded":
      s.version = versionOfImage(image);
      s.volume = (spec.volume ?? 1) === 1 ? 2 : 1;
      break;
    case "idle":
      break;
  }
  return s;
}

function setStatus(s: ApplianceState, status: string, details: string): void {
  s.upgradeStatus = status;
  s.upgradeDetails = details;
}

function enterPhase(s: ApplianceState, phase: Phase, reads: number): void {
  s.phase = phase;
  s.phaseReads = reads;
  s.phaseReadsDoneAt = "since" in phase ? phase.since : 0;
}

/** When the current phase, lasting `ms`, ends: its time and its reads both over. */
function phaseEnd(s: ApplianceState, since: number, ms: number): number | undefined {
  return s.phaseReads > 0 ? undefined : Math.max(since + ms, s.phaseReadsDoneAt);
}

/** Starts an install (a complete was accepted, or the appliance starts out installing). */
export function startInstall(s: ApplianceState, t: number, switchPartition: boolean): void {
  enterPhase(s, { kind: "installing", since: t, switchPartition }, s.spec.installReads ?? 0);
  setStatus(s, "installing", "");
  s.window = { name: s.spec.name, start: t };
}

/** switch-partition accepted: the reboot starts. */
export function startReboot(s: ApplianceState, t: number): void {
  enterPhase(s, { kind: "rebooting", since: t }, 0);
  setStatus(s, "installing", "");
}

/** Lagging reads after a change: the status before it is still shown for a while. */
export function startLag(s: ApplianceState, before: { status: string; details: string }): void {
  const reads = s.spec.statusLagReads ?? 0;
  if (reads > 0) s.lag = { reads, ...before };
}

/** The upgrade status as GET /appliances/{id}/upgrade answers it now (counts the read). */
export function readUpgradeStatus(s: ApplianceState, t: number): { status: string; details: string } {
  if (s.lag && s.lag.reads > 0) {
    s.lag.reads--;
    return { status: s.lag.status, details: s.lag.details };
  }
  if ((s.phase.kind === "installing" || s.phase.kind === "installed") && s.phaseReads > 0) {
    s.phaseReads--;
    s.phaseReadsDoneAt = t;
  }
  return { status: s.upgradeStatus, details: s.upgradeDetails };
}

/** Whether a lag still hides the install (a primary keeps answering meanwhile). */
export function lagging(s: ApplianceState): boolean {
  return s.lag !== undefined && s.lag.reads > 0;
}

/**
 * Moves an appliance's lifecycle forward to time t. `onReboot` is told when a reboot ends (the
 * primary's may revoke tokens).
 */
export function advance(s: ApplianceState, t: number, onReboot: () => void): void {
  for (;;) {
    const p = s.phase;
    if (p.kind === "installing") {
      const at = phaseEnd(s, p.since, s.installMs);
      if (at === undefined || t < at) break;
      if (s.spec.failInstall) {
        enterPhase(s, { kind: "up" }, 0);
        setStatus(s, "failed", "installation failed: image verification error");
        if (s.window) s.window.end = at;
      } else if (p.switchPartition && (s.spec.successReads ?? 0) > 0) {
        enterPhase(s, { kind: "installed", since: at }, s.spec.successReads ?? 0);
        setStatus(s, "success", REBOOT_REQUIRED);
      } else if (p.switchPartition) {
        startReboot(s, at);
      } else {
        enterPhase(s, { kind: "up" }, 0);
        setStatus(s, "success", REBOOT_REQUIRED);
      }
      continue;
    }
    if (p.kind === "installed") {
      const at = phaseEnd(s, p.since, 0);
      if (at === undefined || t < at) break;
      startReboot(s, at);
      continue;
    }
    if (p.kind === "rebooting") {
      const at = p.since + s.rebootMs;
      if (t < at) break;
      enterPhase(s, { kind: "starting", since: at }, 0);
      if (!s.spec.bootsOldPartition) {
        s.volume = s.volume === 1 ? 2 : 1;
        s.version = versionOfImage(s.image);
      }
      setStatus(s, "idle", "");
      onReboot();
      continue;
    }
    if (p.kind === "starting") {
      const at = p.since + s.readyLagMs;
      if (t < at) break;
      enterPhase(s, { kind: "up" }, 0);
      if (s.window) s.window.end = at;
      continue;
    }
    break;
  }
}

/** Down: its calls fail (offline, or rebooting). */
export function isDown(s: ApplianceState): boolean {
  return s.offline || s.phase.kind === "rebooting";
}
