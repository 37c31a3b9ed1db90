/**
 * Preparing upgrades (prepare-appliance-upgrade): `prepare` sent to at most `concurrency`
 * appliances at once (sdpctl's throttle), each followed until `ready` (the image it names must
 * be the one asked for) or `failed` (reported with its details). A prepare is never sent twice
 * blindly: after a refusal or a lost answer the upgrade status is read first.
 */
import type { PrepareApi } from "../api/client.ts";
import { isFatal, messageOf } from "../api/errors.ts";
import type { UpgradeStatus } from "../api/wire.ts";
import { type ApplianceVersion, formatVersion, sameVersion, versionFromImageName } from "../plan/version.ts";
import { isCancelled } from "../../runtime/clock.ts";
import { forEachLimited, type LifecycleRecord } from "./lifecycle-records.ts";
import { pollUntil } from "./poll.ts";
import { type OpsDeps, pollOptions, reach, type Target } from "./waits.ts";

export interface PrepareDeps extends Omit<OpsDeps, "client"> {
  client: PrepareApi;
  applianceTimeoutMs: number;
  concurrency: number;
}

const PREPARING = ["started", "downloading", "verifying"];

export async function prepareAll(records: readonly LifecycleRecord[], imageUrl: string, target: ApplianceVersion, d: PrepareDeps): Promise<{ cancelled: boolean }> {
  let fatal: unknown;
  await forEachLimited(
    records,
    d.concurrency,
    async (rec) => {
      try {
        await prepareOne(rec, imageUrl, target, d);
      } catch (err) {
        if (isFatal(err)) fatal ??= err;
      }
    },
    () => d.signal.aborted || fatal !== undefined,
  );
  for (const r of records) {
    if (r.outcome === "not-started") r.reason = d.signal.aborted ? "the run was cancelled" : `the run stopped (${messageOf(fatal)})`;
  }
  if (fatal !== undefined && !d.signal.aborted) throw fatal;
  return { cancelled: d.signal.aborted };
}

/** One appliance, from `prepare` to `ready`; fills `rec`. Throws only errors that end the run. */
async function prepareOne(rec: LifecycleRecord, imageUrl: string, target: ApplianceVersion, d: PrepareDeps): Promise<void> {
  rec.startedAt = d.clock.now();
  rec.outcome = "unfinished";
  const t: Target = { id: rec.id, name: rec.name, deadline: rec.startedAt + d.applianceTimeoutMs, onSeen: (seen) => (rec.lastSeen = seen) };
  const status = (): Promise<UpgradeStatus> => d.client.upgradeStatus(t, { timeoutMs: d.timings.requestTimeoutMs });
  try {
    d.logger.info(`${rec.name}: preparing the upgrade to ${formatVersion(target)}`);
    try {
      await d.client.prepareUpgrade(t, imageUrl, { timeoutMs: d.timings.requestTimeoutMs });
    } catch (err) {
      if (isFatal(err) || isCancelled(err, d.signal)) throw err;
      // Refused, or the answer lost: the status says whether it was taken.
      const s = await status();
      if (!PREPARING.includes(s.status) && s.status !== "ready") throw new Error(`${messageOf(err)} (upgrade status: ${s.status})`, { cause: err });
      d.logger.info(`${rec.name}: ${messageOf(err)}; upgrade status ${s.status}, so the prepare was accepted`);
    }
    const end = await pollUntil(async () => {
      const r = await reach(d, status);
      if (!r.ok) return { done: false, seen: r.seen };
      const s = r.value;
      if (s.status === "ready" || s.status === "failed") return { done: true, value: s, seen: s.status };
      return { done: false, seen: s.status };
    }, pollOptions(d, t, `${rec.name} to be ready`, true));
    if (end.status === "failed") throw new Error(`the prepare failed${end.details ? `: ${end.details}` : ""}`);
    if (!sameVersion(versionFromImageName(end.details), target)) {
      throw new Error(`ready, but for '${end.details}', not ${formatVersion(target)}`);
    }
    rec.outcome = "prepared";
    rec.finishedAt = d.clock.now();
    d.logger.info(`${rec.name}: ready (${end.details})`);
  } catch (err) {
    rec.finishedAt = d.clock.now();
    if (isCancelled(err, d.signal)) {
      rec.reason = `cancelled while preparing (last seen: ${rec.lastSeen ?? "unknown"}); the appliance carries on`;
      return;
    }
    rec.outcome = "failed";
    rec.reason = messageOf(err);
    d.logger.warning(`${rec.name}: ${rec.reason}`);
    if (isFatal(err)) throw err;
  }
}
