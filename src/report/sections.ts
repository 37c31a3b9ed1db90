import { code, escapeCell, table } from "./markdown.ts";
import { count, escapeInline } from "./verdict.ts";

/**
 * Summary sections a person takes in at a glance: failures grouped by cause (each once, with
 * its count, its fix and a sample of names folded away), long tables folded, and charts.
 */

/** Rows a table may have before it is folded into a <details> block. */
export const OPEN_TABLE_ROWS = 10;

export interface CauseGroup {
  /** The cause in a few words, e.g. "HTTP 400 no-migration-path". */
  cause: string;
  count: number;
  /** What to do about it. */
  fix?: string;
  /** A bounded sample of the names it hit. */
  sample: readonly string[];
  /** What the server said, for one of them. */
  example?: string;
}

/** A block folded away under a one-line summary (GitHub renders <details> in job summaries). */
export function collapsed(summary: string, body: string, open = false): string {
  return `<details${open ? " open" : ""}><summary>${escapeInline(summary)}</summary>\n\n${body}\n\n</details>`;
}

/** A table, folded under `title` when it has more than OPEN_TABLE_ROWS rows. */
export function foldedTable(
  title: string,
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  cap = Infinity,
): string {
  const t = table(header, rows, cap);
  return rows.length > OPEN_TABLE_ROWS ? collapsed(`${title} (${count(rows.length)})`, t) : `**${escapeInline(title)}**\n\n${t}`;
}

/**
 * Failures grouped by cause, largest first: one line per cause with its count and fix, and the
 * sample of names in a folded block. At most `maxGroups` causes; the rest are counted.
 */
export function causeGroups(heading: string, groups: readonly CauseGroup[], maxGroups = 15): string {
  if (groups.length === 0) return "";
  const sorted = [...groups].sort((a, b) => b.count - a.count);
  const shown = sorted.slice(0, maxGroups);
  const blocks = shown.map((g) => {
    const line = `* **${count(g.count)} × ${escapeInline(g.cause)}**${g.fix ? `: ${escapeInline(g.fix)}` : ""}`;
    const said = g.example ? `\n\n  Example: ${escapeInline(g.example)}` : "";
    if (g.sample.length === 0) return g.example ? `${line} (${escapeInline(g.example)})` : line;
    const names = g.sample.map((n) => code(n)).join(", ");
    const more = g.count > g.sample.length ? `, and ${count(g.count - g.sample.length)} more (see the report file)` : "";
    const label = g.count > g.sample.length ? `first ${count(g.sample.length)} names` : g.sample.length === 1 ? "name" : "names";
    return `${line}\n  <details><summary>${label}</summary>\n\n  ${names}${more}${said}\n\n  </details>`;
  });
  const hidden = sorted.length - shown.length;
  const rest = hidden > 0 ? `\n\n_…and ${count(hidden)} more causes (${count(sorted.slice(maxGroups).reduce((n, g) => n + g.count, 0))} items; see the report file)._` : "";
  return `#### ${escapeInline(heading)}\n\n${blocks.join("\n")}${rest}`;
}

/** A Mermaid pie chart (GitHub renders ```mermaid blocks in job summaries). */
export function mermaidPie(title: string, slices: readonly (readonly [string, number])[]): string {
  const rows = slices.filter(([, n]) => n > 0).map(([label, n]) => `    "${mermaidText(label)}" : ${n}`);
  if (rows.length === 0) return "";
  return ["```mermaid", `pie showData title ${mermaidText(title)}`, ...rows, "```"].join("\n");
}

/** A Mermaid bar chart (xychart-beta): one bar per label. */
export function mermaidBars(title: string, yLabel: string, bars: readonly (readonly [string, number])[]): string {
  if (bars.length === 0) return "";
  const labels = bars.map(([l]) => `"${mermaidText(l)}"`).join(", ");
  const max = Math.max(1, ...bars.map(([, n]) => n));
  return [
    "```mermaid",
    "xychart-beta",
    `    title "${mermaidText(title)}"`,
    `    x-axis [${labels}]`,
    `    y-axis "${mermaidText(yLabel)}" 0 --> ${max}`,
    `    bar [${bars.map(([, n]) => n).join(", ")}]`,
    "```",
  ].join("\n");
}

/** Text safe inside a quoted Mermaid label: no quotes, backticks, fences or new lines. */
function mermaidText(s: string): string {
  return s.replace(/["`\r\n;#]/g, " ").slice(0, 60).trim();
}

export { escapeCell };
