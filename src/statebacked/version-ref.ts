import type { StateBackedApi, VersionInfo } from "./api.ts";
import { ExpectedError } from "../runtime/errors.ts";

/** How a workflow names a version: its id, its label (clientInfo), or the machine's current one. */
export type VersionRef = { kind: "id"; id: string } | { kind: "label"; label: string } | { kind: "current" };

export const VERSION_ID_PATTERN = /^ver_[A-Za-z0-9_-]{22}$/;

/**
 * Reads a version reference, or says what is wrong with it (the caller names the input: this
 * layer knows nothing of action inputs).
 */
export function parseVersionRef(value: string): VersionRef | { problem: string } {
  if (value === "current") return { kind: "current" };
  if (value.startsWith("label:")) {
    const label = value.slice("label:".length);
    if (label === "") return { problem: "'label:' needs a label after it, e.g. 'label:v1.2.3'" };
    return { kind: "label", label };
  }
  if (VERSION_ID_PATTERN.test(value)) return { kind: "id", id: value };
  return { problem: versionRefProblem(value) };
}

/** What is wrong with a value that is not a version reference, and what to write instead. */
function versionRefProblem(value: string): string {
  const forms = "a version id (ver_ followed by 22 characters), 'label:<clientInfo>' or 'current'";
  if (value.startsWith("ver_")) return `'${value}' is not a version id (ver_ followed by 22 characters); copy the id whole, or use 'label:<clientInfo>' or 'current'`;
  if (/^[^\s:]+$/.test(value)) return `'${value}' is not a version reference; to name the version labelled '${value}', write 'label:${value}'. The forms are ${forms}`;
  return `'${value}' is not a version reference; use ${forms}`;
}

export function describeVersionRef(ref: VersionRef): string {
  return ref.kind === "id" ? ref.id : ref.kind === "label" ? `label:${ref.label}` : "current";
}

export class VersionResolutionError extends ExpectedError {
  constructor(message: string) {
    super(message);
    this.name = "VersionResolutionError";
  }
}

/** Every version whose clientInfo equals `label`, found by paging the machine's versions. */
export async function findVersionsByLabel(api: StateBackedApi, machine: string, label: string): Promise<{ matches: VersionInfo[]; labels: string[] }> {
  const matches: VersionInfo[] = [];
  const labels: string[] = [];
  for await (const page of api.listVersions(machine)) {
    for (const v of page) {
      if (v.clientInfo === label) matches.push(v);
      labels.push(v.clientInfo);
    }
  }
  return { matches, labels };
}

/** Turns a reference into a version id (reading the API for labels and `current`). */
export async function resolveVersionRef(api: StateBackedApi, machine: string, input: string, ref: VersionRef): Promise<VersionInfo | { id: string; clientInfo?: undefined }> {
  switch (ref.kind) {
    case "id":
      return { id: ref.id };
    case "current": {
      const current = await api.getCurrentVersion(machine);
      if (!current) throw new VersionResolutionError(`Input '${input}': machine '${machine}' has no current version yet`);
      return current;
    }
    case "label": {
      const { matches, labels } = await findVersionsByLabel(api, machine, ref.label);
      if (matches.length === 1) return matches[0]!;
      if (matches.length === 0) {
        const shown = [...new Set(labels)].slice(-20);
        throw new VersionResolutionError(
          `Input '${input}': machine '${machine}' has no version labelled '${ref.label}'` +
            (shown.length ? `; labels found: ${shown.map((l) => `'${l}'`).join(", ")}${labels.length > shown.length ? " …" : ""}` : "; it has no versions"),
        );
      }
      throw new VersionResolutionError(
        `Input '${input}': ${matches.length} versions of '${machine}' are labelled '${ref.label}' (${matches.map((m) => `${m.id} created ${m.createdAt}`).join(", ")}); name one by its id`,
      );
    }
  }
}
