/**
 * The upgrade plan (pure): which appliances to complete, in which stages, and what stops the
 * run before any change. Order, as sdpctl does it: the primary Controller; the other
 * Controllers one at a time; then batches in which no site has more than max-unavailable
 * gateways (nor log forwarders, nor connectors sharing a virtual IP) down at once. Appliances
 * an earlier run left installing are waited for first, before anything new starts.
 */
import { ROLE_LABELS, type Role } from "./api-types.ts";
import { type FleetAppliance, isController, isOnline } from "./fleet.ts";
import { checkControllers, checkNothingToDo, checkPrimary, warnOfflineNeighbours } from "./plan-checks.ts";
import { buildStages } from "./plan-stages.ts";
import { type ApplianceVersion, compareVersions, formatVersion, parseVersion, sameVersion, versionFromImageName } from "./version.ts";

export type { FleetAppliance } from "./fleet.ts";

/**
 * Where a planned appliance starts from: a fresh `ready`, a run left halfway (installing, or
 * `success` waiting for switch-partition), or a Controller upgraded already but left in
 * maintenance mode.
 */
export type PlanAction = "complete" | "wait-install" | "switch-partition" | "maintenance-off";

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
  /** In maintenance mode at pre-flight. */
  inMaintenance: boolean;
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
  /** resume: appliances an earlier run left installing, waited for before anything new starts. */
  kind: "resume" | "primary" | "controller" | "batch";
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

/** The versions the fleet is being upgraded to. */
export interface Targets {
  /** Distinct versions of the prepared (`ready`) images. */
  prepared: ApplianceVersion[];
  /** With nothing prepared: the version the primary Controller runs (a finished run's target). */
  inferred?: ApplianceVersion;
}

export function roleLabel(roles: readonly Role[]): string {
  return roles.length === 0 ? "Appliance" : roles.map((r) => ROLE_LABELS[r]).join(", ");
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

export const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);

export function planUpgrade(input: PlanInput): UpgradePlan {
  const plan: UpgradePlan = { maintenance: [], stages: [], skipped: [], failed: [], problems: [], warnings: [], targetVersions: [] };
  const all = [...input.appliances].sort((a, b) => byName(a.info, b.info));
  const primary = checkPrimary(all, input.controllerHost, plan);

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

  const selected = selectedIds(all, input.selection, plan);
  const targets = findTargets(all, primary);
  plan.targetVersions = targets.prepared.map(formatVersion);

  const planned: PlannedAppliance[] = [];
  for (const a of all) {
    const c = classify(a, { selected, targets, primaryId: primary?.info.id });
    if (c.kind === "planned") planned.push(c.planned);
    else if (c.kind === "failed") {
      plan.failed.push({ ...facts(a), reason: c.reason });
      plan.problems.push(c.problem);
    } else {
      plan.skipped.push({ ...facts(a), reason: c.reason, ...(c.alreadyUpgraded ? { alreadyUpgraded: true } : {}) });
      if (c.warning) plan.warnings.push(c.warning);
    }
  }

  for (const p of planned) {
    if (p.action !== "maintenance-off" && p.partitionBefore === undefined) {
      plan.problems.push(
        `${p.name}: the status list gives no volumeNumber (the partition in use), so its upgrade could not be verified; ` +
          "leave it out with the appliances input",
      );
    }
  }
  checkControllers(all, planned, plan);
  warnOfflineNeighbours(all, planned, plan);
  buildStages(plan, planned, all, input.maxUnavailable);
  checkNothingToDo(all, planned, targets, plan);
  return plan;
}

function selectedIds(all: readonly FleetAppliance[], selection: readonly string[] | undefined, plan: UpgradePlan): Set<string> | undefined {
  if (selection === undefined) return undefined;
  const selected = new Set<string>();
  for (const wanted of selection) {
    const hit = all.find((a) => a.info.name === wanted) ?? all.find((a) => a.info.id.toLowerCase() === wanted.toLowerCase());
    if (hit) selected.add(hit.info.id);
    else plan.problems.push(`appliances: there is no appliance named (or with id) '${wanted}'`);
  }
  return selected;
}

/** Prepared versions (across the fleet); with none, the version an idle primary Controller runs. */
function findTargets(all: readonly FleetAppliance[], primary: FleetAppliance | undefined): Targets {
  const prepared: ApplianceVersion[] = [];
  for (const a of all) {
    if (a.upgrade?.status !== "ready") continue;
    const t = versionFromImageName(a.upgrade.details);
    if (t && !prepared.some((p) => sameVersion(p, t))) prepared.push(t);
  }
  const targets: Targets = { prepared };
  const primaryVersion = parseVersion(primary?.live?.applianceVersion);
  if (prepared.length === 0 && primary?.upgrade?.status === "idle" && primaryVersion) targets.inferred = primaryVersion;
  return targets;
}

type Classified =
  | { kind: "planned"; planned: PlannedAppliance }
  | { kind: "skipped"; reason: string; alreadyUpgraded?: boolean; warning?: string }
  | { kind: "failed"; reason: string; problem: string };

interface ClassifyContext {
  selected: Set<string> | undefined;
  targets: Targets;
  primaryId: string | undefined;
}

/** What the run does with one appliance, from its upgrade status. */
function classify(a: FleetAppliance, ctx: ClassifyContext): Classified {
  const skip = (reason: string, extra: { alreadyUpgraded?: boolean; warning?: string } = {}): Classified => ({ kind: "skipped", reason, ...extra });
  if (ctx.selected && !ctx.selected.has(a.info.id)) return skip("not in the appliances input");
  if (!a.info.activated) return skip("not activated");
  if (!isOnline(a)) return skip(`offline (status ${a.live?.status ?? "unknown"})`);
  if (a.upgradeError !== undefined || a.upgrade === undefined) return skip(`upgrade status could not be read: ${a.upgradeError ?? "no answer"}`);

  const current = parseVersion(a.live?.applianceVersion);
  const { status, details } = a.upgrade;
  const isPrimary = a.info.id === ctx.primaryId;
  const base = {
    ...facts(a),
    roles: a.info.roles,
    switchPartition: isController(a),
    isPrimary,
    inMaintenance: a.live?.maintenanceMode === true,
    startStatus: status,
  };
  const sole = ctx.targets.prepared.length === 1 ? ctx.targets.prepared[0] : undefined;
  switch (status) {
    case "ready": {
      const target = versionFromImageName(details);
      if (!target) return skip(`prepared image '${details}' names no version`);
      if (current && sameVersion(current, target)) return skip(`already runs ${formatVersion(target)}, the prepared version`, { alreadyUpgraded: true });
      return { kind: "planned", planned: { ...base, action: "complete", target, targetText: details } };
    }
    case "installing":
    case "success": {
      const p: PlannedAppliance = {
        ...base,
        action: status === "installing" ? "wait-install" : "switch-partition",
        targetText: sole ? formatVersion(sole) : "(as prepared)",
      };
      if (sole) p.target = sole;
      return { kind: "planned", planned: p };
    }
    case "failed": {
      const why = details ? ` (${details})` : "";
      return {
        kind: "failed",
        reason: `upgrade failed earlier${details ? `: ${details}` : ""}; never retried`,
        problem:
          `${a.info.name}: its upgrade status is 'failed'${why}. It is never retried: ` +
          "look at the appliance, cancel or prepare its upgrade again, or leave it out with the appliances input",
      };
    }
    case "idle":
      return classifyIdle(a, base, current, ctx.targets);
    case "started":
    case "downloading":
    case "verifying":
      return skip(`still preparing (upgrade status ${status})`);
    default:
      return skip(`upgrade status '${status}' is not one this action completes`);
  }
}

/** Idle: upgraded already (maybe left in maintenance mode), or never prepared. */
function classifyIdle(
  a: FleetAppliance,
  base: Omit<PlannedAppliance, "action" | "targetText">,
  current: ApplianceVersion | undefined,
  targets: Targets,
): Classified {
  const onTarget =
    current !== undefined &&
    (targets.prepared.some((t) => sameVersion(t, current)) || (targets.inferred !== undefined && sameVersion(targets.inferred, current)));
  if (onTarget && base.inMaintenance && isController(a) && !base.isPrimary) {
    return { kind: "planned", planned: { ...base, action: "maintenance-off", target: current, targetText: formatVersion(current) } };
  }
  if (onTarget) {
    const why = targets.prepared.length > 0 ? "already on the target version" : "already on the version the primary Controller runs,";
    return { kind: "skipped", reason: `${why} ${formatVersion(current)}`, alreadyUpgraded: true };
  }
  const runs = a.live?.applianceVersion ? `, runs ${a.live.applianceVersion}` : "";
  const behind =
    targets.inferred && current && compareVersions(current, targets.inferred) < 0 ? `; the primary Controller runs ${formatVersion(targets.inferred)}` : "";
  const reason = `not prepared (upgrade status idle${runs}${behind})`;
  if (base.inMaintenance && isController(a) && !base.isPrimary) {
    return { kind: "skipped", reason, warning: `Controller ${a.info.name} is in maintenance mode but not prepared: turn maintenance mode off by hand if nothing else needs it` };
  }
  return { kind: "skipped", reason };
}
