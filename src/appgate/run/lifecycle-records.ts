/** What happened to each appliance in prepare-appliance-upgrade and cancel-appliance-upgrade. */
import type { LifecycleFacts } from "../plan/prepare-plan.ts";

/**
 * - prepared / cancelled: done and seen through by this run
 * - failed: refused, timed out, or the appliance reported `failed`
 * - skipped: not part of the run (with the reason)
 * - not-started: planned, but the run stopped first; unfinished: under way when it was cancelled
 * - planned: dry run
 */
export type LifecycleOutcome = "prepared" | "cancelled" | "failed" | "skipped" | "not-started" | "unfinished" | "planned";

export interface LifecycleRecord extends LifecycleFacts {
  outcome: LifecycleOutcome;
  reason?: string;
  startedAt?: number;
  finishedAt?: number;
  lastSeen?: string;
}

export function namesOf(records: readonly LifecycleRecord[], ...outcomes: LifecycleOutcome[]): string[] {
  return records.filter((r) => outcomes.includes(r.outcome)).map((r) => r.name);
}

/** Runs `fn` over `items` with at most `limit` at once; stops starting new ones once `stop()` says so. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !stop()) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
