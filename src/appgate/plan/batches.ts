/**
 * Packing appliances into batches (pure). A batch runs in parallel; each appliance belongs to
 * zero or more availability groups (the gateways of a site, the log forwarders of a site, the
 * connectors sharing a virtual IP), and a batch may hold at most `cap` members of each group.
 */

export interface BatchItem<T> {
  item: T;
  /** Sort key for a stable, readable order (site, then name). */
  key: string;
  /** Availability groups this item counts against. */
  groups: string[];
}

/**
 * Fewest batches the caps allow (the largest group over its cap), filled greedily: the most
 * constrained items first, each into the emptiest batch where all its groups still have room;
 * unconstrained items then level the batch sizes.
 */
export function packBatches<T>(items: readonly BatchItem<T>[], caps: ReadonlyMap<string, number>): T[][] {
  const capOf = (g: string): number => Math.max(1, caps.get(g) ?? Infinity);
  const groupSize = new Map<string, number>();
  for (const it of items) for (const g of it.groups) groupSize.set(g, (groupSize.get(g) ?? 0) + 1);

  let minBatches = items.length > 0 ? 1 : 0;
  for (const [g, n] of groupSize) minBatches = Math.max(minBatches, Math.ceil(n / capOf(g)));

  const batches: { items: BatchItem<T>[]; load: Map<string, number> }[] = [];
  for (let i = 0; i < minBatches; i++) batches.push({ items: [], load: new Map() });

  const constrained = items.filter((it) => it.groups.length > 0);
  const free = items.filter((it) => it.groups.length === 0);
  const tightness = (it: BatchItem<T>): number => Math.max(...it.groups.map((g) => (groupSize.get(g) ?? 0) / capOf(g)));
  constrained.sort((a, b) => tightness(b) - tightness(a) || b.groups.length - a.groups.length || a.key.localeCompare(b.key));
  free.sort((a, b) => a.key.localeCompare(b.key));

  for (const it of constrained) {
    let best: (typeof batches)[number] | undefined;
    for (const b of batches) {
      const fits = it.groups.every((g) => (b.load.get(g) ?? 0) < capOf(g));
      if (fits && (best === undefined || b.items.length < best.items.length)) best = b;
    }
    if (!best) {
      best = { items: [], load: new Map() };
      batches.push(best);
    }
    best.items.push(it);
    for (const g of it.groups) best.load.set(g, (best.load.get(g) ?? 0) + 1);
  }
  for (const it of free) {
    if (batches.length === 0) batches.push({ items: [], load: new Map() });
    let best = batches[0]!;
    for (const b of batches) if (b.items.length < best.items.length) best = b;
    best.items.push(it);
  }
  return batches
    .filter((b) => b.items.length > 0)
    .map((b) => b.items.sort((x, y) => x.key.localeCompare(y.key)).map((x) => x.item));
}
