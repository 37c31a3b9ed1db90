import type { DeleteInstancesConfig } from "../config/config.ts";
import { code } from "../report/markdown.ts";
import { ENDPOINTS } from "../statebacked/endpoints.ts";
import type { OperationContext } from "./context.ts";
import { failureOf, runInstanceBulk, startBulkOutputs } from "./instance-bulk.ts";
import { selectionOf, sourceOf } from "./instance-selection.ts";
import { stateBackedApiFor } from "./statebacked-api.ts";

/**
 * delete-instances: one guarded delete per named instance (the client adds the confirmation
 * flag and the HMAC of the instance name keyed by the machine name). 204 is
 * `deleted`, 404 `skipped` (already gone), a 400 names the refused parameter.
 */
export async function deleteInstances(config: DeleteInstancesConfig, ctx: OperationContext): Promise<void> {
  startBulkOutputs(ctx);
  const api = stateBackedApiFor(config.statebacked, ctx);
  const selection = selectionOf(api, config.machine, sourceOf(api, config.machine, config.selection), { shard: config.shard });
  const facts: [string, string][] = [["Machine", code(config.machine)]];
  await runInstanceBulk(
    {
      job: { operation: "delete-instances", machine: config.machine, settings: config },
      selection,
      protocol: {
        scope: ENDPOINTS.deleteInstance.scope,
        send: (name, signal) => api.deleteInstance(config.machine, name, signal),
        checkMachine: () => api.checkMachine(config.machine),
        classify: (res, earlierMayHaveActed) => {
          if (res.status >= 200 && res.status < 300) return { kind: "succeeded" };
          if (res.status === 404) {
            // Gone after a try whose answer was lost: that try deleted it.
            return earlierMayHaveActed ? { kind: "succeeded", detail: "confirmed gone after a retry" } : { kind: "skipped", reason: "already gone (404)" };
          }
          return failureOf(res);
        },
      },
      presentation: {
        succeededWord: "deleted",
        title: `Delete instances of ${code(config.machine)}`,
        facts,
        listSucceeded: true,
        words: { done: () => "deleted", wouldBe: () => "would be deleted", failedTo: () => "could not be deleted" },
      },
    },
    ctx,
  );
}
