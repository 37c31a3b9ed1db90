import { readFileSync, writeFileSync } from "node:fs";
import { parse } from "yaml";
import { OPERATIONS, type OperationName, inputsFor } from "../src/config/config.ts";
import { ENDPOINTS, type EndpointName } from "../src/statebacked/endpoints.ts";

/**
 * The README's input and output tables and the per-operation pages under docs/operations/ are
 * generated from action.yml (and the State Backed endpoint table for key scopes), so they never
 * drift: `npm run docs` rewrites the marked sections, and a test fails when one is stale.
 */
interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
}

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderTables(actionYml: string): { inputs: string; outputs: string } {
  const a = parse(actionYml) as ActionYml;
  const inputs = [
    "| Input | Required | Default | Description |",
    "| --- | --- | --- | --- |",
    ...Object.entries(a.inputs).map(
      ([name, i]) => `| \`${name}\` | ${i.required ? "yes" : "no"} | ${i.default !== undefined ? `\`${i.default}\`` : ""} | ${cell(i.description)} |`,
    ),
  ].join("\n");
  const outputs = [
    "| Output | Description |",
    "| --- | --- |",
    ...Object.entries(a.outputs).map(([name, o]) => `| \`${name}\` | ${cell(o.description)} |`),
  ].join("\n");
  return { inputs, outputs };
}

export function replaceSection(text: string, marker: string, content: string, file = "README"): string {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file} has no ${start} … ${end} section`);
  return `${text.slice(0, a + start.length)}\n${content}\n${text.slice(b)}`;
}

export function renderReadme(readme: string, actionYml: string): string {
  const t = renderTables(actionYml);
  return replaceSection(replaceSection(readme, "inputs", t.inputs), "outputs", t.outputs);
}

/** The State Backed endpoints each operation may call, and when; Appgate operations have none. */
export const OPERATION_ENDPOINTS: Partial<Record<OperationName, readonly (readonly [EndpointName, string])[]>> = {
  "publish-version": [
    ["getMachine", "always (the current version before the step)"],
    ["listVersions", "with `skip-if-exists`"],
    ["createProvisionalVersion", "always (not on a dry run)"],
    ["finalizeVersion", "always (not on a dry run)"],
  ],
  "publish-migration": [
    ["getMachine", "when a version is given as `current`"],
    ["listVersions", "when a version is given as `label:…`"],
    ["createProvisionalMigration", "always (not on a dry run)"],
    ["finalizeMigration", "always (not on a dry run)"],
  ],
  "set-desired-version": [
    ["getMachine", "to check the machine (skipped without the scope); `to-version: current`"],
    ["listVersions", "when a version is given as `label:…`"],
    ["listInstances", "with `all-instances`, `from-version` or `rollback-on-halt`, and for a rollout's upgraded-share gate"],
    ["queryIndex", "with `instances-query`"],
    ["setDesiredVersion", "always (not on a dry run)"],
    ["readLogs", "for a rollout's error-log gate (`max-error-logs`)"],
  ],
  "delete-instances": [
    ["getMachine", "to check the machine (skipped without the scope)"],
    ["queryIndex", "with `instances-query`"],
    ["deleteInstance", "always (not on a dry run)"],
  ],
  "fleet-status": [
    ["getMachine", "always"],
    ["listVersions", "when a version is given as `label:…`"],
    ["listInstances", "always"],
    ["queryIndex", "with `instances-query`"],
  ],
};

/** Inputs an operation cannot run without ("one of" when there is a choice). */
export const REQUIRED: Partial<Record<OperationName, Record<string, string>>> = {
  "publish-version": { machine: "yes", "version-file": "yes", "api-key-id": "yes, or `token`", "api-key-secret": "with `api-key-id`" },
  "publish-migration": { machine: "yes", "migration-file": "yes", "from-version": "yes", "to-version": "yes", "api-key-id": "yes, or `token`", "api-key-secret": "with `api-key-id`" },
  "set-desired-version": {
    machine: "yes",
    "to-version": "yes",
    "api-key-id": "yes, or `token`",
    "api-key-secret": "with `api-key-id`",
    instances: "one of the four selections",
    "instances-file": "one of the four selections",
    "instances-query": "one of the four selections",
    "all-instances": "one of the four selections",
  },
  "delete-instances": {
    machine: "yes",
    "danger-data-will-be-deleted-forever": "yes (`true`)",
    "api-key-id": "yes, or `token`",
    "api-key-secret": "with `api-key-id`",
    instances: "one of the three selections",
    "instances-file": "one of the three selections",
    "instances-query": "one of the three selections",
  },
  "fleet-status": { machine: "yes", "api-key-id": "yes, or `token`", "api-key-secret": "with `api-key-id`" },
  "complete-appliance-upgrade": { "controller-url": "yes", username: "yes, or `token`", password: "with `username`" },
  "prepare-appliance-upgrade": { "controller-url": "yes", username: "yes, or `token`", password: "with `username`", "image-url": "yes" },
  "cancel-appliance-upgrade": { "controller-url": "yes", username: "yes, or `token`", password: "with `username`" },
};

/** Outputs whose description names no operation but that some operations never set. */
const NOT_SET_BY: Record<string, readonly OperationName[]> = { "report-file": ["publish-version", "publish-migration"] };

/** "Default 5." or "Default: the commit SHA of the run." at the end of a description, taken out. */
export function splitDefault(description: string, declared?: string): { text: string; defaultValue: string } {
  const m = /\s*Default:?\s+(.+?)\.?\s*$/.exec(description);
  if (declared !== undefined) return { text: m ? description.slice(0, m.index).trim() : description, defaultValue: `\`${declared}\`` };
  if (!m) return { text: description, defaultValue: "" };
  const value = m[1]!;
  return { text: description.slice(0, m.index).trim(), defaultValue: /^[\w.:/-]+$/.test(value) ? `\`${value}\`` : value };
}

/** The part of a description that speaks of `operation` ("a, b: text" prefixes dropped). */
export function describeFor(description: string, operation: string): string {
  const group = /^(Appgate operations|State Backed operations):\s*(.*)$/s.exec(description);
  if (group && !/[a-z]+-[a-z]+(?:-[a-z]+)*:\s/.test(group[2]!)) return group[2]!;
  const prefix = /^((?:[a-z]+(?:-[a-z]+)+)(?:,\s*(?:[a-z]+(?:-[a-z]+)+))*(?:,?\s*or\s+[a-z]+(?:-[a-z]+)+)?):\s*/.exec(description);
  if (!prefix) return description;
  const rest = description.slice(prefix[0].length);
  // "publish-migration: x. set-desired-version: y. Shared." → the sentence for this operation, and what all share.
  const parts = rest.split(/\s(?=(?:[a-z]+-[a-z-]+)(?:,\s*[a-z]+-[a-z-]+)*:\s)/);
  if (parts.length === 1) return rest;
  const mine = parts.find((p) => p.startsWith(`${operation}:`) || p.startsWith(`${operation},`));
  const own = mine ? mine.replace(/^[^:]+:\s*/, "") : "";
  const first = prefix[1]!.split(/,\s*|\s+or\s+/).includes(operation) ? parts[0]! : "";
  return [first, own].filter(Boolean).join(" ").trim() || rest;
}

export function renderOperationTables(actionYml: string, operation: OperationName): { inputs: string; outputs: string; scopes: string } {
  const a = parse(actionYml) as ActionYml;
  const inputs = [
    "| Input | Required | Default | Description |",
    "| --- | --- | --- | --- |",
    ...inputsFor(operation).map((name) => {
      const i = a.inputs[name];
      if (!i) throw new Error(`action.yml does not declare input '${name}'`);
      const required = name === "operation" || i.required ? "yes" : (REQUIRED[operation]?.[name] ?? "no");
      const { text, defaultValue } = splitDefault(describeFor(i.description, operation), i.default);
      return `| \`${name}\` | ${required} | ${cell(defaultValue)} | ${cell(text)} |`;
    }),
  ].join("\n");
  const outputs = [
    "| Output | Description |",
    "| --- | --- |",
    ...Object.entries(a.outputs)
      .filter(([name, o]) => appliesTo(o.description, operation) && !NOT_SET_BY[name]?.includes(operation))
      .map(([name, o]) => `| \`${name}\` | ${cell(describeFor(o.description, operation))} |`),
  ].join("\n");
  const endpoints = OPERATION_ENDPOINTS[operation];
  const scopes = endpoints
    ? [
        "| Key scope | Needed for | When |",
        "| --- | --- | --- |",
        ...endpoints.map(([name, when]) => {
          const ep = ENDPOINTS[name] as { method: string; scope: string };
          return `| \`${ep.scope}\` | ${name.replace(/([A-Z])/g, " $1").toLowerCase()} | ${when} |`;
        }),
      ].join("\n")
    : "No State Backed key: this operation signs in to the Appgate SDP Controller (see *Privileges* above).";
  return { inputs, outputs, scopes };
}

/**
 * The operations a description's lead-in ("publish-version:", "set-desired-version, delete-instances:",
 * "fleet-status with to-version:", "Appgate operations:") names; undefined when it names none (all).
 */
export function operationsNamed(description: string): string[] | undefined {
  const colon = description.indexOf(": ");
  if (colon < 0 || colon > 80) return undefined;
  const lead = description.slice(0, colon);
  const named = OPERATIONS.filter((op) => new RegExp(`(^|[\\s,])${op}($|[\\s,])`).test(lead));
  if (/Appgate operations/.test(lead)) named.push(...OPERATIONS.filter((op) => !OPERATION_ENDPOINTS[op]));
  if (/State Backed operations/.test(lead)) named.push(...OPERATIONS.filter((op) => OPERATION_ENDPOINTS[op]));
  return named.length > 0 ? [...new Set(named)] : undefined;
}

function appliesTo(description: string, operation: OperationName): boolean {
  const named = operationsNamed(description);
  return named === undefined || named.includes(operation);
}

export function renderOperationPage(page: string, actionYml: string, operation: OperationName): string {
  const t = renderOperationTables(actionYml, operation);
  const file = `docs/operations/${operation}.md`;
  return replaceSection(replaceSection(replaceSection(page, "inputs", t.inputs, file), "outputs", t.outputs, file), "scopes", t.scopes, file);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const actionYml = readFileSync("action.yml", "utf8");
  writeFileSync("README.md", renderReadme(readFileSync("README.md", "utf8"), actionYml));
  for (const op of OPERATIONS) {
    const path = `docs/operations/${op}.md`;
    writeFileSync(path, renderOperationPage(readFileSync(path, "utf8"), actionYml, op));
  }
}
