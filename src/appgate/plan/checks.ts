/** Fleet-wide pre-flight checks of the plan (pure): they add problems (abort) and warnings. */
import { type FleetAppliance, isController, isOnline } from "./fleet.ts";
import type { PlannedAppliance, Targets, UpgradePlan } from "./model.ts";
import { type ApplianceVersion, compareVersions, formatVersion, isMajorOrMinorUpgrade, parseVersion, sameVersion, versionFromImageName } from "./version.ts";

/** The primary Controller: the one whose admin hostname is controller-url's host, and not in maintenance mode. */
export function checkPrimary(all: readonly FleetAppliance[], controllerHost: string, plan: UpgradePlan): FleetAppliance | undefined {
  const host = controllerHost.replace(/^\[|\]$/g, "").toLowerCase();
  const controllers = all.filter(isController);
  const matches = controllers.filter((c) => c.info.adminHostname?.toLowerCase() === host);
  if (matches.length === 0) {
    const known = controllers.map((c) => c.info.adminHostname ?? "?").join(", ");
    plan.problems.push(
      `controller-url's host '${host}' is not the admin hostname of any Controller (${known || "no Controllers listed"}). ` +
        "Use the primary Controller's own admin address, not a load balancer or an alias",
    );
    return undefined;
  }
  if (matches.length > 1) {
    plan.problems.push(
      `controller-url's host '${host}' is the admin hostname of more than one Controller (${matches.map((m) => m.info.name).join(", ")}); a unique one is needed`,
    );
    return undefined;
  }
  const primary = matches[0]!;
  plan.primary = { id: primary.info.id, name: primary.info.name };
  if (primary.live?.maintenanceMode === true) {
    plan.problems.push(
      `the primary Controller ${primary.info.name} is in maintenance mode: it refuses every change sent through it. Turn its maintenance mode off first`,
    );
  }
  return primary;
}

/** Prepared Controllers must agree on a major/minor upgrade, and the primary goes first. */
export function checkControllers(all: readonly FleetAppliance[], planned: readonly PlannedAppliance[], plan: UpgradePlan): void {
  const ctrls = all.filter((a) => isController(a) && a.info.activated);
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
export function warnOfflineNeighbours(all: readonly FleetAppliance[], planned: readonly PlannedAppliance[], plan: UpgradePlan): void {
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

const NOTHING_READY = "No appliance is ready to complete an upgrade: prepare the upgrade first (upgrade status 'ready')";

/**
 * With nothing to do, is that a finished earlier run (fine) or a collective nobody prepared
 * (a problem)? With nothing prepared, a fleet where no appliance runs a newer version than the
 * primary Controller looks like a finished run: nothing to do, with a warning naming the
 * appliances left behind (never prepared).
 */
export function checkNothingToDo(all: readonly FleetAppliance[], planned: readonly PlannedAppliance[], targets: Targets, plan: UpgradePlan): void {
  if (planned.length > 0 || plan.failed.length > 0) return;
  if (targets.prepared.length > 0) {
    if (!plan.skipped.some((s) => s.alreadyUpgraded)) plan.problems.push(NOTHING_READY);
    return;
  }
  const target = targets.inferred;
  const online = all.filter((a) => a.info.activated && isOnline(a));
  const versionOf = (a: FleetAppliance): ApplianceVersion | undefined => parseVersion(a.live?.applianceVersion);
  const ahead = target ? online.filter((a) => { const v = versionOf(a); return v !== undefined && compareVersions(v, target) > 0; }) : [];
  if (!target || ahead.length > 0) {
    plan.problems.push(NOTHING_READY);
    return;
  }
  const behind = online.filter((a) => { const v = versionOf(a); return v !== undefined && compareVersions(v, target) < 0; });
  if (behind.length > 0) {
    plan.warnings.push(
      `Nothing is prepared, and ${behind.map((a) => `${a.info.name} (${a.live?.applianceVersion ?? "?"})`).join(", ")} ` +
        `run(s) an older version than the primary Controller (${formatVersion(target)}): prepare their upgrade and run again if they should be upgraded`,
    );
  }
}
