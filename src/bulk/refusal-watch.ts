import { formatDuration } from "../runtime/duration.ts";

/**
 * The bulk run's bound against a server that only refuses: when every answer for `windowMs`
 * has been a refusal (429 or 5xx) and none a success or a final answer, the run stops (the
 * rest are listed as not done) instead of going on for as long as the server likes.
 */
export class RefusalWatch {
  private readonly windowMs: number;
  private lastAnswerAt: number;
  private refusals = 0;

  constructor(windowMs: number, startedAt: number) {
    this.windowMs = windowMs;
    this.lastAnswerAt = startedAt;
  }

  /** An answer that was not a refusal (success, skip, final failure). */
  answered(now: number): void {
    this.lastAnswerAt = now;
    this.refusals = 0;
  }

  /** A refusal; returns why the run must stop when the window is full of them, else undefined. */
  refused(now: number): string | undefined {
    this.refusals++;
    if (!(now - this.lastAnswerAt >= this.windowMs)) return undefined;
    return `every answer for ${formatDuration(now - this.lastAnswerAt)} (${this.refusals} of them) was a refusal (429 or 5xx) and none a success; the run stops (the bound is max-attempts x request-timeout-seconds, ${formatDuration(this.windowMs)})`;
  }
}
