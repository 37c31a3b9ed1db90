import { code } from "./markdown.ts";

/**
 * The first line of every summary: ✅, ⚠️ or ❌ and one sentence in the user's terms, then (for
 * a warning or a failure) what to do about it. A person reads this line and knows how the step
 * went without reading further.
 */
export type VerdictLevel = "ok" | "warn" | "fail";

export interface Verdict {
  level: VerdictLevel;
  /** One sentence, Markdown allowed (inline only). */
  sentence: string;
  /** What to change or do next, when there is something to do. */
  fix?: string;
  /** The sentence says all the step's failure message would: the summary does not repeat it. */
  covers?: boolean;
}

const ICON: Record<VerdictLevel, string> = { ok: "✅", warn: "⚠️", fail: "❌" };

/** The verdict as a heading, so it is the first thing read; the fix follows as its own line. */
export function verdictMarkdown(v: Verdict): string {
  const sentence = v.sentence.replace(/\r?\n|\r/g, " ");
  const fix = v.fix ? `\n\n**What to do:** ${v.fix.replace(/\r?\n|\r/g, " ")}` : "";
  return `### ${ICON[v.level]} ${sentence}${fix}`;
}

/** A version as people know it: its label in bold, the id beside it ("**v1.1.0** (`ver_…`)"). */
export function versionText(id: string, label?: string): string {
  if (label === undefined || label === "" || label === id) return code(id);
  return `**${escapeInline(label)}** (${code(id)})`;
}

/** A count with thousands separators, as people write it (10,000). */
export function count(n: number): string {
  // Not toLocaleString: its first call loads the locale data (about 20 ms at the end of a run).
  if (!Number.isSafeInteger(n)) return String(n);
  const digits = String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, ",");
  return n < 0 ? `-${digits}` : digits;
}

/** "1 instance", "2 instances". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** Escapes text for inline Markdown (no HTML, no emphasis, no links from names or server text). */
export function escapeInline(text: string): string {
  return text.replace(/[\\`*_[\]<>|#]/g, (c) => (c === "<" ? "&lt;" : c === ">" ? "&gt;" : `\\${c}`)).replace(/\r?\n|\r/g, " ");
}
