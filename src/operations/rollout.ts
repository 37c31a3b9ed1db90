import type { RolloutSettings } from "../config/rollout.ts";
import type { HttpResponse } from "../http/client.ts";
import { type GateReading, type GateVerdict, type LogPageLike, UpgradeCount, judgeGate, percent, readErrorLogs } from "../rollout/gate.ts";
import { soak } from "../rollout/soak.ts";
import { WHOLE, formatShare, waveOf } from "../rollout/waves.ts";
import { isCancelled } from "../runtime/clock.ts";
import { formatDuration } from "../runtime/duration.ts";
import { type WaveRow, waveTable } from "../report/wave-table.ts";
import type { OperationContext } from "./context.ts";
import type { BulkPasses, PlanResult } from "./instance-bulk.ts";
import type { AttemptResult } from "../bulk/types.ts";

/**
 * A progressive rollout of set-desired-version: the selection is sent in waves (a stable share
 * each, by a hash of the instance's name), and after each wave but the last the run soaks, then
 * judges a gate (error logs of the target, the upgraded share). A failed gate halts the rollout:
 * later waves are not sent, and with rollback-on-halt every instance the run updated is set back
 * to the version it ran before. One wave of 100% is one pass, as without a rollout.
 */

export interface RolloutSpec {
  settings: RolloutSettings;
  dryRun: boolean;
  /** The target: its id, and how people name it (its label, else the id). */
  target: { id: string; label: string };
  candidates: readonly string[];
  /** The version each candidate ran before the run, when the listing was read (needed to roll back). */
  previous?: ReadonlyMap<string, string>;
  /** How people name a version id (its label and id). */
  describeVersion(id: string): string;
  /** One call of GET /logs for the machine and the target version. */
  readLogs(fromIso: string, signal: AbortSignal): Promise<LogPageLike>;
  /** The machine's instances with their current version, page by page. */
  listing(): AsyncIterable<readonly { slug: string; versionId: string }[]>;
  /** Sets the desired version of one instance (one attempt). */
  setDesired(name: string, versionId: string, signal: AbortSignal): Promise<HttpResponse>;
  /** Reads a failing answer into a failure. */
  failureOf(res: HttpResponse): AttemptResult;
}

/** `failed`: an error stopped the run before the rollout could finish (the step fails with it). */
export type RolloutState = "complete" | "halted" | "rolled-back" | "cancelled" | "failed";

/** The plan runInstanceBulk runs; it sets the outputs rollout, waves-done and rolled-back-count however it ends. */
export function rolloutPlan(spec: RolloutSpec, ctx: OperationContext): (passes: BulkPasses) => Promise<PlanResult> {
  return async (passes) => {
    const { settings } = spec;
    const steps = settings.waves;
    const waves = steps.length;
    const staged = waves > 1 || steps[0]! < WHOLE;
    const last = formatShare(steps[waves - 1]!);
    // One wave of 100% (no rollout) takes the selection as it is: nothing to hash.
    const byWave: (readonly string[])[] = staged ? steps.map(() => []) : [spec.candidates];
    if (staged) {
      for (const name of spec.candidates) {
        const w = waveOf(name, steps);
        if (w === undefined) passes.record({ name, outcome: "skipped", reason: `not in this rollout (waves end at ${last})` });
        else (byWave[w - 1] as string[]).push(name);
      }
    }
    const rows: WaveRow[] = steps.map((s, i) => ({ wave: i + 1, share: formatShare(s), instances: byWave[i]!.length, verdict: "not sent" }));
    const notes: string[] = [];
    const samples: { instance: string; log: string }[] = [];
    let state: RolloutState = "complete";
    let wavesDone = 0;
    let rolledBack = 0;
    let failure: string | undefined;
    let ended = false;
    const setOutputs = (): void => {
      ctx.report.setOutput("rollout", state);
      ctx.report.setOutput("waves-done", wavesDone);
      ctx.report.setOutput("rolled-back-count", rolledBack);
    };
    /** Records every instance of waves from `from` (0-based) on as not sent. */
    const notSent = (from: number, how: { reason: string; cancelled: boolean }): void => {
      for (let i = from; i < waves; i++) {
        for (const name of byWave[i]!) {
          const wave = staged ? { wave: i + 1 } : {};
          passes.record(how.cancelled ? { name, outcome: "failed", cancelled: true, reason: how.reason, ...wave } : { name, outcome: "skipped", reason: how.reason, ...wave });
        }
      }
    };
    try {
      if (spec.dryRun) {
        for (let i = 0; i < waves; i++) {
          for (const name of byWave[i]!) passes.record({ name, outcome: "skipped", reason: staged ? `dry run: would be updated in wave ${i + 1}` : "dry run: would be updated", ...(staged ? { wave: i + 1 } : {}) });
          rows[i]!.verdict = "dry run";
        }
        ended = true;
        return { sections: staged ? [waveTable(rows, { dryRun: true, notes, samples })] : [] };
      }
      if (settings.maxErrorLogs !== undefined && waves > 1) {
        // One read before any change, so a key without logs.read fails the run before wave 1, not after it.
        await spec.readLogs(new Date(ctx.clock.now()).toISOString(), passes.signal);
      }
      const updated = new Map<string, number>();
      for (let i = 0; i < waves; i++) {
        const row = rows[i]!;
        const items = byWave[i]!;
        const waveStart = ctx.clock.now();
        const waveUpdated = new Set<string>();
        if (staged) ctx.logger.info(`Wave ${i + 1} of ${waves} (${row.share} of the selection): ${items.length} instances.`);
        const r = await passes.pass(items, {
          ...(staged ? { wave: () => i + 1 } : {}),
          onOutcome: (o) => {
            if (o.outcome !== "succeeded") return;
            waveUpdated.add(o.name);
            updated.set(o.name, i + 1);
          },
        });
        row.updated = waveUpdated.size;
        if (r.cancelled || passes.signal.aborted) {
          state = "cancelled";
          row.verdict = "cancelled";
          notSent(i + 1, { reason: "not done: the run was cancelled", cancelled: true });
          break;
        }
        if (i === waves - 1) {
          wavesDone++;
          row.verdict = "sent (last wave)";
          break;
        }
        if (waveUpdated.size === 0) {
          // Nothing changed in this wave (all on the target already, or all failed): nothing to soak or judge.
          wavesDone++;
          row.verdict = "passed (no instance updated)";
          continue;
        }
        let verdict: GateVerdict;
        try {
          await soak({ clock: ctx.clock, ms: settings.soakMs, signal: passes.signal, label: `wave ${i + 1} of ${waves}`, onTick: (_, line) => ctx.logger.info(line) });
          verdict = await judge(spec, ctx, passes.signal, { waveStart, soakEnd: ctx.clock.now(), waveUpdated, row, samples });
        } catch (err) {
          if (!isCancelled(err, passes.signal)) throw err;
          state = "cancelled";
          row.verdict = "cancelled during the soak";
          notSent(i + 1, { reason: "not done: the run was cancelled during a soak", cancelled: true });
          break;
        }
        for (const n of verdict.notes) notes.push(`Wave ${i + 1}: ${n}`);
        if (verdict.passed) {
          wavesDone++;
          row.verdict = "passed";
          continue;
        }
        state = "halted";
        row.verdict = `halted: ${verdict.reason}`;
        const why = `the rollout halted after wave ${i + 1} (${verdict.reason})`;
        ctx.logger.warning(`The rollout halted after wave ${i + 1}: ${verdict.reason}.`);
        notSent(i + 1, { reason: `not sent: ${why}`, cancelled: false });
        failure = `The rollout halted after wave ${i + 1} (${verdict.reason})`;
        if (settings.rollbackOnHalt) {
          const back = await rollBack(spec, ctx, passes, updated);
          rolledBack = back.rolledBack;
          state = back.cancelled ? "cancelled" : "rolled-back";
          failure += `; ${back.rolledBack} of ${updated.size} updated instances rolled back${back.failed > 0 ? `, ${back.failed} not (see the summary)` : ""}`;
        }
        failure += ".";
        break;
      }
      ended = true;
    } finally {
      if (!ended) state = "failed";
      setOutputs();
    }
    return { ...(failure !== undefined ? { failure } : {}), sections: staged ? [waveTable(rows, { dryRun: false, notes, samples })] : [] };
  };
}

/** Reads the gate's figures for one wave and judges them; a figure that cannot be read halts the rollout. */
async function judge(
  spec: RolloutSpec,
  ctx: OperationContext,
  signal: AbortSignal,
  w: { waveStart: number; soakEnd: number; waveUpdated: ReadonlySet<string>; row: WaveRow; samples: { instance: string; log: string }[] },
): Promise<GateVerdict> {
  const { settings } = spec;
  const reading: GateReading = {};
  try {
    if (settings.minUpgradedPercent > 0) {
      const count = new UpgradeCount(w.waveUpdated, spec.target.id);
      for await (const page of spec.listing()) for (const i of page) count.see(i.slug, i.versionId);
      reading.upgraded = { upgraded: count.upgraded, of: count.of };
      w.row.upgraded = { ...reading.upgraded, percent: percent(count.upgraded, count.of) };
    }
    if (settings.maxErrorLogs !== undefined) {
      let told = false;
      const logs = await readErrorLogs({
        read: (from, s) => spec.readLogs(from, s),
        versionId: spec.target.id,
        sinceMs: w.waveStart,
        untilMs: w.soakEnd,
        pollMs: Math.min(30_000, Math.max(1000, Math.round(settings.soakMs / 10))),
        clock: ctx.clock,
        signal,
        onWait: (left) => {
          if (told) return;
          told = true;
          ctx.logger.info(`Waiting for the logs to reach the end of the soak (they arrive about a minute late; at most ${formatDuration(left)} more).`);
        },
      });
      reading.errorLogs = logs;
      w.row.errorLogs = { count: logs.count, complete: logs.complete };
      for (const s of logs.samples) if (w.samples.length < 5) w.samples.push(s);
    }
  } catch (err) {
    if (isCancelled(err, signal)) throw err;
    return { passed: false, reason: `the gate could not be judged: ${(err as Error).message}`, notes: [] };
  }
  return judgeGate(settings, reading, spec.target.label);
}

/** Sets every instance this run updated back to the version it ran before; per instance, rolled back or failed. */
async function rollBack(
  spec: RolloutSpec,
  ctx: OperationContext,
  passes: BulkPasses,
  updated: ReadonlyMap<string, number>,
): Promise<{ rolledBack: number; failed: number; cancelled: boolean }> {
  const previous = spec.previous;
  if (!previous) throw new Error("rollback-on-halt needs the versions the instances ran before the run (the listing was not read)");
  ctx.logger.info(`Rolling back ${updated.size} updated instances to the versions they ran before the run…`);
  let rolledBack = 0;
  let failed = 0;
  const names: string[] = [];
  for (const [name, wave] of updated) {
    if (previous.has(name)) names.push(name);
    else {
      // Never expected (the listing gives every selected instance's version), but never a guess either.
      passes.record({ name, outcome: "failed", reason: "rollback not sent: the version it ran before the run is unknown", wave }, "rollback");
      failed++;
    }
  }
  const r = await passes.pass(names, {
    kind: "rollback",
    wave: (name) => updated.get(name),
    send: (name, signal) => spec.setDesired(name, previous.get(name)!, signal),
    classify: (res, _uncertain, name) => {
      if (res.status >= 200 && res.status < 300) return { kind: "succeeded" };
      const f = spec.failureOf(res);
      if (f.kind === "failed" && f.code === "no-migration-path") {
        // One line per source version, not per instance: they all share the fix.
        return { kind: "failed", reason: `no migration path back from ${spec.describeVersion(spec.target.id)} to ${spec.describeVersion(previous.get(name)!)}, so the rollback was refused` };
      }
      return f.kind === "failed" ? { ...f, reason: `rollback: ${f.reason}` } : f;
    },
    onOutcome: (o) => {
      if (o.outcome === "succeeded") rolledBack++;
      else failed++;
    },
  });
  return { rolledBack, failed, cancelled: r.cancelled };
}
