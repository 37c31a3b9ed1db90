import { parseNameFile, parseNameList, parseShard } from "../bulk/selection.ts";
import { quoteUntrusted } from "../runtime/escape.ts";
import { fileProblem } from "../runtime/file-problem.ts";
import { readWorkspaceFile, WorkspaceFileError } from "../runtime/workspace-file.ts";
import { type InstanceQuery, parseInstanceQuery } from "./instance-query.ts";
import { InputError, type Inputs } from "./inputs.ts";

/** Which instances a bulk operation acts on, and how it sends: the selection inputs, read and checked. */

export type InstanceSelection =
  | { kind: "list"; input: "instances" | "instances-file"; names: string[] }
  | { kind: "all" }
  | ({ kind: "query" } & InstanceQuery);

export interface BulkSettings {
  selection: InstanceSelection;
  concurrency: number;
  shard?: { index: number; count: number };
  failOnError: boolean;
}

/** The most bytes of 'instances-file' read: about 250,000 names of the longest kind, millions of usual ones. */
export const MAX_INSTANCES_FILE_BYTES = 32 * 1024 * 1024;

export async function parseBulkSettings(inputs: Inputs, operation: string, defaultConcurrency: number, workspace: string): Promise<BulkSettings> {
  const selection = await parseSelection(inputs, operation, workspace);
  const shardValue = inputs.optional("shard");
  let shard: BulkSettings["shard"];
  if (shardValue !== undefined) {
    try {
      shard = parseShard(shardValue);
    } catch (err) {
      throw new InputError("shard", (err as Error).message);
    }
  }
  return {
    selection,
    concurrency: inputs.int("concurrency", defaultConcurrency, 1, 256),
    failOnError: inputs.bool("fail-on-error", true),
    ...(shard !== undefined ? { shard } : {}),
  };
}

/** Exactly one of instances, instances-file, instances-query, all-instances (or `fallback` when none is set). */
export async function parseSelection(inputs: Inputs, operation: string, workspace: string, fallback?: InstanceSelection): Promise<InstanceSelection> {
  const list = inputs.raw("instances");
  const file = inputs.optional("instances-file");
  const query = inputs.optional("instances-query");
  const all = operation === "fleet-status" ? false : inputs.bool("all-instances", false);
  const chosen = [list !== undefined && "'instances'", file !== undefined && "'instances-file'", query !== undefined && "'instances-query'", all && "'all-instances: true'"].filter(Boolean);
  if (chosen.length > 1) throw new InputError("instances", `choose one way to select instances, not ${chosen.join(" and ")}`);
  let selection: InstanceSelection;
  if (all) {
    selection = { kind: "all" };
  } else if (query !== undefined) {
    selection = { kind: "query", ...parseInstanceQuery(query) };
  } else if (file !== undefined) {
    let text: string;
    try {
      text = (await readWorkspaceFile(file, { workspace, maxBytes: MAX_INSTANCES_FILE_BYTES })).toString("utf8");
    } catch (err) {
      throw new InputError("instances-file", err instanceof WorkspaceFileError ? `'${quoteUntrusted(file)}' ${err.message}` : fileProblem(file, err));
    }
    selection = { kind: "list", input: "instances-file", names: parseNameFile(text) };
  } else if (list !== undefined) {
    selection = { kind: "list", input: "instances", names: parseNameList(list) };
  } else if (fallback) {
    selection = fallback;
  } else {
    throw new InputError(
      "instances",
      operation === "delete-instances"
        ? "name the instances to delete ('instances', 'instances-file' or 'instances-query')"
        : "select instances with 'instances', 'instances-file', 'instances-query' or 'all-instances: true'",
    );
  }
  if (selection.kind === "list" && selection.names.length === 0) {
    throw new InputError(selection.input, "names no instance");
  }
  return selection;
}

