import type { BulkTally, FixFor } from "../report/bulk-tally.ts";
import { code } from "../report/markdown.ts";
import { count, plural, type Verdict } from "../report/verdict.ts";
import { type ApiError, hintFor } from "../statebacked/errors.ts";

/**
 * The verdict line of a bulk instance run, in the user's words: what happened to how many
 * instances of which machine, and, when something went wrong, what to do.
 */
export interface BulkWords {
  /** After "N instances of `m`": "now desire **v1.1.0** (`ver_…`)", "deleted". */
  done(n: number): string;
  /** Dry run: "would move to **v1.1.0**", "would be deleted". */
  wouldBe(n: number): string;
  /** "could not move to **v1.1.0**", "could not be deleted". */
  failedTo(n: number): string;
}

export interface BulkEnd {
  machine: string;
  words: BulkWords;
  dryRun: boolean;
  failOnError: boolean;
  cancelled: boolean;
  /** A refusal that stopped the whole run (bad key, missing scope). */
  runWide?: ApiError;
  /** Why a rollout halted (a wave's gate failed). */
  halted?: string;
  /** Why the operation's own gate stopped the run (e.g. no migration path). */
  stopped?: string;
  /** Text after the sentence, e.g. "(were on v1.0.0: 900)". */
  detail?: string;
}

export function bulkVerdict(t: BulkTally, end: BulkEnd, fixFor: FixFor): Verdict {
  const of = `${plural(t.total, "instance")} of ${code(end.machine)}`;
  if (end.runWide) {
    const e = end.runWide;
    const what =
      e.code === "missing-scope" && /'([a-z.]+)'/.exec(e.hint ?? "")
        ? `the key lacks \`${/'([a-z.]+)'/.exec(e.hint ?? "")![1]}\``
        : e.code === "specify-org"
          ? "the token's user belongs to several orgs"
          : e.status === 401
            ? "the API did not accept the key or token (HTTP 401)"
            : `the API refused every request (HTTP ${e.status}${e.code ? ` ${e.code}` : ""})`;
    return {
      level: "fail",
      sentence: `Stopped: ${what}; ${count(t.succeeded)} of ${of} done`,
      fix: `${e.hint ? `${capitalize(e.hint)}.` : "See the error below."} Then run the step again.`,
    };
  }
  if (end.cancelled) {
    return {
      level: "fail",
      sentence: `Cancelled: ${count(t.succeeded)} of ${of} ${end.words.done(t.succeeded)}; ${count(t.notDone)} not done`,
      fix: "Run the step again with `instances-file` set to this step's `failed-instances-file` output to finish the rest.",
    };
  }
  const skipped = t.skipped > 0 ? `; ${count(t.skipped)} skipped` : "";
  if (end.stopped) {
    return {
      level: "fail",
      sentence: `Stopped: ${count(t.succeeded)} of ${of} ${end.words.done(t.succeeded)}`,
      fix: end.stopped.replace(/\.?$/, "."),
    };
  }
  if (end.halted) {
    return {
      level: "fail",
      sentence: `Rollout halted: ${count(t.succeeded)} of ${of} ${end.words.done(t.succeeded)}${t.rolledBack > 0 ? `; ${count(t.rolledBack)} rolled back` : ""}`,
      fix: `${end.halted.replace(/\.?$/, ".")} Find the cause (the waves table below says which gate stopped it), then run again.`,
    };
  }
  if (t.failed > 0) {
    const top = t.topFailure()!;
    const fix = fixFor(top);
    return {
      level: end.failOnError ? "fail" : "warn",
      sentence:
        t.failed === t.total
          ? `${t.total === 1 ? "The only instance" : `None of the ${count(t.total)} instances`} of ${code(end.machine)} ${end.words.failedTo(t.failed).replace(/^could not/, t.total === 1 ? "could not" : "could")}`
          : `${count(t.failed)} of ${of} ${end.words.failedTo(t.failed)}; ${count(t.succeeded + t.planned)} ${end.dryRun ? "planned" : "succeeded"}${skipped}`,
      covers: true,
      fix:
        `${top.count === t.failed ? "All" : `${count(top.count)} of them`} failed with ${top.reason}${fix ? `: ${fix}` : ""}. ` +
        "Retry them with `instances-file` set to this step's `failed-instances-file` output.",
    };
  }
  if (end.dryRun) {
    return { level: "ok", sentence: `Dry run: ${plural(t.planned, "instance")} of ${code(end.machine)} ${end.words.wouldBe(t.planned)}${skipped}; nothing was changed` };
  }
  if (t.succeeded === 0) {
    return { level: "ok", sentence: `Nothing to do: ${t.skipped === t.total && t.total > 0 ? "all " : ""}${of} skipped (see below)` };
  }
  return { level: "ok", sentence: `${plural(t.succeeded, "instance")} of ${code(end.machine)} ${end.words.done(t.succeeded)}${end.detail ? ` ${end.detail}` : ""}${skipped}` };
}

/** What to do about one cause of an instance's failure. */
export function instanceFix(scope: string): FixFor {
  return ({ reason, status, code: apiCode }) => {
    if (reason.startsWith("invalid name")) return "fix or remove the name in the list";
    if (reason.includes("no such instance in the machine's listing")) return "check the name: the machine has no such instance";
    if (reason.startsWith("not sent")) return "fix the refusal named in the verdict, then run again";
    if (reason.startsWith("not done")) return "run again to finish";
    if (status !== undefined) return hintFor(status, apiCode, scope);
    return undefined;
  };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
