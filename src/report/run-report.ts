/**
 * What an operation leaves behind: step outputs, job summary blocks (Markdown), annotations and
 * the failure that fails the step. Operations fill it as they go, so that whatever way a run
 * ends (success, error, cancellation) main.ts can still write what was done. Pure: it knows
 * nothing of @actions/core.
 */
import type { Verdict } from "./verdict.ts";

export interface Annotation {
  level: "error" | "warning" | "notice";
  title: string;
  message: string;
}

export class RunReport {
  readonly outputs = new Map<string, string>();
  readonly summary: string[] = [];
  readonly annotations: Annotation[] = [];
  failure: string | undefined;
  /** The summary's first line (see verdict.ts); a failure without one gets a generic ❌ line. */
  verdict: Verdict | undefined;

  setOutput(name: string, value: string | number | boolean): void {
    this.outputs.set(name, String(value));
  }

  /** Appends one Markdown block to the job summary. */
  addSummary(markdown: string): void {
    this.summary.push(markdown);
  }

  annotate(a: Annotation): void {
    this.annotations.push(a);
  }

  /** Sets the summary's verdict line (the last one set wins: it is decided when the run ends). */
  setVerdict(v: Verdict): void {
    this.verdict = v;
  }

  /** Marks the step failed (the first failure is kept; later ones are annotations). */
  fail(message: string): void {
    if (this.failure === undefined) this.failure = message;
  }
}
