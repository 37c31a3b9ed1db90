/**
 * Completing one appliance's prepared upgrade, from wherever it stands (resume):
 * ready → complete; installing → wait; success → switch partition; then wait for idle and
 * verify: state ready, partition (volumeNumber) changed, version = the prepared one. Other
 * Controllers then leave maintenance mode and must stop being busy. A Controller upgraded by an
 * earlier run but left in maintenance mode only leaves it (action `maintenance-off`).
 */
import { formatDuration } from "../../runtime/duration.ts";
import { isCancelled } from "../../runtime/clock.ts";
import { type ApplianceLiveStatus, ONLINE_STATUSES, READY_STATES, type UpgradeStatus } from "../api/wire.ts";
import { type OpsDeps, readWhenReachable, type Target, waitLive, waitUpgradeStatus } from "./waits.ts";
import { requestUpgradeChange, setMaintenance } from "./change-request.ts";
import { isFatal, messageOf } from "../api/errors.ts";
import type { PlannedAppliance } from "../plan/model.ts";
import type { ApplianceRecord } from "./records.ts";
import { compareVersions, formatVersion, parseVersion, sameVersion } from "../plan/version.ts";

export interface UpgradeOneDeps extends OpsDeps {
  applianceTimeoutMs: number;
}

export interface UpgradeOneResult {
  /** An error that ends the whole run (503 misrouting, sign-in failure). */
  fatal?: Error;
  cancelled?: boolean;
  /** A change was asked of the Controller for it (complete, switch-partition, maintenance off), or one was under way. */
  asked: boolean;
}

/** Whether a change was asked of the Controller yet (for what a cancellation leaves behind). */
interface Progress {
  asked: boolean;
}

/** Runs one appliance to its verified end; fills `rec` as it goes. Never throws. */
export async function upgradeAppliance(p: PlannedAppliance, rec: ApplianceRecord, d: UpgradeOneDeps): Promise<UpgradeOneResult> {
  const started = d.clock.now();
  rec.startedAt = started;
  rec.outcome = "unfinished";
  delete rec.reason;
  // Work an earlier run started (installing, installed, left in maintenance mode) is under way already.
  const progress: Progress = { asked: p.action !== "complete" };
  const t: Target = {
    id: p.id,
    name: p.name,
    deadline: started + d.applianceTimeoutMs,
    isPrimary: p.isPrimary,
    onSeen: (seen) => {
      rec.lastSeen = seen;
    },
  };
  try {
    if (p.action === "maintenance-off") {
      d.logger.info(`${p.name}: upgraded by an earlier run but still in maintenance mode`);
    } else {
      await install(p, d, t, progress);
    }
    const live = await waitLive(
      d,
      t,
      "ready",
      (x) => READY_STATES.includes(x.state) && ONLINE_STATUSES.includes(x.status),
      (x) => `status ${x.status}, state ${x.state || "unknown"}`,
    );
    verify(p, rec, live);
    if (p.switchPartition && !p.isPrimary) {
      progress.asked = true;
      await leaveMaintenance(d, t);
    }
    rec.outcome = "upgraded";
    rec.finishedAt = d.clock.now();
    d.logger.info(
      p.action === "maintenance-off"
        ? `${p.name}: out of maintenance mode (runs ${rec.versionAfter ?? "?"})`
        : `${p.name}: upgraded to ${rec.versionAfter ?? "?"} (partition ${rec.partitionBefore ?? "?"} → ${rec.partitionAfter ?? "?"}) in ${formatDuration(rec.finishedAt - started)}`,
    );
    return { asked: true };
  } catch (err) {
    rec.finishedAt = d.clock.now();
    if (isCancelled(err, d.signal)) {
      rec.outcome = progress.asked ? "unfinished" : "not-started";
      rec.reason = progress.asked
        ? `cancelled while under way (last seen: ${rec.lastSeen ?? "unknown"}); the Controller carries on: run again to resume`
        : "cancelled before its turn";
      return { cancelled: true, asked: progress.asked };
    }
    rec.outcome = "failed";
    rec.reason = messageOf(err);
    d.logger.warning(`${p.name}: ${rec.reason}`);
    return isFatal(err) ? { fatal: err as Error, asked: progress.asked } : { asked: progress.asked };
  }
}

/** From where the appliance stands to upgrade status idle (rebooted into the new partition). */
async function install(p: PlannedAppliance, d: OpsDeps, t: Target, progress: Progress): Promise<void> {
  let s: UpgradeStatus = await readWhenReachable(d, t);
  t.onSeen?.(s.status);
  if (s.status === "ready") {
    d.logger.info(`${p.name}: completing the upgrade to ${p.targetText}${p.switchPartition ? " (switching partition)" : ""}`);
    progress.asked = true;
    await requestUpgradeChange(d, t, {
      send: (o) => d.client.completeUpgrade(t, p.switchPartition, o),
      what: `completing the upgrade of ${p.name}`,
      happened: (x) => ["installing", "success", "idle", "failed"].includes(x.status),
      mayRetry: (x) => x.status === "ready",
    });
    // Asked to switch partition itself, it reboots on its own: a `success` on the way is not the end.
    s = p.switchPartition ? await waitIdle(d, t) : await waitInstalled(d, t, true);
  } else if (s.status === "installing") {
    progress.asked = true;
    d.logger.info(`${p.name}: already installing (an earlier run started it); waiting`);
    s = await waitInstalled(d, t, false);
  } else if (s.status !== "success") {
    throw new Error(`upgrade status is '${s.status}'${s.details ? ` (${s.details})` : ""} at its turn; expected ready, installing or success`);
  }
  if (s.status === "success") {
    progress.asked = true;
    d.logger.info(`${p.name}: installed; switching partition`);
    await requestUpgradeChange(d, t, {
      send: (o) => d.client.switchPartition(t, o),
      what: `switching the partition of ${p.name}`,
      happened: (x) => ["installing", "idle", "failed"].includes(x.status),
      mayRetry: (x) => x.status === "success",
    });
    await waitIdle(d, t);
  }
}

/** The install's end when it may stop at `success` (waiting for switch-partition) or reboot by itself (`idle`). */
function waitInstalled(d: OpsDeps, t: Target, delayFirst: boolean): Promise<UpgradeStatus> {
  return waitUpgradeStatus(d, t, "upgrade status success or idle", (x) => x.status === "success" || x.status === "idle", delayFirst);
}

function waitIdle(d: OpsDeps, t: Target): Promise<UpgradeStatus> {
  return waitUpgradeStatus(d, t, "upgrade status idle", (x) => x.status === "idle", true);
}

/** Maintenance mode off (waiting for its change), then no longer busy. */
async function leaveMaintenance(d: OpsDeps, t: Target): Promise<void> {
  d.logger.info(`${t.name}: turning maintenance mode off`);
  await setMaintenance(d, t, false);
  await waitLive(
    d,
    t,
    "no longer busy",
    (x) => ONLINE_STATUSES.includes(x.status) && x.status !== "busy",
    (x) => `status ${x.status}`,
  );
}

/**
 * Partition switched (unless only maintenance mode was left) and version = the prepared one (or,
 * when unknown, changed). Throws otherwise.
 */
function verify(p: PlannedAppliance, rec: ApplianceRecord, live: ApplianceLiveStatus): void {
  if (live.applianceVersion !== undefined) rec.versionAfter = live.applianceVersion;
  if (live.volumeNumber !== undefined) rec.partitionAfter = live.volumeNumber;
  const now = parseVersion(live.applianceVersion);
  if (p.action !== "maintenance-off") {
    if (p.partitionBefore === undefined || live.volumeNumber === undefined) {
      throw new Error("cannot verify the partition switch: the status list gives no volumeNumber");
    }
    if (live.volumeNumber === p.partitionBefore) throw new Error(`never switched partition (still on volume ${live.volumeNumber})`);
  }
  if (p.target) {
    if (!sameVersion(now, p.target)) {
      throw new Error(`runs ${live.applianceVersion ?? "an unknown version"} after the upgrade, not the prepared ${formatVersion(p.target)}`);
    }
  } else {
    const before = parseVersion(p.versionBefore);
    if (!now || (before && compareVersions(now, before) === 0)) {
      throw new Error(`version did not change (${live.applianceVersion ?? "unknown"})`);
    }
  }
}
