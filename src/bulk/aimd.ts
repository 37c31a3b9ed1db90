/**
 * The pool's adaptive concurrency limit (AIMD), as a value with no clock and no I/O.
 *
 * - A rate-limited answer multiplies the limit by 0.7 (floor 1), at most once per congestion
 *   window: answers to attempts started before the last decrease are ignored, so a burst of 429s
 *   that were in flight together lowers the limit once.
 * - Every definitive answer adds 1/limit, i.e. +1 per `limit` answers (about one per round trip),
 *   up to the ceiling; near the limit last refused the step shrinks (see increase()), so the pool
 *   overshoots the server's limit rarely instead of every few round trips.
 */

/** The limit is multiplied by this on a rate-limited answer (once per window). */
export const AIMD_DECREASE_FACTOR = 0.7;
/** The smallest additive step per round trip, used right at the plateau. */
export const AIMD_PROBE_STEP = 1 / 16;

export class AimdLimit {
  readonly ceiling: number;
  /** The limit, fractional; `current` is the whole part that is used. */
  private value: number;
  private lowestSeen: number;
  /** Rate-limited answers to attempts numbered below this do not lower the limit again. */
  private barrier = 0;
  /** The highest limit that was not rate limited before the last decrease; probed slowly. */
  private plateau = Infinity;

  constructor(ceiling: number) {
    if (!Number.isInteger(ceiling) || ceiling < 1) {
      throw new RangeError(`concurrency must be a whole number of at least 1; got ${ceiling}`);
    }
    this.ceiling = ceiling;
    this.value = ceiling;
    this.lowestSeen = ceiling;
  }

  /** How many attempts may be in flight now. */
  get current(): number {
    return Math.floor(this.value);
  }

  /** The lowest limit used so far. */
  get lowest(): number {
    return this.lowestSeen;
  }

  /**
   * Multiplicative decrease for a rate-limited answer to the attempt numbered `attemptSeq`;
   * `nextSeq` is the number the next attempt to start will get (it opens the next window).
   * Returns the limits before and after when the answer counted, undefined when it was ignored.
   */
  decrease(attemptSeq: number, nextSeq: number): { before: number; after: number } | undefined {
    if (attemptSeq < this.barrier) return undefined;
    const before = this.current;
    this.plateau = Math.max(1, before - 1);
    this.value = Math.max(1, this.value * AIMD_DECREASE_FACTOR);
    this.barrier = nextSeq;
    const after = this.current;
    if (after < this.lowestSeen) this.lowestSeen = after;
    return { before, after };
  }

  /**
   * Additive increase for one definitive answer: +1 per `limit` answers (about +1 per round trip),
   * up to the ceiling. At and above the plateau (one below the limit that was last rate limited)
   * the step shrinks to 1/16 and grows back to 1 as the limit moves away from it (+2 above), so
   * the pool lingers just under the server's limit instead of overshooting it every few round
   * trips, and still finds a higher limit when the server recovers.
   */
  increase(): void {
    if (this.value >= this.ceiling) return;
    let step = 1;
    if (this.value >= this.plateau) step = Math.min(1, Math.max(AIMD_PROBE_STEP, (this.value - this.plateau) / 2));
    this.value = Math.min(this.ceiling, this.value + step / this.value);
  }
}
