import type { FleetStatusConfig } from "../config/config.ts";
import { code, escapeCell, facts, table } from "../report/markdown.ts";
import { JsonLinesFile } from "../report/report-file.ts";
import { runFactRows } from "../report/run-facts.ts";
import { type Verdict, count, versionText } from "../report/verdict.ts";
import type { StateBackedApi } from "../statebacked/api.ts";
import { describeVersionRef, resolveVersionRef } from "../statebacked/version-ref.ts";
import type { OperationContext } from "./context.ts";
import { sourceOf } from "./instance-selection.ts";
import { stateBackedApiFor } from "./statebacked-api.ts";
import { VersionCounts } from "./version-counts.ts";

/**
 * fleet-status (read only): where the machine's instances stand. Reads the listing page by page
 * (each instance's version and status), narrowed by names or an index query when given, and
 * writes counts by version as outputs, a JSON Lines report and a summary with a Mermaid pie.
 */

/** Slices of the pie; the rest are shown as one "other" slice. */
const PIE_SLICES = 8;
/** Rows of the version table. */
const TABLE_ROWS = 50;

export async function fleetStatus(config: FleetStatusConfig, ctx: OperationContext): Promise<void> {
  const { report, logger } = ctx;
  const api = stateBackedApiFor(config.statebacked, ctx);
  const to = config.to ? await resolveVersionRef(api, config.machine, "to-version", config.to) : undefined;
  const only = await narrowing(api, config);
  const counts = new VersionCounts();
  let paused = 0;
  let onTarget = 0;
  const file = await JsonLinesFile.create(ctx.env.tempDir, `fleet-status-${config.machine}`);
  report.setOutput("report-file", file.path);
  try {
    for await (const page of api.listInstances(config.machine)) {
      for (const i of page) {
        if (only && !only.has(i.slug)) continue;
        only?.delete(i.slug);
        const v = i.machineVersion;
        counts.add({ id: v.id, createdAt: v.createdAt, clientInfo: v.clientInfo });
        if (i.status === "paused") paused++;
        if (to && v.id === to.id) onTarget++;
        file.write({ instance: i.slug, versionId: v.id, label: v.clientInfo, status: i.status });
      }
    }
  } finally {
    await file.close().catch((err: Error) => logger.warning(`Could not write the report file: ${err.message}`));
  }
  const total = counts.total;
  const versions = counts.entries().map(({ version, count }) => ({ id: version.id, label: version.clientInfo, count }));
  report.setOutput("instance-count", total);
  report.setOutput("paused-count", paused);
  report.setOutput("versions", JSON.stringify(versions));
  if (to) {
    report.setOutput("on-target-count", onTarget);
    report.setOutput("not-on-target-count", total - onTarget);
  }
  const missing = only?.size ?? 0;

  const head = headline(total, versions, to && { id: to.id, label: to.clientInfo ?? counts.labelOf(to.id), count: onTarget });
  logger.info(`fleet-status of ${config.machine}: ${head}.`);
  if (missing > 0) logger.warning(`${missing} of the named instances are not in the machine's listing.`);
  const rows = versions.map((v) => [`${code(v.label)}${to && v.id === to.id ? " (target)" : ""}`, code(v.id), count(v.count), share(v.count, total)]);
  const factRows: [string, string][] = [["Machine", code(config.machine)]];
  if (to) factRows.push(["Target version", `${code(to.id)}${to.clientInfo !== undefined ? ` (${code(to.clientInfo)})` : ""}${config.to!.kind !== "id" ? ` from ${code(describeVersionRef(config.to!))}` : ""}`]);
  if (config.selection.kind === "query") factRows.push(["Instances", `where ${code(`${config.selection.index} ${config.selection.op} ${config.selection.value}`)}`]);
  if (config.selection.kind === "list") factRows.push(["Instances", `${count(config.selection.names.length)} named${missing > 0 ? `, ${count(missing)} of them not found` : ""}`]);
  factRows.push(["Paused", count(paused)], ...runFactRows(ctx.env));
  report.setVerdict(fleetVerdict(config.machine, total, versions, to && { id: to.id, label: to.clientInfo ?? counts.labelOf(to.id), count: onTarget }, missing));
  const sections = [
    `#### Fleet status of ${code(config.machine)}`,
    `**${escapeCell(head)}.** Instances move to a new desired version at their next event.`,
    facts(factRows),
  ];
  if (total > 0) sections.push(table(["Label", "Version", "Instances", "Share"], rows, TABLE_ROWS), pie(versions, total));
  sections.push(`Report file: ${code(file.path)}`);
  report.addSummary(sections.join("\n\n"));
}

/** The names a narrowed status reads (a names list, or what an index query finds); undefined: every instance. */
async function narrowing(api: StateBackedApi, config: FleetStatusConfig): Promise<Set<string> | undefined> {
  const source = sourceOf(api, config.machine, config.selection);
  if (source.kind === "all") return undefined;
  if (source.kind === "list") return new Set(source.names);
  const names = new Set<string>();
  for await (const page of source.pages()) for (const n of page) names.add(n);
  return names;
}

/** "9,000 of 10,000 instances run v1.2.0". */
function headline(total: number, versions: { id: string; label: string; count: number }[], target: { id: string; label: string | undefined; count: number } | undefined): string {
  if (total === 0) return "No instance selected";
  const shown = target ?? versions[0]!;
  const name = shown.label ? `${shown.label} (${shown.id})` : shown.id;
  return `${count(shown.count)} of ${count(total)} instances run ${name}`;
}

/** The verdict line: where the fleet stands, in a person's words, labels beside ids. */
function fleetVerdict(
  machine: string,
  total: number,
  versions: { id: string; label: string; count: number }[],
  target: { id: string; label: string | undefined; count: number } | undefined,
  missing: number,
): Verdict {
  const of = `of ${code(machine)}`;
  const notFound = missing > 0 ? { level: "warn" as const, fix: `${count(missing)} of the named instances are not in the machine's listing: check the names.` } : { level: "ok" as const };
  if (total === 0) return { ...notFound, sentence: `No instance ${of} selected` };
  if (target) {
    const all = target.count === total;
    return { ...notFound, sentence: `${all ? `All ${count(total)}` : `${count(target.count)} of ${count(total)}`} instances ${of} run ${versionText(target.id, target.label)}` };
  }
  const top = versions[0]!;
  return {
    ...notFound,
    sentence:
      versions.length === 1
        ? `All ${count(total)} instances ${of} run ${versionText(top.id, top.label)}`
        : `${count(total)} instances ${of} run ${count(versions.length)} versions; most (${count(top.count)}) run ${versionText(top.id, top.label)}`,
  };
}

/** A Mermaid pie of the versions, labels made safe for Mermaid and Markdown. */
function pie(versions: { id: string; label: string; count: number }[], total: number): string {
  const top = versions.slice(0, PIE_SLICES);
  const rest = total - top.reduce((n, v) => n + v.count, 0);
  const slices = top.map((v) => `    "${mermaidText(v.label || v.id)}" : ${v.count}`);
  if (rest > 0) slices.push(`    "other versions" : ${rest}`);
  return ["```mermaid", "pie showData title Instances by version", ...slices, "```"].join("\n");
}

/** Only characters that cannot end the quoted label or the code block: letters, digits, a few marks. */
function mermaidText(s: string): string {
  const safe = s.replace(/[^\p{L}\p{N} ._:/+()-]/gu, "_").slice(0, 60);
  return safe === "" ? "_" : safe;
}

function share(n: number, total: number): string {
  return total === 0 ? "0%" : `${((n / total) * 100).toFixed(1)}%`;
}
