import { NAME_PATTERN } from "../bulk/selection.ts";
import { type VersionRef, parseVersionRef } from "../statebacked/version-ref.ts";
import { APPGATE_OPERATION_INPUTS, type AppgateOperationConfig, isAppgateOperation, parseAppgateConfig } from "./appgate.ts";
import { InputError, Inputs, type InputSource, parseServiceUrl, refuseControlCharacters, shown } from "./inputs.ts";
import { type BulkSettings, type InstanceSelection, MAX_INSTANCES_FILE_BYTES, parseBulkSettings, parseSelection } from "./selection-inputs.ts";
import { ROLLOUT_INPUTS, type RolloutSettings, parseRollout } from "./rollout.ts";
import { didYouMean } from "./suggest.ts";

/**
 * The action's whole configuration, read once from the inputs, validated, and frozen before
 * anything is sent. A discriminated union on `operation`; every error names its input.
 */

export const OPERATIONS = [
  "publish-version",
  "publish-migration",
  "set-desired-version",
  "delete-instances",
  "fleet-status",
  "complete-appliance-upgrade",
  "prepare-appliance-upgrade",
  "cancel-appliance-upgrade",
] as const;
export type OperationName = (typeof OPERATIONS)[number];


export interface StateBackedConnection {
  apiUrl: URL;
  auth: { kind: "api-key"; keyId: string; secret: string } | { kind: "token"; token: string };
  orgId?: string;
}

export interface HttpSettings {
  /** Attempts per request, first included. */
  maxAttempts: number;
  requestTimeoutMs: number;
}

interface StateBackedBase {
  dryRun: boolean;
  http: HttpSettings;
  statebacked: StateBackedConnection;
  machine: string;
  /** Values to mask in every log line. */
  secrets: string[];
  /** GITHUB_WORKSPACE (else the working folder): file inputs are read only from inside it. */
  workspace: string;
}

export interface PublishVersionConfig extends StateBackedBase {
  operation: "publish-version";
  versionFile: string;
  /** clientInfo of the new version. */
  versionLabel: string;
  makeCurrent: boolean;
  indexSelectors?: Record<string, string>;
  skipIfExists: boolean;
}

export interface PublishMigrationConfig extends StateBackedBase {
  operation: "publish-migration";
  migrationFile: string;
  from: VersionRef;
  to: VersionRef;
}

export type { BulkSettings, InstanceSelection };
export { MAX_INSTANCES_FILE_BYTES };

export interface SetDesiredVersionConfig extends StateBackedBase, BulkSettings {
  operation: "set-desired-version";
  to: VersionRef;
  from?: VersionRef;
  rollout: RolloutSettings;
}

export interface DeleteInstancesConfig extends StateBackedBase, BulkSettings {
  operation: "delete-instances";
  selection: Extract<InstanceSelection, { kind: "list" | "query" }>;
}

/** fleet-status: where the machine's instances stand (read only). */
export interface FleetStatusConfig extends StateBackedBase {
  operation: "fleet-status";
  /** Every instance unless narrowed by names or a query. */
  selection: InstanceSelection;
  to?: VersionRef;
}

export type Config = PublishVersionConfig | PublishMigrationConfig | SetDesiredVersionConfig | DeleteInstancesConfig | FleetStatusConfig | AppgateOperationConfig;

/** Inputs that only some operations read; setting one for another operation is an error. */
const OPERATION_INPUTS: Record<OperationName, readonly string[]> = {
  "publish-version": ["version-file", "version-label", "make-current", "index-selectors", "skip-if-exists"],
  "publish-migration": ["migration-file", "from-version", "to-version"],
  "set-desired-version": ["to-version", "from-version", "instances", "instances-file", "instances-query", "all-instances", "concurrency", "shard", "fail-on-error", ...ROLLOUT_INPUTS],
  "delete-instances": ["instances", "instances-file", "instances-query", "all-instances", "danger-data-will-be-deleted-forever", "concurrency", "shard", "fail-on-error"],
  "fleet-status": ["to-version", "instances", "instances-file", "instances-query"],
  ...APPGATE_OPERATION_INPUTS,
};

/** Inputs whose values are secrets: redacted from everything the run writes, from the start. */
export const SECRET_INPUTS = ["api-key-secret", "token", "password"] as const;
const STATEBACKED_INPUTS = ["api-key-id", "api-key-secret", "org-id", "machine", "max-attempts", "request-timeout-seconds"] as const;

/** The inputs one operation reads, in the order a page lists them: common, connection, its own. */
export function inputsFor(operation: OperationName): string[] {
  const connection = isAppgateOperation(operation) ? ["token"] : ["api-url", "api-key-id", "api-key-secret", "token", ...STATEBACKED_INPUTS];
  return [...new Set(["operation", "dry-run", ...connection, ...OPERATION_INPUTS[operation]])];
}

/** Every input the action reads (action.yml declares the same set; a test keeps them in step). */
export function knownInputs(): string[] {
  return [...new Set(["operation", "dry-run", "api-url", "token", ...STATEBACKED_INPUTS, ...Object.values(OPERATION_INPUTS).flat()])];
}

export interface RunContextForConfig {
  /** GITHUB_SHA, the default version label. */
  sha: string;
  repository: string;
  /**
   * The folder file inputs must be inside (links followed). main.ts passes GITHUB_WORKSPACE;
   * when omitted: GITHUB_WORKSPACE, else the working folder.
   */
  workspace?: string;
  /** Names of the inputs the step sets (from the INPUT_* variables), to catch a mistyped one. */
  inputNames?: readonly string[];
}

export async function buildConfig(source: InputSource, run: RunContextForConfig): Promise<Config> {
  const inputs = new Inputs(source);
  if (run.inputNames) refuseUnknownInputs(run.inputNames);
  const operation = inputs.oneOf("operation", OPERATIONS);
  const dryRun = inputs.bool("dry-run", false);
  const workspace = run.workspace ?? (process.env.GITHUB_WORKSPACE || process.cwd());

  // Refuse inputs that belong to other operations: a typo or a copy-paste slip must not be ignored.
  const own = new Set(OPERATION_INPUTS[operation]);
  const foreign = new Set(Object.values(OPERATION_INPUTS).flat().filter((n) => !own.has(n)));
  if (isAppgateOperation(operation)) for (const n of STATEBACKED_INPUTS) foreign.add(n);
  if (operation === "delete-instances" && inputs.bool("all-instances", false)) {
    throw new InputError("all-instances", "is refused for delete-instances: name every instance to delete in 'instances' or 'instances-file'");
  }
  inputs.forbid([...foreign], `does not apply to operation '${operation}'`);

  if (isAppgateOperation(operation)) {
    return Object.freeze(parseAppgateConfig(inputs, { dryRun, repository: run.repository, operation, workspace }));
  }

  const base = parseStateBackedBase(inputs, dryRun, workspace);
  switch (operation) {
    case "publish-version":
      return Object.freeze({
        ...base,
        operation,
        versionFile: inputs.required("version-file", "for publish-version: the path of the bundled machine (JS)"),
        versionLabel: inputs.optional("version-label") ?? (run.sha || failNoLabel()),
        makeCurrent: inputs.bool("make-current", false),
        skipIfExists: inputs.bool("skip-if-exists", false),
        ...optionalProp("indexSelectors", parseIndexSelectors(inputs.raw("index-selectors")?.trim())),
      });
    case "publish-migration":
      return Object.freeze({
        ...base,
        operation,
        migrationFile: inputs.required("migration-file", "for publish-migration: the path of the bundled migration (JS)"),
        from: versionRefInput("from-version", inputs.required("from-version", "for publish-migration")),
        to: versionRefInput("to-version", inputs.required("to-version", "for publish-migration")),
      });
    case "set-desired-version": {
      const fromValue = inputs.optional("from-version");
      return Object.freeze({
        ...base,
        ...(await parseBulkSettings(inputs, operation, 32, workspace)),
        operation,
        to: versionRefInput("to-version", inputs.required("to-version", "for set-desired-version")),
        ...optionalProp("from", fromValue === undefined ? undefined : versionRefInput("from-version", fromValue)),
        rollout: parseRollout(inputs),
      });
    }
    case "delete-instances": {
      const danger = inputs.optional("danger-data-will-be-deleted-forever");
      if (danger !== "true") {
        throw new InputError(
          "danger-data-will-be-deleted-forever",
          `must be 'true' to delete instances${danger === undefined ? "" : ` (got '${shown(danger)}')`}. Deleting an instance destroys its current state, ` +
            "its context and its whole transition history, forever; nothing can restore it. Set it to 'true' only in a reviewed workflow.",
        );
      }
      const bulk = await parseBulkSettings(inputs, operation, 4, workspace);
      if (bulk.selection.kind === "all") throw new InputError("instances", "name the instances to delete");
      return Object.freeze({ ...base, ...bulk, selection: bulk.selection, operation });
    }
    case "fleet-status": {
      const toValue = inputs.optional("to-version");
      return Object.freeze({
        ...base,
        operation,
        selection: await parseSelection(inputs, operation, workspace, { kind: "all" }),
        ...optionalProp("to", toValue === undefined ? undefined : versionRefInput("to-version", toValue)),
      });
    }
  }
}

/** An input the action does not read is a typo or a leftover: say so, with the closest real name. */
function refuseUnknownInputs(names: readonly string[]): void {
  const known = knownInputs();
  for (const name of names) {
    if (known.includes(name)) continue;
    throw new InputError(name, `is not an input of this action, so it would be ignored.${didYouMean(name, known)} Rename or remove it in the step's 'with:'.`);
  }
}

function failNoLabel(): never {
  throw new InputError("version-label", "is required outside GitHub Actions (no GITHUB_SHA to default to)");
}

function optionalProp<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

function parseStateBackedBase(inputs: Inputs, dryRun: boolean, workspace: string): StateBackedBase {
  const apiUrl = parseServiceUrl("api-url", inputs.optional("api-url") ?? "https://api.statebacked.dev");
  const keyId = inputs.optional("api-key-id");
  const secret = inputs.optional("api-key-secret");
  const token = inputs.optional("token");
  let auth: StateBackedConnection["auth"];
  if (token !== undefined) {
    if (keyId !== undefined || secret !== undefined) {
      throw new InputError("token", "set either 'token' or 'api-key-id' with 'api-key-secret', not both");
    }
    auth = { kind: "token", token };
  } else if (keyId !== undefined && secret !== undefined) {
    if (!keyId.startsWith("sbk_")) throw new InputError("api-key-id", "must be a State Backed key id (it starts with 'sbk_')");
    if (!secret.startsWith("sbsec_")) throw new InputError("api-key-secret", "must be a State Backed key secret (it starts with 'sbsec_')");
    auth = { kind: "api-key", keyId, secret };
  } else if (keyId !== undefined) {
    throw new InputError("api-key-secret", "is required with 'api-key-id'");
  } else if (secret !== undefined) {
    throw new InputError("api-key-id", "is required with 'api-key-secret'");
  } else {
    throw new InputError("api-key-id", "set 'api-key-id' and 'api-key-secret' (from `smply keys create`), or 'token'");
  }
  const orgId = inputs.optional("org-id");
  if (orgId !== undefined && !/^org_[A-Za-z0-9_-]+$/.test(orgId)) throw new InputError("org-id", `'${shown(orgId)}' is not an org id (org_…)`);
  const machine = inputs.required("machine");
  if (!NAME_PATTERN.test(machine)) {
    throw new InputError("machine", `'${shown(machine)}' is not a machine name: 1 to 128 of letters, digits, '-' and '_'`);
  }
  const secrets = auth.kind === "token" ? [auth.token] : [auth.secret];
  return {
    dryRun,
    http: {
      maxAttempts: inputs.int("max-attempts", 5, 1, 20),
      requestTimeoutMs: inputs.int("request-timeout-seconds", 30, 1, 600) * 1000,
    },
    statebacked: { apiUrl, auth, ...optionalProp("orgId", orgId) },
    machine,
    secrets,
    workspace,
  };
}

function parseIndexSelectors(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InputError("index-selectors", `is not valid JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InputError("index-selectors", 'must be a JSON object of index name to JSON path, e.g. {"email": "$.public.email"}');
  }
  for (const [k, v] of Object.entries(parsed)) {
    if (!NAME_PATTERN.test(k)) throw new InputError("index-selectors", `'${shown(k)}' is not an index name (letters, digits, '-', '_')`);
    if (typeof v !== "string" || v === "") throw new InputError("index-selectors", `the selector of '${shown(k)}' must be a non-empty string (a JSON path)`);
    refuseControlCharacters("index-selectors", v, `the selector of '${shown(k)}' must be one line without control characters`);
  }
  return Object.fromEntries(Object.entries(parsed as Record<string, string>));
}

/** A version reference input; an unreadable one is an error naming the input. */
export function versionRefInput(input: string, value: string): VersionRef {
  const ref = parseVersionRef(value);
  if ("problem" in ref) throw new InputError(input, ref.problem);
  return ref;
}
