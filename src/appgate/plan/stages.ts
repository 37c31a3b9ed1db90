/**
 * The stages of a plan (pure): first the appliances an earlier run left installing (they are
 * down already, so nothing new starts before they are back: they count against every cap);
 * then the primary Controller; the other Controllers one at a time; then batches in which no
 * availability group (the gateways of a site, its log forwarders, the connectors sharing a
 * virtual IP) has more than max-unavailable members down.
 */
import { type BatchItem, packBatches } from "./batches.ts";
import { type FleetAppliance, siteKey } from "./fleet.ts";
import { byName, type PlannedAppliance, type UpgradePlan } from "./model.ts";

export function buildStages(plan: UpgradePlan, planned: readonly PlannedAppliance[], all: readonly FleetAppliance[], maxUnavailable: number): void {
  const caps = groupCaps(all, maxUnavailable);
  const inflight = planned.filter((p) => p.action === "wait-install").sort(byName);
  if (inflight.length > 0) {
    plan.stages.push({ kind: "resume", label: "Already installing (started earlier)", appliances: inflight });
    warnOverCaps(inflight.map((p) => batchItem(p, all)), caps, plan);
  }
  const fresh = planned.filter((p) => p.action !== "wait-install");
  const primary = fresh.find((p) => p.isPrimary);
  if (primary) plan.stages.push({ kind: "primary", label: "Primary Controller", appliances: [primary] });
  const others = fresh.filter((p) => !p.isPrimary && p.switchPartition).sort(byName);
  others.forEach((c, i) =>
    plan.stages.push({ kind: "controller", label: `Other Controller ${i + 1} of ${others.length}`, appliances: [c] }),
  );
  plan.maintenance = others.filter((c) => c.action !== "maintenance-off" && !c.inMaintenance);

  const rest = fresh.filter((p) => !p.switchPartition);
  const batches = packBatches(
    rest.map((p) => batchItem(p, all)),
    caps,
  );
  batches.forEach((b, i) => plan.stages.push({ kind: "batch", label: `Batch ${i + 1} of ${batches.length}`, appliances: b }));
}

/** Appliances already installing together beyond a cap: nothing to do about it but say so. */
function warnOverCaps(items: readonly BatchItem<PlannedAppliance>[], caps: ReadonlyMap<string, number>, plan: UpgradePlan): void {
  const members = new Map<string, PlannedAppliance[]>();
  for (const it of items) for (const g of it.groups) members.set(g, [...(members.get(g) ?? []), it.item]);
  for (const [g, ps] of members) {
    if (ps.length <= (caps.get(g) ?? Infinity)) continue;
    const group = g.startsWith("vip:")
      ? `connectors sharing virtual IP ${g.slice(4)}`
      : `${g.startsWith("gateway@") ? "gateways" : "log forwarders"} of site ${ps[0]!.site || "(none)"}`;
    plan.warnings.push(
      `${ps.map((p) => p.name).join(", ")} were already installing together, more than max-unavailable allows for the ${group}; ` +
        "they are waited for before anything else starts",
    );
  }
}

/** The connectors (of the whole fleet) sharing each virtual IP. */
function haSets(all: readonly FleetAppliance[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const a of all) {
    if (!a.info.activated || !a.info.roles.includes("connector")) continue;
    for (const vip of new Set(a.info.virtualIps)) sizes.set(vip, (sizes.get(vip) ?? 0) + 1);
  }
  return sizes;
}

function batchItem(p: PlannedAppliance, all: readonly FleetAppliance[]): BatchItem<PlannedAppliance> {
  const a = all.find((x) => x.info.id === p.id)!;
  const groups: string[] = [];
  const site = siteKey(a.info);
  if (p.roles.includes("gateway")) groups.push(`gateway@${site}`);
  if (p.roles.includes("logForwarder")) groups.push(`logForwarder@${site}`);
  if (p.roles.includes("connector")) {
    const sizes = haSets(all);
    for (const vip of new Set(a.info.virtualIps)) if ((sizes.get(vip) ?? 0) > 1) groups.push(`vip:${vip}`);
  }
  return { item: p, key: `${p.site}\u0000${p.name}`, groups };
}

/** max-unavailable per group; an HA set sharing a virtual IP always keeps one member up. */
function groupCaps(all: readonly FleetAppliance[], maxUnavailable: number): Map<string, number> {
  const caps = new Map<string, number>();
  for (const a of all) {
    const site = siteKey(a.info);
    caps.set(`gateway@${site}`, maxUnavailable);
    caps.set(`logForwarder@${site}`, maxUnavailable);
  }
  for (const [vip, size] of haSets(all)) if (size > 1) caps.set(`vip:${vip}`, Math.min(maxUnavailable, size - 1));
  return caps;
}
