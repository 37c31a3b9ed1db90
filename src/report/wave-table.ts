import { code, escapeCell, table } from "./markdown.ts";
import { mermaidBars } from "./sections.ts";

/** One wave of a rollout as the summary shows it. */
export interface WaveRow {
  wave: number;
  /** The cumulative share, as the input reads (`10%`). */
  share: string;
  /** Instances of the selection in this wave (sent, or that a dry run would send). */
  instances: number;
  updated?: number;
  /** Of the wave's updated instances: on the target by the end of the soak, and how many were found. */
  upgraded?: { upgraded: number; of: number; percent: string };
  errorLogs?: { count: number; complete: boolean };
  verdict: string;
}

/** The rollout's waves: one row each, then notes and a few of the error lines read (escaped, cut short). */
export function waveTable(rows: readonly WaveRow[], opts: { dryRun: boolean; notes: readonly string[]; samples: readonly { instance: string; log: string }[] }): string {
  const body = opts.dryRun
    ? table(["Wave", "Share", "Instances"], rows.map((r) => [r.wave, r.share, r.instances]))
    : table(
        ["Wave", "Share", "Instances sent", "Updated", "Upgraded by the end of the soak", "Error logs", "Verdict"],
        rows.map((r) => [
          r.wave,
          r.share,
          r.instances,
          r.updated ?? "—",
          r.upgraded ? `${r.upgraded.upgraded} of ${r.upgraded.of} (${r.upgraded.percent})` : "—",
          r.errorLogs ? `${r.errorLogs.count}${r.errorLogs.complete ? "" : " (incomplete logs)"}` : "—",
          r.verdict,
        ]),
      );
  const chart = rows.length > 1 ? mermaidBars(opts.dryRun ? "Instances per wave (planned)" : "Instances sent per wave", "instances", rows.map((r) => [`${r.wave} (${r.share})`, r.instances] as const)) : "";
  const parts = [`#### Waves\n\n${body}`, ...(chart ? [chart] : [])];
  if (opts.notes.length > 0) parts.push(opts.notes.map((n) => `- ${escapeCell(n)}`).join("\n"));
  if (opts.samples.length > 0) {
    parts.push(`Error logs read (first ${opts.samples.length}):\n\n${table(["Instance", "Log"], opts.samples.map((s) => [code(s.instance.slice(0, 128)), code(oneLine(s.log))]))}`);
  }
  return parts.join("\n\n");
}

function oneLine(text: string): string {
  // Control characters (newlines, escapes) become spaces: one line, nothing a terminal or the runner acts on.
  let flat = "";
  for (const ch of text) flat += ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? " " : ch;
  flat = flat.replace(/ +/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
