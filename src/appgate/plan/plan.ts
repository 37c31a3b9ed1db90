/**
 * The upgrade plan (pure): which appliances to complete, in which stages, and what stops the
 * run before any change. Order, as sdpctl does it: the primary Controller; the other
 * Controllers one at a time; then batches in which no site has more than max-unavailable
 * gateways (nor log forwarders, nor connectors sharing a virtual IP) down at once. Appliances
 * an earlier run left installing are waited for first, before anything new starts.
 */
import { type FleetAppliance, isController, isOnline } from "./fleet.ts";
import { checkControllers, checkNothingToDo, checkPrimary, warnOfflineNeighbours } from "./checks.ts";
import { type ApplianceFacts, byName, type PlannedAppliance, type PlanInput, roleLabel, type Targets, type UpgradePlan } from "./model.ts";
import { autoScaled, diskWarnings, versionJumpProblem } from "./safety.ts";
import { buildStages } from "./stages.ts";
import { type ApplianceVersion, compareVersions, formatVersion, parseVersion, sameVersion, versionFromImageName } from "./version.ts";

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
  plan.warnings.push(...diskWarnings(all.filter((a) => !autoScaled(a))));
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
  const scaled = autoScaled(a);
  if (scaled) return skip(`${scaled}: left out`, { warning: `${a.info.name} is ${scaled}: left out, as sdpctl does` });
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
      const jump = versionJumpProblem(a.info.name, current, target);
      if (jump) return { kind: "failed", reason: "prepared version is more than two minor versions ahead", problem: jump };
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
