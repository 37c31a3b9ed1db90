/**
 * The upgrade plan (pure): which appliances to complete, in which stages, and what stops the
 * run before any change. Order, as sdpctl does it: the primary Controller; the other
 * Controllers one at a time; then batches in which no site has more than max-unavailable
 * gateways (nor log forwarders, nor connectors sharing a virtual IP) down at once.
 */
import {
  type ApplianceInfo,
  type ApplianceLiveStatus,
  ONLINE_STATUSES,
  ROLE_LABELS,
  type Role,
  type UpgradeStatus,
} from "./api-types.ts";
import { packBatches, type BatchItem } from "./batches.ts";
import {
  type ApplianceVersion,
  formatVersion,
  isMajorOrMinorUpgrade,
  parseVersion,
  sameVersion,
  versionFromImageName,
} from "./version.ts";

/** What the Controller told us about one appliance before the run. */
export interface FleetAppliance {
  info: ApplianceInfo;
  live?: ApplianceLiveStatus;
  upgrade?: UpgradeStatus;
  /** Why the upgrade status could not be read. */
  upgradeError?: string;
}

/** Where a planned appliance starts from: a fresh `ready`, or a run left halfway. */
export type PlanAction = "complete" | "wait-install" | "switch-partition";

export interface ApplianceFacts {
  id: string;
  name: string;
  /** Enabled functions, e.g. "Controller, LogServer". */
  role: string;
  site: string;
  versionBefore?: string;
  partitionBefore?: number;
}

export interface PlannedAppliance extends ApplianceFacts {
  roles: Role[];
  action: PlanAction;
  /** Controllers reboot straight into the new partition; the rest wait for switch-partition. */
  switchPartition: boolean;
  isPrimary: boolean;
  /** The version the prepared image installs, when known. */
  target?: ApplianceVersion;
  /** The prepared image as the Controller named it (or the target version). */
  targetText: string;
  startStatus: string;
}

export interface SkippedAppliance extends ApplianceFacts {
  reason: string;
  /** Already on the target version (a finished earlier run). */
  alreadyUpgraded?: boolean;
}

export interface Stage {
  kind: "primary" | "controller" | "batch";
  label: string;
  appliances: PlannedAppliance[];
}

export interface UpgradePlan {
  primary?: { id: string; name: string };
  /** Other Controllers put into maintenance mode before the primary starts. */
  maintenance: PlannedAppliance[];
  stages: Stage[];
  skipped: SkippedAppliance[];
  /** Appliances whose upgrade status is `failed`: reported, never retried. */
  failed: SkippedAppliance[];
  /** Reasons not to start at all. */
  problems: string[];
  warnings: string[];
  /** Distinct prepared versions. */
  targetVersions: string[];
}

export interface PlanInput {
  appliances: readonly FleetAppliance[];
  /** Hostname of controller-url. */
  controllerHost: string;
  /** Names or ids from the appliances input; undefined = all. */
  selection?: readonly string[];
  maxUnavailable: number;
}

export function roleLabel(roles: readonly Role[]): string {
  return roles.length === 0 ? "Appliance" : roles.map((r) => ROLE_LABELS[r]).join(", ");
}

function isOnline(a: FleetAppliance): boolean {
  return a.live !== undefined && ONLINE_STATUSES.includes(a.live.status);
}

function facts(a: FleetAppliance): ApplianceFacts {
  const f: ApplianceFacts = {
    id: a.info.id,
    name: a.info.name,
    role: roleLabel(a.info.roles),
    site: a.info.siteName ?? a.info.siteId ?? "",
  };
  if (a.live?.applianceVersion !== undefined) f.versionBefore = a.live.applianceVersion;
  if (a.live?.volumeNumber !== undefined) f.partitionBefore = a.live.volumeNumber;
  return f;
}

const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);

export function planUpgrade(input: PlanInput): UpgradePlan {
  const plan: UpgradePlan = { maintenance: [], stages: [], skipped: [], failed: [], problems: [], warnings: [], targetVersions: [] };
  const all = [...input.appliances].sort((a, b) => byName(a.info, b.info));
  const isController = (a: FleetAppliance): boolean => a.info.roles.includes("controller");

  // The primary Controller: the one whose admin hostname is controller-url's host.
  const host = input.controllerHost.replace(/^\[|\]$/g, "").toLowerCase();
  const controllers = all.filter(isController);
  const matches = controllers.filter((c) => c.info.adminHostname?.toLowerCase() === host);
  if (matches.length === 1) {
    plan.primary = { id: matches[0]!.info.id, name: matches[0]!.info.name };
  } else if (matches.length === 0) {
    const known = controllers.map((c) => c.info.adminHostname ?? "?").join(", ");
    plan.problems.push(
      `controller-url's host '${host}' is not the admin hostname of any Controller (${known || "no Controllers listed"}). ` +
        "Use the primary Controller's own admin address, not a load balancer or an alias",
    );
  } else {
    plan.problems.push(
      `controller-url's host '${host}' is the admin hostname of more than one Controller (${matches.map((m) => m.info.name).join(", ")}); a unique one is needed`,
    );
  }

  // Every Controller and LogServer must be online.
  for (const a of all) {
    if (!a.info.activated) continue;
    const vital = a.info.roles.filter((r) => r === "controller" || r === "logServer");
    if (vital.length > 0 && !isOnline(a)) {
      plan.problems.push(
        `${roleLabel(vital)} ${a.info.name} is ${a.live ? `${a.live.status}` : "missing from the status list"}: every Controller and LogServer must be online`,
      );
    }
  }

  // Which appliances the run is about.
  let selected: Set<string> | undefined;
  if (input.selection !== undefined) {
    selected = new Set();
    for (const wanted of input.selection) {
      const hit = all.find((a) => a.info.name === wanted) ?? all.find((a) => a.info.id.toLowerCase() === wanted.toLowerCase());
      if (hit) selected.add(hit.info.id);
      else plan.problems.push(`appliances: there is no appliance named (or with id) '${wanted}'`);
    }
  }

  // Prepared versions (across the fleet) tell resumed and finished appliances apart.
  const preparedTargets: ApplianceVersion[] = [];
  for (const a of all) {
    if (a.upgrade?.status !== "ready") continue;
    const t = versionFromImageName(a.upgrade.details);
    if (t && !preparedTargets.some((p) => sameVersion(p, t))) preparedTargets.push(t);
  }
  plan.targetVersions = preparedTargets.map(formatVersion);
  const soleTarget = preparedTargets.length === 1 ? preparedTargets[0] : undefined;
  // With nothing prepared, a collective whose appliances all run one version is taken as done.
  const uniform = preparedTargets.length === 0 ? uniformVersion(all.filter((a) => a.info.activated && isOnline(a))) : undefined;

  const planned: PlannedAppliance[] = [];
  const skip = (a: FleetAppliance, reason: string, alreadyUpgraded = false): void => {
    plan.skipped.push({ ...facts(a), reason, ...(alreadyUpgraded ? { alreadyUpgraded } : {}) });
  };
  for (const a of all) {
    if (selected && !selected.has(a.info.id)) {
      skip(a, "not in the appliances input");
      continue;
    }
    if (!a.info.activated) {
      skip(a, "not activated");
      continue;
    }
    if (!isOnline(a)) {
      skip(a, `offline (status ${a.live?.status ?? "unknown"})`);
      continue;
    }
    if (a.upgradeError !== undefined || a.upgrade === undefined) {
      skip(a, `upgrade status could not be read: ${a.upgradeError ?? "no answer"}`);
      continue;
    }
    const current = parseVersion(a.live?.applianceVersion);
    const { status, details } = a.upgrade;
    const base = {
      ...facts(a),
      roles: a.info.roles,
      switchPartition: isController(a),
      isPrimary: a.info.id === plan.primary?.id,
      startStatus: status,
    };
    switch (status) {
      case "ready": {
        const target = versionFromImageName(details);
        if (!target) {
          skip(a, `prepared image '${details}' names no version`);
          break;
        }
        if (current && sameVersion(current, target)) {
          skip(a, `already runs ${formatVersion(target)}, the prepared version`, true);
          break;
        }
        planned.push({ ...base, action: "complete", target, targetText: details });
        break;
      }
      case "installing":
      case "success": {
        const p: PlannedAppliance = {
          ...base,
          action: status === "installing" ? "wait-install" : "switch-partition",
          targetText: soleTarget ? formatVersion(soleTarget) : "(as prepared)",
        };
        if (soleTarget) p.target = soleTarget;
        planned.push(p);
        break;
      }
      case "failed":
        plan.failed.push({ ...facts(a), reason: `upgrade failed earlier${details ? `: ${details}` : ""}; never retried` });
        plan.problems.push(
          `${a.info.name}: its upgrade status is 'failed'${details ? ` (${details})` : ""}. It is never retried: ` +
            "look at the appliance, cancel or prepare its upgrade again, or leave it out with the appliances input",
        );
        break;
      case "idle": {
        const onTarget = current !== undefined && preparedTargets.some((t) => sameVersion(t, current));
        if (onTarget) skip(a, `already on the target version ${formatVersion(current)}`, true);
        else if (current !== undefined && uniform !== undefined && sameVersion(current, uniform)) {
          skip(a, `not prepared; runs ${formatVersion(current)} like every appliance of the collective`, true);
        }
        else skip(a, `not prepared (upgrade status idle${a.live?.applianceVersion ? `, runs ${a.live.applianceVersion}` : ""})`);
        break;
      }
      case "started":
      case "downloading":
      case "verifying":
        skip(a, `still preparing (upgrade status ${status})`);
        break;
      default:
        skip(a, `upgrade status '${status}' is not one this action completes`);
    }
  }

  checkControllers(all, planned, plan);
  warnOfflineNeighbours(all, planned, plan);

  // Stages.
  const primary = planned.find((p) => p.isPrimary);
  if (primary) plan.stages.push({ kind: "primary", label: "Primary Controller", appliances: [primary] });
  const others = planned.filter((p) => !p.isPrimary && p.switchPartition).sort(byName);
  others.forEach((c, i) =>
    plan.stages.push({ kind: "controller", label: `Other Controller ${i + 1} of ${others.length}`, appliances: [c] }),
  );
  plan.maintenance = others.filter((c) => c.action !== "wait-install");

  const rest = planned.filter((p) => !p.switchPartition);
  const batches = packBatches(
    rest.map((p) => batchItem(p, all)),
    groupCaps(all, input.maxUnavailable),
  );
  batches.forEach((b, i) => plan.stages.push({ kind: "batch", label: `Batch ${i + 1} of ${batches.length}`, appliances: b }));

  if (planned.length === 0 && plan.failed.length === 0 && !plan.skipped.some((s) => s.alreadyUpgraded)) {
    plan.problems.push("No appliance is ready to complete an upgrade: prepare the upgrade first (upgrade status 'ready')");
  }
  return plan;
}

/** The version every appliance runs, when they all run the same one (and it parses). */
function uniformVersion(appliances: readonly FleetAppliance[]): ApplianceVersion | undefined {
  let v: ApplianceVersion | undefined;
  for (const a of appliances) {
    const cur = parseVersion(a.live?.applianceVersion);
    if (!cur || (v && !sameVersion(v, cur))) return undefined;
    v ??= cur;
  }
  return v;
}

/** Prepared Controllers must agree on a major/minor upgrade, and the primary goes first. */
function checkControllers(all: readonly FleetAppliance[], planned: readonly PlannedAppliance[], plan: UpgradePlan): void {
  const ctrls = all.filter((a) => a.info.roles.includes("controller") && a.info.activated);
  const prepared = ctrls
    .filter((c) => c.upgrade?.status === "ready")
    .map((c) => ({ c, current: parseVersion(c.live?.applianceVersion), target: versionFromImageName(c.upgrade?.details) }));
  const majorMinor = prepared.some((p) => p.current && p.target && isMajorOrMinorUpgrade(p.current, p.target));
  const targets = prepared.map((p) => p.target).filter((t): t is ApplianceVersion => t !== undefined);
  const distinct = targets.filter((t, i) => targets.findIndex((u) => sameVersion(u, t)) === i);
  if (majorMinor && distinct.length > 1) {
    plan.problems.push(
      `prepared Controllers target different versions on a major/minor upgrade (${prepared
        .map((p) => `${p.c.info.name}: ${formatVersion(p.target)}`)
        .join(", ")}); prepare them all with the same image`,
    );
  }
  if (!majorMinor || distinct.length !== 1) return;
  const target = distinct[0]!;
  for (const c of ctrls) {
    const current = parseVersion(c.live?.applianceVersion);
    const inPlan = planned.some((p) => p.id === c.info.id);
    if (!inPlan && !(current && sameVersion(current, target))) {
      plan.warnings.push(
        `Controller ${c.info.name} is not being upgraded to ${formatVersion(target)} (runs ${c.live?.applianceVersion ?? "an unknown version"}); ` +
          "Controllers of different minor versions may not work together",
      );
    }
  }
  const primary = ctrls.find((c) => c.info.id === plan.primary?.id);
  const secondariesPlanned = planned.some((p) => p.switchPartition && !p.isPrimary && p.action === "complete");
  const primaryPlanned = planned.some((p) => p.isPrimary);
  const primaryCurrent = parseVersion(primary?.live?.applianceVersion);
  if (primary && secondariesPlanned && !primaryPlanned && !(primaryCurrent && sameVersion(primaryCurrent, target))) {
    plan.problems.push(
      `on a major/minor upgrade the primary Controller ${primary.info.name} goes first, but it is not being upgraded ` +
        `(runs ${primary.live?.applianceVersion ?? "an unknown version"}); include it or prepare it`,
    );
  }
}

/** Says when a site already has a gateway down, since taking another one down leaves fewer up. */
function warnOfflineNeighbours(all: readonly FleetAppliance[], planned: readonly PlannedAppliance[], plan: UpgradePlan): void {
  const sites = new Set(planned.filter((p) => p.roles.includes("gateway")).map((p) => p.site));
  for (const site of sites) {
    const down = all.filter(
      (a) => a.info.activated && a.info.roles.includes("gateway") && (a.info.siteName ?? a.info.siteId ?? "") === site && !isOnline(a),
    );
    if (down.length > 0) {
      plan.warnings.push(`site ${site || "(none)"} already has gateway(s) offline (${down.map((d) => d.info.name).join(", ")})`);
    }
  }
}

function siteKey(info: ApplianceInfo): string {
  return info.siteId ?? info.siteName ?? "-";
}

/** The connectors (of the whole fleet) sharing each virtual IP. */
function haSets(all: readonly FleetAppliance[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const a of all) {
    if (!a.info.activated || !a.info.roles.includes("connector")) continue;
    for (const vip of new Set(a.info.virtualIps)) sizes.set(vip, (sizes.get(vip) ?? 0) + 1);
  }
  return sizes;
}

function batchItem(p: PlannedAppliance, all: readonly FleetAppliance[]): BatchItem<PlannedAppliance> {
  const a = all.find((x) => x.info.id === p.id)!;
  const groups: string[] = [];
  const site = siteKey(a.info);
  if (p.roles.includes("gateway")) groups.push(`gateway@${site}`);
  if (p.roles.includes("logForwarder")) groups.push(`logForwarder@${site}`);
  if (p.roles.includes("connector")) {
    const sizes = haSets(all);
    for (const vip of new Set(a.info.virtualIps)) if ((sizes.get(vip) ?? 0) > 1) groups.push(`vip:${vip}`);
  }
  return { item: p, key: `${p.site}\u0000${p.name}`, groups };
}

/** max-unavailable per group; an HA set sharing a virtual IP always keeps one member up. */
function groupCaps(all: readonly FleetAppliance[], maxUnavailable: number): Map<string, number> {
  const caps = new Map<string, number>();
  for (const a of all) {
    const site = siteKey(a.info);
    caps.set(`gateway@${site}`, maxUnavailable);
    caps.set(`logForwarder@${site}`, maxUnavailable);
  }
  for (const [vip, size] of haSets(all)) if (size > 1) caps.set(`vip:${vip}`, Math.min(maxUnavailable, size - 1));
  return caps;
}
