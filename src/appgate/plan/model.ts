/**
 * The plan's model (types, and two small helpers): what pre-flight decided for each
 * appliance, the stages, and the reasons not to start. plan.ts, checks.ts and stages.ts share it,
 * so none of them imports another's types.
 */
import { ROLE_LABELS, type Role } from "../api/wire.ts";
import type { FleetAppliance } from "./fleet.ts";
import type { ApplianceVersion } from "./version.ts";

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

export const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);
