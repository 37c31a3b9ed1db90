/**
 * Pre-flight: sign in, read the fleet (appliances, live status, upgrade status of each) and plan.
 * Reads only; nothing here changes the collective.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { AppgateClient } from "../api/client.ts";
import { isFatal, messageOf } from "../api/errors.ts";
import type { FleetAppliance, UpgradePlan } from "../plan/model.ts";
import { planUpgrade } from "../plan/plan.ts";
import { isCancelled } from "../../runtime/clock.ts";

export type ResolveHost = (hostname: string) => Promise<string[]>;

export const resolveWithDns: ResolveHost = async (hostname) => (await lookup(hostname, { all: true })).map((a) => a.address);

export interface PreflightOptions {
  controllerHost: string;
  selection?: readonly string[];
  maxUnavailable: number;
  resolveHost: ResolveHost;
  /**
   * Check that controller-url's host resolves to one address per family (false for an IP
   * address or a loopback name, which cannot reach another Controller by DNS).
   */
  checkResolution: boolean;
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
  const host = o.controllerHost.replace(/^\[|\]$/g, "");
  if (o.checkResolution && isIP(host) === 0) {
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
