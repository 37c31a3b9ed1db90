/**
 * Carries out a plan: the other Controllers into maintenance mode, then the stages one after
 * another (the appliances of a batch in parallel). After a failure the stage finishes and
 * nothing after it starts; after cancellation nothing new starts and the appliances under way
 * are reported as such, not abandoned silently.
 *
 * A 503 (MisroutedError) means the address reaches a Controller in maintenance mode, not the
 * primary: every Controller this run put into maintenance mode (and did not upgrade yet) gets
 * maintenance mode turned off again before the run stops, so a wrong address never leaves a
 * reachable Controller in maintenance mode.
 *
 * Any other stop (a failure, or a cancellation: then over a client of its own, `afterCancel`)
 * before this run asked anything of the primary Controller, which it was to upgrade, leaves the
 * collective on one version, as the run found it but for maintenance mode: the Controllers it
 * asked to turn it on, and asked nothing else of, get it set off again. Once the primary was
 * asked to upgrade (by this run or an earlier one), or when it was upgraded before this run (no
 * primary stage), the others stay in maintenance mode (the collective may run two versions; a
 * Controller on the old one must not take writes), and a re-run finishes them.
 */
import { isCancelled } from "../../runtime/clock.ts";
import { setMaintenance } from "./change-request.ts";
import { MisroutedError, messageOf } from "../api/errors.ts";
import type { PlannedAppliance, UpgradePlan } from "../plan/model.ts";
import type { ApplianceRecord } from "./records.ts";
import type { OpsDeps } from "./waits.ts";
import { upgradeAppliance, type UpgradeOneDeps } from "./upgrade-one.ts";

export interface RunOutcome {
  /** Why the run stopped early, if it did. */
  stoppedBy?: string;
  cancelled: boolean;
  /** Controllers left in maintenance mode (their upgrade, or leaving maintenance, did not finish). */
  inMaintenance: string[];
}

export interface RunDeps extends UpgradeOneDeps {
  /** Reads the API version again once the primary Controller is upgraded (it may have changed). */
  refreshVersion?: () => Promise<number>;
  /**
   * Runs work after a cancellation with a client of its own (the run's is aborted), within a
   * bound; undefined when it failed or ran out of time.
   */
  afterCancel?: <T>(work: (client: OpsDeps["client"], signal: AbortSignal) => Promise<T>) => Promise<T | undefined>;
}

export async function runPlan(
  plan: UpgradePlan,
  records: ReadonlyMap<string, ApplianceRecord>,
  d: RunDeps,
  onChange: () => void,
): Promise<RunOutcome> {
  const out: RunOutcome = { cancelled: false, inMaintenance: [] };
  const rec = (id: string): ApplianceRecord => {
    const r = records.get(id);
    if (!r) throw new Error(`no record for appliance ${id}`);
    return r;
  };
  // Controllers in maintenance mode: those found in it (planned), then those put into it.
  const maintained = new Set(plan.stages.flatMap((s) => s.appliances).filter((p) => p.inMaintenance).map((p) => p.name));
  // Put into maintenance mode by this run and not upgraded (so not out of it) yet.
  const putIn = new Map<string, PlannedAppliance>();
  let misrouted: MisroutedError | undefined;
  // Whether this run was to upgrade the primary Controller and asked it for a change (an upgrade
  // an earlier run started counts as asked), and of which appliances it asked one.
  const primaryStage = plan.stages.find((s) => s.kind === "primary");
  const primaryPlanned = primaryStage !== undefined;
  let primaryAsked = primaryStage?.appliances.some((p) => p.action !== "complete") ?? false;
  const asked = new Set<string>();

  if (plan.maintenance.length > 0) {
    d.logger.info(`Putting the other Controllers into maintenance mode: ${plan.maintenance.map((c) => c.name).join(", ")}`);
    const results = await Promise.all(
      plan.maintenance.map(async (c) => {
        // From the moment the request is sent, the Controller may be in maintenance mode (an
        // answer lost, a cancellation): only a refusal of the request itself says it is not.
        maintained.add(c.name);
        putIn.set(c.id, c);
        const refused = (): void => {
          maintained.delete(c.name);
          putIn.delete(c.id);
        };
        try {
          await setMaintenance(d, { id: c.id, name: c.name, deadline: d.clock.now() + d.applianceTimeoutMs }, true, refused);
          return undefined;
        } catch (err) {
          if (isCancelled(err, d.signal)) return "cancelled";
          if (err instanceof MisroutedError) misrouted ??= err;
          const r = rec(c.id);
          r.outcome = "failed";
          r.reason = `maintenance mode could not be turned on: ${messageOf(err)}`;
          d.logger.warning(`${c.name}: ${r.reason}`);
          return `${c.name}: ${r.reason}`;
        }
      }),
    );
    if (results.includes("cancelled")) out.cancelled = true;
    const failure = results.find((r) => r !== undefined && r !== "cancelled");
    if (failure) out.stoppedBy = failure;
    onChange();
  }

  for (const stage of plan.stages) {
    if (d.signal.aborted) out.cancelled = true;
    if (out.cancelled || out.stoppedBy) {
      for (const p of stage.appliances) {
        const r = rec(p.id);
        if (r.outcome !== "not-started") continue;
        r.reason = out.cancelled ? "the run was cancelled" : `the run stopped (${out.stoppedBy})`;
      }
      continue;
    }
    const names = stage.appliances.map((p) => p.name);
    d.logger.info(
      `${stage.label}: ${names.join(", ")}${stage.appliances.length > 1 ? ` (${stage.appliances.length} in parallel)` : ""}`,
    );
    const results = await Promise.all(stage.appliances.map((p) => upgradeAppliance(p, rec(p.id), d)));
    stage.appliances.forEach((p, i) => {
      if (!results[i]!.asked) return;
      asked.add(p.id);
      if (p.isPrimary) primaryAsked = true;
    });
    for (const p of stage.appliances) {
      if (rec(p.id).outcome !== "upgraded") continue;
      maintained.delete(p.name);
      putIn.delete(p.id);
    }
    const fatal = results.find((r) => r.fatal)?.fatal;
    if (fatal instanceof MisroutedError) misrouted ??= fatal;
    if (stage.kind === "primary" && !fatal && rec(stage.appliances[0]!.id).outcome === "upgraded" && d.refreshVersion) {
      try {
        await d.refreshVersion();
      } catch (err) {
        if (isCancelled(err, d.signal)) out.cancelled = true;
        else out.stoppedBy = `reading the API version again after the primary Controller's upgrade: ${messageOf(err)}`;
      }
    }
    const failed = stage.appliances.filter((p) => rec(p.id).outcome === "failed").map((p) => p.name);
    if (results.some((r) => r.cancelled) || d.signal.aborted) out.cancelled = true;
    if (fatal) out.stoppedBy = messageOf(fatal);
    else if (failed.length > 0) out.stoppedBy = `${failed.join(", ")} failed in ${stage.label.toLowerCase()}`;
    onChange();
  }
  if (misrouted && putIn.size > 0 && !d.signal.aborted) {
    const back = await leaveMaintenanceAgain([...putIn.values()], d);
    for (const name of back.restored) maintained.delete(name);
    out.stoppedBy = misroutedMessage(misrouted, [...putIn.values()].map((c) => c.name).sort(), back);
    onChange();
  } else if ((out.cancelled || d.signal.aborted) && primaryPlanned && !primaryAsked && d.afterCancel) {
    // Cancelled before the primary changed: the same undoing, with a client the cancellation left alone.
    const untouched = [...putIn.values()].filter((c) => !asked.has(c.id));
    if (untouched.length > 0) {
      const back = await d.afterCancel((client, signal) => leaveMaintenanceAgain(untouched, { ...d, client, signal }));
      for (const name of back?.restored ?? []) maintained.delete(name);
      if (back?.restored.length) d.logger.info(`Cancelled before the primary Controller was changed: maintenance mode set off again on ${back.restored.join(", ")} (asked to turn it on by this run)`);
      const left = untouched.map((c) => c.name).filter((n) => !back?.restored.includes(n));
      if (left.length > 0) d.logger.warning(`Cancelled: maintenance mode could not be set off again on ${left.join(", ")} in time: a re-run does, or turn it off by hand`);
      onChange();
    }
  } else if (out.stoppedBy !== undefined && !out.cancelled && primaryPlanned && !primaryAsked && !d.signal.aborted) {
    const untouched = [...putIn.values()].filter((c) => !asked.has(c.id));
    if (untouched.length > 0) {
      const back = await leaveMaintenanceAgain(untouched, d);
      for (const name of back.restored) maintained.delete(name);
      if (back.restored.length > 0) out.stoppedBy += `; the primary Controller was not changed, so maintenance mode was set off again on ${back.restored.join(", ")} (asked to turn it on by this run)`;
      if (back.unreached.length > 0) out.stoppedBy += `; maintenance mode could not be set off again on ${back.unreached.join(", ")}: a re-run does, or turn it off by hand`;
      onChange();
    }
  }
  out.inMaintenance = [...maintained].sort();
  return out;
}

/** Turns maintenance mode off on Controllers this run put into it; says which ones it could not reach. */
async function leaveMaintenanceAgain(ctrls: readonly PlannedAppliance[], d: UpgradeOneDeps): Promise<{ restored: string[]; unreached: string[] }> {
  d.logger.warning(`Turning maintenance mode off again on ${ctrls.map((c) => c.name).sort().join(", ")} (this run put them into it)`);
  const results = await Promise.all(
    ctrls.map(async (c) => {
      try {
        await setMaintenance(d, { id: c.id, name: c.name, deadline: d.clock.now() + d.applianceTimeoutMs }, false);
        return { name: c.name, ok: true };
      } catch (err) {
        d.logger.warning(`${c.name}: maintenance mode could not be turned off again: ${messageOf(err)}`);
        return { name: c.name, ok: false };
      }
    }),
  );
  return { restored: results.filter((r) => r.ok).map((r) => r.name).sort(), unreached: results.filter((r) => !r.ok).map((r) => r.name).sort() };
}

function misroutedMessage(err: MisroutedError, putIn: readonly string[], back: { restored: string[]; unreached: string[] }): string {
  const parts = [
    `${err.message}. controller-url reaches another Controller: a write was refused after this run put ${putIn.join(", ")} into maintenance mode, ` +
      "so the Controller answering at that address is one of them, not the primary",
  ];
  if (back.restored.length > 0) parts.push(`maintenance mode was turned off again on ${back.restored.join(", ")}`);
  if (back.unreached.length > 0) parts.push(`${back.unreached.join(", ")} could not be reached to turn maintenance mode off: do it by hand`);
  return parts.join("; ");
}

