/**
 * Pre-flight: sign in, read the fleet (appliances, live status, upgrade status of each) and plan.
 * Reads only; nothing here changes the collective.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { isLoopbackHost } from "../config/inputs.ts";
import { listData, toApplianceInfo, toUpgradeStatus } from "./api-types.ts";
import { readLiveStatus } from "./appliance-ops.ts";
import type { AppgateClient } from "./client.ts";
import { isFatal, messageOf } from "./errors.ts";
import { type FleetAppliance, planUpgrade, type UpgradePlan } from "./plan.ts";
import { isCancelled } from "../runtime/clock.ts";

export type ResolveHost = (hostname: string) => Promise<string[]>;

export const resolveWithDns: ResolveHost = async (hostname) => (await lookup(hostname, { all: true })).map((a) => a.address);

export interface PreflightOptions {
  controllerHost: string;
  selection?: readonly string[];
  maxUnavailable: number;
  resolveHost: ResolveHost;
  requestTimeoutMs: number;
}

export interface Preflight {
  fleet: FleetAppliance[];
  plan: UpgradePlan;
}

export async function readFleet(client: AppgateClient, timeoutMs: number): Promise<FleetAppliance[]> {
  const infos = listData(await client.get("/appliances", { what: "listing appliances (GET /appliances)", retry: "idempotent" }))
    .map(toApplianceInfo)
    .filter((a) => a !== undefined);
  const lives = await readLiveStatus(client, "reading appliance status (GET /appliances/status)", { retry: "idempotent" });
  const fleet: FleetAppliance[] = infos.map((info) => {
    const live = lives.get(info.id);
    return live ? { info, live } : { info };
  });
  await forEachLimited(fleet, 8, async (a) => {
    if (!a.info.activated || a.live === undefined || a.live.status === "offline" || a.live.status === "n/a") return;
    try {
      const body = await client.get(`/appliances/${a.info.id}/upgrade`, {
        what: `reading the upgrade status of ${a.info.name}`,
        retry: "idempotent",
        timeoutMs,
      });
      a.upgrade = toUpgradeStatus(body);
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
  const host = o.controllerHost.replace(/^\[|\]$/g, "");
  if (isIP(host) === 0 && !isLoopbackHost(host)) {
    try {
      const addresses = [...new Set(await o.resolveHost(host))];
      // One address per family (as sdpctl checks): a dual-stack host has one IPv4 and one IPv6 address.
      for (const family of [4, 6]) {
        const same = addresses.filter((a) => isIP(a) === family);
        if (same.length > 1) {
          plan.problems.push(
            `controller-url's host '${host}' resolves to more than one IPv${family} address (${same.join(", ")}): calls could reach another Controller. ` +
              "Use an address that reaches the primary Controller only",
          );
        }
      }
    } catch (err) {
      plan.warnings.push(`could not check how '${host}' resolves: ${messageOf(err)}`);
    }
  }
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
