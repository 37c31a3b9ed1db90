import type { ItemOutcome } from "./types.ts";

/** What the pool keeps for an item from its first attempt to its outcome (nothing before or after). */
export interface ItemState {
  name: string;
  attempts: number;
  /** Attempts answered as rate limited. */
  rateLimited: number;
  firstStartedAt: number;
  /** Start order of the latest attempt (for the AIMD window and the heap's ties). */
  seq: number;
  /** When a waiting retry may start. */
  dueAt: number;
  /** Set once the outcome is out; a late answer is then ignored. */
  done: boolean;
  /** An attempt failed in a way the server may have acted on. */
  mayHaveActed: boolean;
}

export function newState(name: string, now: number): ItemState {
  return { name, attempts: 0, rateLimited: 0, firstStartedAt: now, seq: 0, dueAt: 0, done: false, mayHaveActed: false };
}

export function statusFields(r: { reason: string; status?: number; code?: string }): Partial<ItemOutcome> {
  return {
    reason: r.reason,
    ...(r.status !== undefined ? { status: r.status } : {}),
    ...(r.code !== undefined ? { code: r.code } : {}),
  };
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** The `code` of a thrown error (a network error's `ECONNRESET`…), when it has one. */
export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
