/**
 * The pre-checks sdpctl makes before it changes anything (pure): disk use, the size of a version
 * jump, and auto-scaled gateways (left out: their auto-scaling replaces them).
 */
import type { FleetAppliance } from "./fleet.ts";
import { type ApplianceVersion, formatVersion } from "./version.ts";

/** Disk use at or above this (percent) is a warning: an upgrade uploads and unpacks big images. */
export const DISK_WARNING_PERCENT = 75;
/** An upgrade may span at most this many minor versions within one major. */
export const MAX_MINOR_JUMP = 2;

/** Why an appliance is left out as auto-scaled, or undefined: an enabled gateway named "…Autoscaling Instance…", or the template. */
export function autoScaled(a: FleetAppliance): string | undefined {
  if (a.info.roles.includes("gateway") && a.info.name.includes("Autoscaling Instance")) return "an auto-scaled gateway (its auto-scaling replaces it)";
  if (!a.info.activated && a.info.tags.includes("template")) return "the auto-scale template (never activated)";
  return undefined;
}

/** Warnings for online appliances whose disk is 75 % full or more. */
export function diskWarnings(all: readonly FleetAppliance[]): string[] {
  return all
    .filter((a) => a.info.activated && a.live?.disk !== undefined && a.live.disk >= DISK_WARNING_PERCENT)
    .map(
      (a) =>
        `${a.info.name}: disk ${Math.round(a.live!.disk!)} % full (${DISK_WARNING_PERCENT} % or more); an upgrade uploads and unpacks a big image, make room first`,
    );
}

/** A problem when going from `current` to `target` spans more than two minor versions within one major. */
export function versionJumpProblem(name: string, current: ApplianceVersion | undefined, target: ApplianceVersion | undefined): string | undefined {
  if (!current || !target || current.major !== target.major) return undefined;
  if (target.minor - current.minor <= MAX_MINOR_JUMP) return undefined;
  return (
    `${name}: ${formatVersion(current)} → ${formatVersion(target)} spans more than ${MAX_MINOR_JUMP} minor versions; ` +
    "upgrades spanning more than two minor versions are not allowed: upgrade in steps"
  );
}
