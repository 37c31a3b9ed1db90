import type { SetDesiredVersionConfig } from "../config/config.ts";
import { code } from "../report/markdown.ts";
import { mermaidPie } from "../report/sections.ts";
import { count, escapeInline, versionText } from "../report/verdict.ts";
import { WHOLE } from "../rollout/waves.ts";
import type { StateBackedApi } from "../statebacked/api.ts";
import { ENDPOINTS } from "../statebacked/endpoints.ts";
import { describeVersionRef, resolveVersionRef } from "../statebacked/version-ref.ts";
import type { OperationContext } from "./context.ts";
import { beforeBulk } from "./early-stop.ts";
import { failureOf, runInstanceBulk, startBulkOutputs } from "./instance-bulk.ts";
import { selectionOf, sourceOf } from "./instance-selection.ts";
import { MigrationProbe, NO_MIGRATION_PATH } from "./migration-probe.ts";
import { rolloutPlan } from "./rollout.ts";
import { stateBackedApiFor } from "./statebacked-api.ts";
import { VersionCounts } from "./version-counts.ts";

/**
 * set-desired-version: one desired-version PUT per selected instance, sent while the selection
 * is still being read. 201 is `updated`; `no-migration-path`, 403 and 404 are final for that
 * instance; 429/5xx/network failures are retried by the bulk engine. Instances known to be on
 * the target already are skipped; where versions are known, the first instance of each version
 * probes for a migration path (migration-probe.ts). A rollout in waves (rollout.ts) reads the
 * whole selection first.
 */
export async function setDesiredVersion(config: SetDesiredVersionConfig, ctx: OperationContext): Promise<void> {
  startBulkOutputs(ctx);
  ctx.report.setOutput("waves-done", 0);
  ctx.report.setOutput("rolled-back-count", 0);
  const api = stateBackedApiFor(config.statebacked, ctx);
  // A stop here (cancelled while resolving versions) still accounts for every named instance.
  const early = { operation: "set-desired-version", machine: config.machine, scope: ENDPOINTS.setDesiredVersion.scope, settings: config, selection: config.selection, succeededWord: "updated" };
  const { to, from } = await beforeBulk(ctx, early, async () => ({
    to: await resolveVersionRef(api, config.machine, "to-version", config.to),
    from: config.from ? await resolveVersionRef(api, config.machine, "from-version", config.from) : undefined,
  }));

  const target = versionText(to.id, to.clientInfo);
  const facts: [string, string][] = [
    ["Machine", code(config.machine)],
    ["Target version", `${target}${config.to.kind !== "id" ? ` from ${code(describeVersionRef(config.to))}` : ""}`],
  ];
  if (from) facts.push(["Only instances on", versionText(from.id, from.clientInfo)]);

  const { rollout } = config;
  // One wave of the whole selection, nothing to roll back: sent as the selection is read.
  const streamed = rollout.waves.length === 1 && rollout.waves[0]! >= WHOLE && !rollout.rollbackOnHalt;
  const probe = new MigrationProbe(to);
  const before = new VersionCounts();
  const source = sourceOf(api, config.machine, config.selection);
  const selection = before.counting(
    selectionOf(api, config.machine, source, {
      shard: config.shard,
      targetId: to.id,
      ...(from ? { fromId: from.id } : {}),
      // A rollback needs the version each instance ran before the run: only the listing says.
      needVersions: rollout.rollbackOnHalt,
    }),
  );
  const describeVersion = (id: string): string => {
    const label = id === to.id ? to.clientInfo : before.labelOf(id);
    return label ? `${label} (${id})` : id;
  };

  const run = runInstanceBulk(
    {
      job: { operation: "set-desired-version", machine: config.machine, settings: config },
      selection,
      protocol: {
        scope: ENDPOINTS.setDesiredVersion.scope,
        send: (name, signal) => api.setDesiredVersion(config.machine, name, to.id, signal),
        checkMachine: () => api.checkMachine(config.machine),
        classify: (res, _earlier, item) => {
          if (res.status >= 200 && res.status < 300) return { kind: "succeeded" };
          const failure = failureOf(res);
          // The probe's answer in the words every instance of its version gets.
          if (failure.kind === "failed" && failure.code === NO_MIGRATION_PATH && item.version) return { ...failure, reason: probe.reason(item.version) };
          return failure;
        },
        gate: probe,
      },
      presentation: {
        succeededWord: "updated",
        title: `Set desired version of ${code(config.machine)} to ${target}`,
        facts,
        listSucceeded: false,
        sections: () => [versionsChart(before, to.id), before.section(to), probe.section()],
        words: {
          done: (n) => `now ${n === 1 ? "desires" : "desire"} ${target}`,
          wouldBe: () => `would move to ${target}`,
          failedTo: () => `could not move to ${target}`,
        },
        doneDetail: () => wereOn(before, to.id),
      },
      ...(streamed
        ? {}
        : {
            plan: (passes, chosen) =>
              rolloutPlan(
                {
                  settings: rollout,
                  dryRun: config.dryRun,
                  target: { id: to.id, label: to.clientInfo || to.id },
                  candidates: chosen.candidates,
                  ...(chosen.versions.size > 0 ? { previous: chosen.versions } : {}),
                  describeVersion,
                  readLogs: (fromIso, signal) => api.readLogs({ from: fromIso, machine: config.machine, version: to.id }, signal),
                  listing: () => instanceVersions(api, config.machine),
                  setDesired: (name, versionId, signal) => api.setDesiredVersion(config.machine, name, versionId, signal),
                  failureOf,
                },
                ctx,
              )(passes),
          }),
    },
    ctx,
  );
  if (!streamed) {
    await run;
    return;
  }
  // What a rollout of one wave says (rollout.ts), without the wave table.
  let cancelled: boolean;
  try {
    ({ cancelled } = await run);
  } catch (err) {
    ctx.report.setOutput("rollout", "failed");
    throw err;
  }
  ctx.report.setOutput("rollout", cancelled ? "cancelled" : "complete");
  ctx.report.setOutput("waves-done", cancelled || config.dryRun ? 0 : 1);
}

/** The machine's instances and their current versions, page by page (the upgraded-share gate). */
async function* instanceVersions(api: StateBackedApi, machine: string): AsyncGenerator<{ slug: string; versionId: string }[]> {
  for await (const page of api.listInstances(machine)) yield page.map((i) => ({ slug: i.slug, versionId: i.machineVersion.id }));
}

/** Versions named in the "were on" sentence and the chart; the rest are "other versions". */
const BEFORE_SHOWN = 6;

/** The versions the instances to move were on (the target's own excluded), by label, largest first. */
function slicesBefore(before: VersionCounts, targetId: string): (readonly [string, number])[] {
  const entries = before.entries().filter((e) => e.version.id !== targetId);
  const shown = entries.slice(0, BEFORE_SHOWN).map((e) => [e.version.clientInfo || e.version.id, e.count] as const);
  const other = entries.slice(BEFORE_SHOWN).reduce((s, e) => s + e.count, 0);
  return other > 0 ? [...shown, ["other versions", other] as const] : shown;
}

/** "(were on v1.0.0: 9,000, v0.9.0: 1,000)", when the versions were read. */
function wereOn(before: VersionCounts, targetId: string): string | undefined {
  const slices = slicesBefore(before, targetId);
  return slices.length === 0 ? undefined : `(were on ${slices.map(([l, n]) => `${escapeInline(l)}: ${count(n)}`).join(", ")})`;
}

/** A pie of the versions before the run, when there are two or more (one slice says nothing a sentence does not). */
function versionsChart(before: VersionCounts, targetId: string): string {
  const slices = slicesBefore(before, targetId);
  return slices.length < 2 ? "" : mermaidPie("Versions before the run", slices);
}
