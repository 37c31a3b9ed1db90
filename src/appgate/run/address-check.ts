/**
 * Does controller-url reach the primary Controller, and only it? Read-only pre-flight checks on
 * what the Controller's answers (the admin hostnames in GET /appliances) and name resolution
 * say: a host name with several addresses of one family (a round robin), and an address that
 * another Controller's admin hostname also reaches (a DNS entry or a load balancer pointing at
 * the wrong box, so that the "other" Controller the run puts into maintenance mode is the one
 * answering). A loopback controller-url is compared with loopback names only, without DNS.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { messageOf } from "../api/errors.ts";
import type { FleetAppliance, UpgradePlan } from "../plan/model.ts";
import { isController } from "../plan/fleet.ts";

export type ResolveHost = (hostname: string) => Promise<string[]>;

export const resolveWithDns: ResolveHost = async (hostname) => (await lookup(hostname, { all: true })).map((a) => a.address);

export interface AddressCheckOptions {
  /** controller-url's host. */
  controllerHost: string;
  /** controller-url's host is a loopback name or address (local tests): no DNS is asked. */
  hostIsLoopback: boolean;
  resolveHost: ResolveHost;
}

const LOOPBACK = "loopback";

/** An address as compared: every loopback address is the same machine. */
function normal(address: string): string {
  const a = address.replace(/^\[|\]$/g, "").toLowerCase();
  return a === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || a === "::ffff:127.0.0.1" ? LOOPBACK : a;
}

function isLoopbackName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h.endsWith(".localhost") || normal(h) === LOOPBACK;
}

export async function checkAddresses(fleet: readonly FleetAppliance[], plan: UpgradePlan, o: AddressCheckOptions): Promise<void> {
  const host = o.controllerHost.replace(/^\[|\]$/g, "").toLowerCase();
  let urlAddresses: string[] | undefined;
  if (isIP(host) !== 0) urlAddresses = [normal(host)];
  else if (o.hostIsLoopback || isLoopbackName(host)) urlAddresses = [LOOPBACK];
  else {
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
      urlAddresses = addresses.map(normal);
    } catch (err) {
      plan.warnings.push(`could not check how '${host}' resolves: ${messageOf(err)}`);
    }
  }
  if (urlAddresses === undefined || plan.primary === undefined) return;
  const primary = plan.primary;
  const others = fleet.filter((a) => isController(a) && a.info.activated && a.info.id !== primary.id && a.info.adminHostname);
  await Promise.all(
    others.map(async (c) => {
      const name = c.info.adminHostname!.replace(/^\[|\]$/g, "").toLowerCase();
      const reached = await addressesOf(name, o);
      const shared = reached.filter((a) => urlAddresses.includes(a));
      if (shared.length === 0) return;
      const where = shared[0] === LOOPBACK ? "this machine (loopback)" : shared.join(", ");
      plan.problems.push(
        `controller-url's host '${host}' also reaches Controller ${c.info.name}: its admin hostname '${name}' points at ${where} too. ` +
          `Calls meant for the primary Controller ${primary.name} could be answered by ${c.info.name}, which the run puts into maintenance mode. ` +
          "Use an address that reaches the primary Controller only",
      );
    }),
  );
}

/** Where a name points, as compared; a name that cannot be resolved (or is not looked up) points nowhere known. */
async function addressesOf(name: string, o: AddressCheckOptions): Promise<string[]> {
  if (isIP(name) !== 0) return [normal(name)];
  if (isLoopbackName(name)) return [LOOPBACK];
  if (o.hostIsLoopback) return [];
  try {
    return (await o.resolveHost(name)).map(normal);
  } catch {
    return [];
  }
}
