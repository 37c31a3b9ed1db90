import type { SetDesiredVersionConfig } from "../config/config.ts";
import { code } from "../report/markdown.ts";
import type { StateBackedApi } from "../statebacked/api.ts";
import { ENDPOINTS } from "../statebacked/endpoints.ts";
import { describeVersionRef, resolveVersionRef } from "../statebacked/version-ref.ts";
import type { OperationContext } from "./context.ts";
import { type PresetOutcome, failureOf, runInstanceBulk, selectNames, startBulkOutputs } from "./instance-bulk.ts";
import { rolloutPlan } from "./rollout.ts";
import { stateBackedApiFor } from "./statebacked-api.ts";

/**
 * set-desired-version: one desired-version PUT per selected instance. 201 is `updated`;
 * `no-migration-path`, 403 and 404 are final for that instance; 429/5xx/network failures are
 * retried by the bulk engine. Instances known to be on the target already are skipped.
 */
export async function setDesiredVersion(config: SetDesiredVersionConfig, ctx: OperationContext): Promise<void> {
  startBulkOutputs(ctx);
  ctx.report.setOutput("waves-done", 0);
  ctx.report.setOutput("rolled-back-count", 0);
  const api = stateBackedApiFor(config.statebacked, ctx);
  const to = await resolveVersionRef(api, config.machine, "to-version", config.to);
  const from = config.from ? await resolveVersionRef(api, config.machine, "from-version", config.from) : undefined;

  const { candidates, preset, versions, labels } = await chooseInstances(config, api, to.id, from?.id);
  labels.set(to.id, to.clientInfo ?? "");
  const describeVersion = (id: string): string => (labels.get(id) ? `${labels.get(id)} (${id})` : id);
  const facts: [string, string][] = [
    ["Machine", code(config.machine)],
    ["Target version", `${code(to.id)}${to.clientInfo !== undefined ? ` (${code(to.clientInfo)})` : ""}${config.to.kind !== "id" ? ` from ${code(describeVersionRef(config.to))}` : ""}`],
  ];
  if (from) facts.push(["Only instances on", code(from.id)]);

  await runInstanceBulk(
    {
      job: { operation: "set-desired-version", machine: config.machine, settings: config },
      selection: { candidates, preset },
      protocol: {
        scope: ENDPOINTS.setDesiredVersion.scope,
        send: (name, signal) => api.setDesiredVersion(config.machine, name, to.id, signal),
        checkMachine: () => api.checkMachine(config.machine),
        classify: (res) => (res.status >= 200 && res.status < 300 ? { kind: "succeeded" } : failureOf(res)),
      },
      presentation: { succeededWord: "updated", title: `Set desired version of ${code(config.machine)} to ${code(to.id)}`, facts, listSucceeded: false },
      plan: rolloutPlan(
        {
          settings: config.rollout,
          dryRun: config.dryRun,
          target: { id: to.id, label: to.clientInfo || to.id },
          candidates,
          ...(versions ? { previous: versions } : {}),
          describeVersion,
          readLogs: (from, signal) => api.readLogs({ from, machine: config.machine, version: to.id }, signal),
          listing: () => instanceVersions(api, config.machine),
          setDesired: (name, versionId, signal) => api.setDesiredVersion(config.machine, name, versionId, signal),
          failureOf,
        },
        ctx,
      ),
    },
    ctx,
  );
}

/**
 * The instances to send, and the outcomes already known: invalid names (failed), instances on
 * the target already or not on from-version (skipped). The listing is read only when needed
 * (all-instances or from-version).
 */
async function chooseInstances(
  config: SetDesiredVersionConfig,
  api: StateBackedApi,
  toId: string,
  fromId: string | undefined,
): Promise<{ candidates: string[]; preset: PresetOutcome[]; versions?: Map<string, string>; labels: Map<string, string> }> {
  // A rollback needs the version each instance ran before the run: only the listing says.
  const needListing = config.selection.kind === "all" || fromId !== undefined || config.rollout.rollbackOnHalt;
  let versions: Map<string, string> | undefined;
  const labels = new Map<string, string>();
  if (needListing) {
    versions = new Map();
    for await (const page of api.listInstances(config.machine)) {
      for (const i of page) {
        versions.set(i.slug, i.machineVersion.id);
        if (!labels.has(i.machineVersion.id)) labels.set(i.machineVersion.id, i.machineVersion.clientInfo);
      }
    }
  }
  const names = config.selection.kind === "all" ? [...versions!.keys()] : config.selection.names;
  const { valid, preset } = selectNames(names, config.shard);
  const candidates: string[] = [];
  for (const name of valid) {
    if (!versions) {
      candidates.push(name);
      continue;
    }
    const current = versions.get(name);
    if (current === undefined) preset.push({ name, outcome: "failed", reason: "HTTP 404: no such instance in the machine's listing" });
    else if (current === toId) preset.push({ name, outcome: "skipped", reason: "already on the target version" });
    else if (fromId !== undefined && current !== fromId) preset.push({ name, outcome: "skipped", reason: "not on from-version" });
    else candidates.push(name);
  }
  return { candidates, preset, ...(versions ? { versions } : {}), labels };
}

/** The machine's instances and their current versions, page by page (the upgraded-share gate). */
async function* instanceVersions(api: StateBackedApi, machine: string): AsyncGenerator<{ slug: string; versionId: string }[]> {
  for await (const page of api.listInstances(machine)) yield page.map((i) => ({ slug: i.slug, versionId: i.machineVersion.id }));
}
