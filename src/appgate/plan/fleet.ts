/** The collective as pre-flight read it: one entry per appliance, and what is asked of it often. */
import { type ApplianceInfo, type ApplianceLiveStatus, ONLINE_STATUSES, type UpgradeStatus } from "../api/wire.ts";

/** What the Controller told us about one appliance before the run. */
export interface FleetAppliance {
  info: ApplianceInfo;
  live?: ApplianceLiveStatus;
  upgrade?: UpgradeStatus;
  /** Why the upgrade status could not be read. */
  upgradeError?: string;
}

export function isOnline(a: FleetAppliance): boolean {
  return a.live !== undefined && ONLINE_STATUSES.includes(a.live.status);
}

export function isController(a: FleetAppliance): boolean {
  return a.info.roles.includes("controller");
}

/** The site an appliance counts against (its id, else its name). */
export function siteKey(info: ApplianceInfo): string {
  return info.siteId ?? info.siteName ?? "-";
}
