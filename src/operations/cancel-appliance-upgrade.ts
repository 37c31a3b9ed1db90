/**
 * cancel-appliance-upgrade: cancel prepared upgrades (DELETE /appliances/{id}/upgrade) of the
 * `appliances` given, by default of every appliance whose upgrade status is not idle; never of
 * one that is installing. With delete-upgrade-files, the upgrade images the Controller holds
 * (Files API) are deleted too.
 */
import type { AppgateClient } from "../appgate/api/client.ts";
import { planCancel, cancelAll } from "../appgate/run/cancel.ts";
import type { UpgradeTimings } from "../appgate/run/timings.ts";
import type { CancelConfig } from "../config/appgate.ts";
import type { Logger } from "../runtime/logger.ts";
import { runLifecycle } from "./appgate-lifecycle.ts";
import type { OperationContext } from "./context.ts";

export async function cancelApplianceUpgrade(config: CancelConfig, ctx: OperationContext, timings: Partial<UpgradeTimings> = {}): Promise<void> {
  const deleted: string[] = [];
  await runLifecycle(
    config,
    ctx,
    {
      operation: "cancel-appliance-upgrade",
      title: "cancel appliance upgrade",
      done: "cancelled",
      async plan(fleet) {
        const plan = planCancel(fleet, config.appliances);
        return { ...plan, todo: plan.cancel, warnings: [], facts: [["delete-upgrade-files", String(config.deleteUpgradeFiles)]] };
      },
      async act(records, client, t) {
        await cancelAll(records, { client, clock: ctx.clock, signal: ctx.signal, logger: ctx.logger, timings: t });
        if (config.deleteUpgradeFiles && !ctx.signal.aborted) deleted.push(...(await deleteImages(client, ctx.logger)));
      },
    },
    timings,
  );
  if (deleted.length > 0) ctx.report.addSummary(`Upgrade image files deleted from the Controller: ${deleted.map((d) => `\`${d.replace(/`/g, "'")}\``).join(", ")}`);
}

/** Deletes the upgrade images (`*.img.zip`) the Controller holds; returns their names. */
async function deleteImages(client: AppgateClient, logger: Logger): Promise<string[]> {
  const images = (await client.files.list({ retry: "idempotent" })).filter((f) => /\.img\.zip$/i.test(f.name));
  for (const f of images) {
    await client.files.remove(f.name);
    logger.info(`Deleted ${f.name} from the Controller`);
  }
  return images.map((f) => f.name);
}
