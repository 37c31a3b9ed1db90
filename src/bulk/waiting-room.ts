import { DueHeap } from "./due-heap.ts";
import type { ItemState } from "./item-state.ts";

/**
 * The items that have started and wait to go again, holding no slot: retries in a heap by due
 * time, and items that deferred their attempt until a promise settles (then they are due at once).
 */
export class WaitingRoom {
  private readonly heap = new DueHeap<ItemState>();
  private readonly deferred = new Set<ItemState>();
  private readonly now: () => number;
  /** Told when a deferred item is due again. */
  private readonly onResume: () => void;

  constructor(now: () => number, onResume: () => void) {
    this.now = now;
    this.onResume = onResume;
  }

  /** Items waiting, deferred ones included. */
  get size(): number {
    return this.heap.size + this.deferred.size;
  }

  get deferredCount(): number {
    return this.deferred.size;
  }

  /** The earliest retry if it is due at `now` (taken out), else undefined. */
  takeDue(now: number): ItemState | undefined {
    const head = this.heap.peek();
    if (head === undefined || head.dueAt > now) return undefined;
    return this.heap.pop();
  }

  /** When the earliest retry is due, if any. */
  nextDueAt(): number | undefined {
    return this.heap.peek()?.dueAt;
  }

  retryAt(st: ItemState, dueAt: number): void {
    st.dueAt = dueAt;
    this.heap.push(st);
  }

  /** Holds `st` until `until` settles; then it is due at once. */
  defer(st: ItemState, until: Promise<unknown>): void {
    this.deferred.add(st);
    const resume = (): void => {
      if (!this.deferred.delete(st) || st.done) return;
      this.retryAt(st, this.now());
      this.onResume();
    };
    until.then(resume, resume);
  }

  /** Empties the room (on cancellation): every item that was in it. */
  drain(): ItemState[] {
    const out: ItemState[] = [];
    for (let st = this.heap.pop(); st !== undefined; st = this.heap.pop()) out.push(st);
    out.push(...this.deferred);
    this.deferred.clear();
    return out;
  }
}
