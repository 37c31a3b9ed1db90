/**
 * Cancelling prepared upgrades (cancel-appliance-upgrade): by default every appliance whose
 * upgrade status is not `idle`; never one that is `installing` (the Controller refuses it, and
 * stopping an install halfway is not what anyone wants): it is reported, not touched. Each
 * cancel is followed until the appliance is `idle` again.
 */
import type { PrepareApi } from "../api/client.ts";
import { isFatal, messageOf } from "../api/errors.ts";
import type { FleetAppliance } from "../plan/fleet.ts";
import { isOnline } from "../plan/fleet.ts";
import { lifecycleFacts, type LifecycleFacts, selectAppliances } from "../plan/prepare-plan.ts";
import { isCancelled } from "../../runtime/clock.ts";
import { forEachLimited, type LifecycleRecord } from "./lifecycle-records.ts";
import { pollUntil } from "./poll.ts";
import { type OpsDeps, pollOptions, reach, type Target } from "./waits.ts";

export interface CancelPlan {
  cancel: LifecycleFacts[];
  skipped: (LifecycleFacts & { reason: string })[];
  problems: string[];
}

/** The longest a cancelled appliance is waited on to be idle again. */
export const CANCEL_TIMEOUT_MS = 10 * 60_000;

export function planCancel(all: readonly FleetAppliance[], selection?: readonly string[]): CancelPlan {
  const plan: CancelPlan = { cancel: [], skipped: [], problems: [] };
  const chosen = selectAppliances(all, selection, plan.problems);
  for (const a of [...all].sort((x, y) => x.info.name.localeCompare(y.info.name))) {
    const f = lifecycleFacts(a);
    const skip = (reason: string): void => void plan.skipped.push({ ...f, reason });
    if (chosen && !chosen.has(a.info.id)) skip("not in the appliances input");
    else if (!a.info.activated) skip("not activated");
    else if (!isOnline(a)) skip(`offline (status ${a.live?.status ?? "unknown"})`);
    else if (a.upgrade === undefined) skip(`upgrade status could not be read: ${a.upgradeError ?? "no answer"}`);
    else if (a.upgrade.status === "idle") skip("nothing to cancel (upgrade status idle)");
    else if (a.upgrade.status === "installing") skip("installing: never cancelled, left alone");
    else plan.cancel.push(f);
  }
  return plan;
}

export interface CancelDeps extends Omit<OpsDeps, "client"> {
  client: PrepareApi;
}

export async function cancelAll(records: readonly LifecycleRecord[], d: CancelDeps): Promise<void> {
  let fatal: unknown;
  await forEachLimited(
    records,
    5,
    async (rec) => {
      try {
        await cancelOne(rec, d);
      } catch (err) {
        fatal ??= err;
      }
    },
    () => d.signal.aborted || fatal !== undefined,
  );
  for (const r of records) if (r.outcome === "not-started") r.reason = d.signal.aborted ? "the run was cancelled" : `the run stopped (${messageOf(fatal)})`;
  if (fatal !== undefined && !d.signal.aborted) throw fatal;
}

async function cancelOne(rec: LifecycleRecord, d: CancelDeps): Promise<void> {
  rec.startedAt = d.clock.now();
  rec.outcome = "unfinished";
  const t: Target = { id: rec.id, name: rec.name, deadline: rec.startedAt + CANCEL_TIMEOUT_MS, onSeen: (seen) => (rec.lastSeen = seen) };
  const status = () => d.client.upgradeStatus(t, { timeoutMs: d.timings.requestTimeoutMs });
  try {
    d.logger.info(`${rec.name}: cancelling its prepared upgrade`);
    try {
      await d.client.cancelUpgrade(t, { timeoutMs: d.timings.requestTimeoutMs });
    } catch (err) {
      if (isFatal(err) || isCancelled(err, d.signal)) throw err;
      const s = await status();
      if (s.status !== "idle") throw new Error(`${messageOf(err)} (upgrade status: ${s.status})`, { cause: err });
    }
    await pollUntil(async () => {
      const r = await reach(d, status);
      if (!r.ok) return { done: false, seen: r.seen };
      return r.value.status === "idle" ? { done: true, value: undefined, seen: "idle" } : { done: false, seen: r.value.status };
    }, pollOptions(d, t, `${rec.name} to be idle`, false));
    rec.outcome = "cancelled";
    rec.finishedAt = d.clock.now();
  } catch (err) {
    rec.finishedAt = d.clock.now();
    if (isCancelled(err, d.signal)) return;
    rec.outcome = "failed";
    rec.reason = messageOf(err);
    d.logger.warning(`${rec.name}: ${rec.reason}`);
    if (isFatal(err)) throw err;
  }
}
