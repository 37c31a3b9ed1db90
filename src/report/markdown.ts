/** Small Markdown builders for the job summary. Cells are escaped so names cannot break a table. */

export function escapeCell(value: string | number): string {
  return String(value).replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ").replace(/</g, "&lt;");
}

export function code(value: string): string {
  return value === "" ? "" : `\`${value.replace(/`/g, "'")}\``;
}

/** A table; when more than `cap` rows are given, the first `cap` are shown and a line says how many were left out. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[], cap = Infinity): string {
  const shown = rows.slice(0, cap);
  const lines = [
    `| ${header.map(escapeCell).join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...shown.map((r) => `| ${r.map((c) => escapeCell(c)).join(" | ")} |`),
  ];
  if (rows.length > shown.length) lines.push("", `_…and ${rows.length - shown.length} more (see the report file)._`);
  return lines.join("\n");
}

/** Key/value facts as a list ("- **Machine**: `shop`"), which reads better than a header-less table. */
export function facts(pairs: readonly (readonly [string, string | number])[]): string {
  return pairs.map(([k, v]) => `- **${k}**: ${String(v).replace(/\r?\n/g, " ")}`).join("\n");
}


export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}
