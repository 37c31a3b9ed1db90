/**
 * GitHub refuses a job summary over 1 MiB for a step (and then shows nothing). Every summary
 * passes through capSummary: under the limit it is unchanged; over it, it is cut at a block
 * boundary, open <details> and code fences are closed, and a line says where the rest is.
 */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024;

const NOTE = "\n\n> [!NOTE]\n> The summary was cut here to stay under GitHub's 1 MiB limit; the report file has every item.\n";

export function capSummary(markdown: string, limit = SUMMARY_LIMIT_BYTES): string {
  if (Buffer.byteLength(markdown, "utf8") <= limit) return markdown;
  // Room for the note and for closing what the cut leaves open.
  const budget = limit - Buffer.byteLength(NOTE, "utf8") - 4096;
  let cut = Buffer.from(markdown, "utf8").subarray(0, Math.max(0, budget)).toString("utf8");
  cut = cut.replace(/\uFFFD$/, "");
  const boundary = cut.lastIndexOf("\n\n");
  if (boundary > 0) cut = cut.slice(0, boundary);
  let closing = "";
  if (((cut.match(/^```/gm) ?? []).length & 1) === 1) closing += "\n```";
  const opened = (cut.match(/<details[\s>]/g) ?? []).length - (cut.match(/<\/details>/g) ?? []).length;
  for (let i = 0; i < opened; i++) closing += "\n\n</details>";
  return `${cut}${closing}${NOTE}`;
}
