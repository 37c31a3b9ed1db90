/**
 * Pre-flight: sign in, read the fleet (appliances, live status, upgrade status of each) and plan.
 * Reads only; nothing here changes the collective.
 */
import type { AppgateClient } from "../api/client.ts";
import { isFatal, messageOf } from "../api/errors.ts";
import { type AddressCheckOptions, checkAddresses } from "./address-check.ts";
import type { FleetAppliance, UpgradePlan } from "../plan/model.ts";
import { planUpgrade } from "../plan/plan.ts";
import { isCancelled } from "../../runtime/clock.ts";

export { type ResolveHost, resolveWithDns } from "./address-check.ts";

export interface PreflightOptions extends AddressCheckOptions {
  selection?: readonly string[];
  maxUnavailable: number;
  requestTimeoutMs: number;
}

export interface Preflight {
  fleet: FleetAppliance[];
  plan: UpgradePlan;
}

export async function readFleet(client: AppgateClient, timeoutMs: number): Promise<FleetAppliance[]> {
  const infos = await client.appliances({ retry: "idempotent" });
  const lives = await client.liveStatus({ retry: "idempotent" });
  const fleet: FleetAppliance[] = infos.map((info) => {
    const live = lives.get(info.id);
    return live ? { info, live } : { info };
  });
  await forEachLimited(fleet, 8, async (a) => {
    if (!a.info.activated || a.live === undefined || a.live.status === "offline" || a.live.status === "n/a") return;
    try {
      a.upgrade = await client.upgradeStatus(a.info, { retry: "idempotent", timeoutMs });
    } catch (err) {
      if (isFatal(err) || isCancelled(err)) throw err;
      a.upgradeError = messageOf(err);
    }
  });
  return fleet;
}

export async function preflight(client: AppgateClient, o: PreflightOptions): Promise<Preflight> {
  const fleet = await readFleet(client, o.requestTimeoutMs);
  const plan = planUpgrade({
    appliances: fleet,
    controllerHost: o.controllerHost,
    maxUnavailable: o.maxUnavailable,
    ...(o.selection !== undefined ? { selection: o.selection } : {}),
  });
  await checkAddresses(fleet, plan, o);
  return { fleet, plan };
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
