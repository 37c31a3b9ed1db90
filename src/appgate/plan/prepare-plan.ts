/**
 * Which appliances prepare-appliance-upgrade prepares (pure): by default every activated,
 * online appliance not already on, or prepared for, the image's version; auto-scaled gateways
 * left out. An image that is not newer than an appliance's version, or that spans more than two
 * minor versions, is refused before anything is sent.
 */
import type { FleetAppliance } from "./fleet.ts";
import { isOnline } from "./fleet.ts";
import { roleLabel } from "./model.ts";
import { autoScaled, versionJumpProblem } from "./safety.ts";
import { type ApplianceVersion, compareVersions, formatVersion, parseVersion, sameVersion, versionFromImageName } from "./version.ts";

export interface LifecycleFacts {
  id: string;
  name: string;
  role: string;
  site: string;
  version?: string;
}

export interface PreparePlan {
  prepare: LifecycleFacts[];
  skipped: (LifecycleFacts & { reason: string })[];
  problems: string[];
  warnings: string[];
}

export function lifecycleFacts(a: FleetAppliance): LifecycleFacts {
  const f: LifecycleFacts = { id: a.info.id, name: a.info.name, role: roleLabel(a.info.roles), site: a.info.siteName ?? a.info.siteId ?? "" };
  if (a.live?.applianceVersion !== undefined) f.version = a.live.applianceVersion;
  return f;
}

/** The appliances named in `selection` (names, or ids in any case); unknown ones are problems. */
export function selectAppliances(all: readonly FleetAppliance[], selection: readonly string[] | undefined, problems: string[]): Set<string> | undefined {
  if (selection === undefined) return undefined;
  const ids = new Set<string>();
  for (const wanted of selection) {
    const hit = all.find((a) => a.info.name === wanted) ?? all.find((a) => a.info.id.toLowerCase() === wanted.toLowerCase());
    if (hit) ids.add(hit.info.id);
    else problems.push(`appliances: there is no appliance named (or with id) '${wanted}'`);
  }
  return ids;
}

export function planPrepare(all: readonly FleetAppliance[], imageName: string, selection?: readonly string[]): PreparePlan {
  const plan: PreparePlan = { prepare: [], skipped: [], problems: [], warnings: [] };
  const target = versionFromImageName(imageName);
  if (!target) {
    plan.problems.push(`image-url: '${imageName}' names no version`);
    return plan;
  }
  const chosen = selectAppliances(all, selection, plan.problems);
  for (const a of [...all].sort((x, y) => x.info.name.localeCompare(y.info.name))) {
    const f = lifecycleFacts(a);
    const skip = (reason: string): void => void plan.skipped.push({ ...f, reason });
    if (chosen && !chosen.has(a.info.id)) {
      skip("not in the appliances input");
      continue;
    }
    const scaled = autoScaled(a);
    if (scaled) {
      skip(`${scaled}: left out`);
      plan.warnings.push(`${a.info.name} is ${scaled}: left out, as sdpctl does`);
      continue;
    }
    if (!a.info.activated) skip("not activated");
    else if (!isOnline(a)) skip(`offline (status ${a.live?.status ?? "unknown"})`);
    else if (a.upgradeError !== undefined || a.upgrade === undefined) skip(`upgrade status could not be read: ${a.upgradeError ?? "no answer"}`);
    else classify(a, f, target, plan);
  }
  if (plan.prepare.length === 0 && plan.problems.length === 0) plan.warnings.push(`Nothing to prepare: no appliance needs ${formatVersion(target)}`);
  return plan;
}

function classify(a: FleetAppliance, f: LifecycleFacts, target: ApplianceVersion, plan: PreparePlan): void {
  const current = parseVersion(a.live?.applianceVersion);
  const { status, details } = a.upgrade!;
  const skip = (reason: string): void => void plan.skipped.push({ ...f, reason });
  if (current && sameVersion(current, target)) return skip(`already runs ${formatVersion(target)}`);
  if (status === "ready" && sameVersion(versionFromImageName(details), target)) return skip(`already prepared for ${formatVersion(target)}`);
  if (status !== "idle" && status !== "failed") return skip(`upgrade status '${status}'${details ? ` (${details})` : ""}: cancel it first (cancel-appliance-upgrade)`);
  if (current && compareVersions(target, current) < 0) {
    plan.problems.push(`${a.info.name} runs ${formatVersion(current)}, newer than the image's ${formatVersion(target)}: an image must be newer than the appliance's version`);
    return;
  }
  const jump = versionJumpProblem(a.info.name, current, target);
  if (jump) {
    plan.problems.push(jump);
    return;
  }
  plan.prepare.push(f);
}
