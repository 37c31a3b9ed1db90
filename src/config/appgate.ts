/**
 * Inputs of the Appgate SDP operations (complete-, prepare- and cancel-appliance-upgrade), read
 * and checked before any request is sent. Every error names the input at fault.
 */
import { createHash, X509Certificate } from "node:crypto";
import type { AppgateAuth } from "../appgate/api/session.ts";
import { parseNameList } from "../bulk/selection.ts";
import { InputError, type Inputs, parseServiceUrl, refuseControlCharacters, shown } from "./inputs.ts";

/** How to reach and sign in to the Controller: the same for every Appgate operation. */
export interface AppgateConnection {
  dryRun: boolean;
  /** Every secret value to mask (password or token). */
  secrets: string[];
  /** Extra PEM certificate authorities to trust for the Controller (TLS checks stay on). */
  caCertificate?: string;
  /** The primary Controller's admin address as given, e.g. https://ctrl.example.com:8443. */
  controllerUrl: URL;
  /** Base of the admin API: controllerUrl + /admin. */
  apiBaseUrl: URL;
  auth: AppgateAuth;
  /** Peer API version for the Accept header; undefined = read from GET /version. */
  apiVersion?: number;
  /** Names or ids to act on; undefined = the operation's default set. */
  appliances?: string[];
}

/** complete-appliance-upgrade. */
export interface AppgateConfig extends AppgateConnection {
  operation: "complete-appliance-upgrade";
  /** Gateways (log forwarders, HA connectors sharing a virtual IP) of one site down at once. */
  maxUnavailable: number;
  /** Per appliance, from its turn to its verified end. */
  applianceTimeoutMs: number;
  /** Back up the primary Controller before the first change (Backup API). */
  backup: boolean;
  /** Where the backup goes; undefined = a file in the temp folder named after the Controller and the time. */
  backupPath?: string;
}

/** The image prepare-appliance-upgrade prepares: a URL the appliances download, or a local file uploaded to the Controller first. */
export type UpgradeImage =
  | { kind: "url"; url: string; fileName: string }
  /** A local file, read only inside `workspace` (GITHUB_WORKSPACE). */
  | { kind: "file"; path: string; fileName: string; workspace: string };

export interface PrepareConfig extends AppgateConnection {
  operation: "prepare-appliance-upgrade";
  image: UpgradeImage;
  /** Appliances preparing at once. */
  prepareConcurrency: number;
  applianceTimeoutMs: number;
}

export interface CancelConfig extends AppgateConnection {
  operation: "cancel-appliance-upgrade";
  /** Also delete the upgrade image files the Controller holds (Files API). */
  deleteUpgradeFiles: boolean;
}

export type AppgateOperationConfig = AppgateConfig | PrepareConfig | CancelConfig;
export type AppgateOperation = AppgateOperationConfig["operation"];

const CONNECTION_INPUTS = ["controller-url", "username", "password", "provider-name", "device-id", "api-version", "ca-certificate", "appliances"] as const;

/** Input names each Appgate operation reads (besides operation, dry-run and token), for the forbid lists. */
export const APPGATE_OPERATION_INPUTS: Record<AppgateOperation, readonly string[]> = {
  "complete-appliance-upgrade": [...CONNECTION_INPUTS, "max-unavailable", "appliance-timeout-minutes", "backup", "backup-path"],
  "prepare-appliance-upgrade": [...CONNECTION_INPUTS, "image-url", "prepare-concurrency", "appliance-timeout-minutes"],
  "cancel-appliance-upgrade": [...CONNECTION_INPUTS, "delete-upgrade-files"],
};
/** complete-appliance-upgrade's inputs. */
export const APPGATE_INPUTS = APPGATE_OPERATION_INPUTS["complete-appliance-upgrade"];

export function isAppgateOperation(operation: string): operation is AppgateOperation {
  return operation in APPGATE_OPERATION_INPUTS;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseAppgateConfig(
  inputs: Inputs,
  common: { dryRun: boolean; repository: string; operation?: AppgateOperation; workspace?: string },
): AppgateOperationConfig {
  const operation = common.operation ?? "complete-appliance-upgrade";
  const base = parseConnection(inputs, common.dryRun, common.repository, operation);
  switch (operation) {
    case "complete-appliance-upgrade": {
      const config: AppgateConfig = {
        ...base,
        operation,
        maxUnavailable: inputs.int("max-unavailable", 1, 1, 1000),
        applianceTimeoutMs: inputs.int("appliance-timeout-minutes", 30, 1, 24 * 60) * 60_000,
        backup: inputs.bool("backup", true),
      };
      const backupPath = inputs.optional("backup-path");
      if (backupPath !== undefined) {
        if (!config.backup) throw new InputError("backup-path", "is set but 'backup' is false");
        config.backupPath = backupPath;
      }
      return config;
    }
    case "prepare-appliance-upgrade":
      return {
        ...base,
        operation,
        image: parseImage(
          inputs.required("image-url", "for prepare-appliance-upgrade: an https:// URL of the image, or the path of a local image file"),
          common.workspace ?? process.cwd(),
        ),
        prepareConcurrency: inputs.int("prepare-concurrency", 5, 1, 100),
        applianceTimeoutMs: inputs.int("appliance-timeout-minutes", 30, 1, 24 * 60) * 60_000,
      };
    case "cancel-appliance-upgrade":
      return { ...base, operation, deleteUpgradeFiles: inputs.bool("delete-upgrade-files", false) };
  }
}

function parseConnection(inputs: Inputs, dryRun: boolean, repository: string, operation: AppgateOperation): AppgateConnection {
  const controllerUrl = parseControllerUrl(inputs.required("controller-url", `for ${operation}`));
  const apiBaseUrl = new URL(controllerUrl.href.replace(/\/+$/, "") + "/admin");

  const token = inputs.optional("token");
  const username = inputs.optional("username");
  const password = inputs.raw("password");
  let auth: AppgateAuth;
  if (token !== undefined) {
    if (username !== undefined) throw new InputError("username", "set either 'token' or 'username' and 'password', not both");
    if (password !== undefined) throw new InputError("password", "set either 'token' or 'username' and 'password', not both");
    inputs.forbid(["provider-name", "device-id"], "applies only to a username/password login, not with 'token'");
    auth = { kind: "token", token };
  } else {
    if (username === undefined) {
      if (password !== undefined) throw new InputError("username", "is required with 'password'");
      throw new InputError("username", "is required: set 'username' and 'password' (an admin API user), or 'token', so the action can sign in to the Controller");
    }
    if (password === undefined) throw new InputError("password", "is required with 'username'");
    const deviceId = inputs.optional("device-id") ?? deriveDeviceId(repository, controllerUrl);
    if (!UUID_RE.test(deviceId)) throw new InputError("device-id", `must be a UUID, got '${shown(deviceId)}'`);
    auth = {
      kind: "password",
      username,
      password,
      providerName: inputs.optional("provider-name") ?? "local",
      deviceId: deviceId.toLowerCase(),
    };
  }

  const apiVersion = parseApiVersion(inputs.optional("api-version"));
  const caCertificate = inputs.raw("ca-certificate");
  if (caCertificate !== undefined) checkPem(caCertificate);

  const list = inputs.raw("appliances");
  const appliances = list === undefined ? undefined : parseApplianceList(list);

  const config: AppgateConnection = {
    dryRun,
    secrets: auth.kind === "token" ? [auth.token] : [auth.password],
    controllerUrl,
    apiBaseUrl,
    auth,
  };
  if (caCertificate !== undefined) config.caCertificate = caCertificate;
  if (apiVersion !== undefined) config.apiVersion = apiVersion;
  if (appliances !== undefined) config.appliances = appliances;
  return config;
}

/** An https:// URL, or a local path; either way the file name must carry the version (appgate-6.5.0-32000-release.img.zip). */
function parseImage(value: string, workspace: string): UpgradeImage {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  let fileName: string;
  let image: UpgradeImage;
  if (isUrl) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InputError("image-url", `is not a valid URL: '${shown(value)}'`);
    }
    if (url.protocol !== "https:") throw new InputError("image-url", `must be an https:// URL (or a local file path), got '${shown(url.protocol)}'`);
    if (url.username || url.password) throw new InputError("image-url", "must not carry a user name or password");
    fileName = decodeURIComponent(url.pathname.split("/").pop() ?? "");
    image = { kind: "url", url: url.href, fileName };
  } else {
    fileName = value.split(/[\\/]/).pop() ?? "";
    image = { kind: "file", path: value, fileName, workspace };
  }
  if (!/\d+\.\d+\.\d+/.test(fileName) || !/\.img\.zip$/i.test(fileName)) {
    throw new InputError("image-url", `its file name must carry the version, e.g. appgate-6.5.0-32000-release.img.zip; got '${shown(fileName || value)}'`);
  }
  return image;
}

/** https (or loopback http) with no path other than an optional /admin. */
function parseControllerUrl(value: string): URL {
  const url = parseServiceUrl("controller-url", value);
  const path = url.pathname.replace(/\/+$/, "");
  if (path !== "" && path !== "/admin") {
    throw new InputError(
      "controller-url",
      `must be the Controller's admin address without a path (e.g. https://ctrl.example.com:8443), got path '${shown(url.pathname)}'`,
    );
  }
  return new URL(url.origin);
}

function parseApiVersion(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^v?(\d{1,3})$/.exec(value);
  const n = m ? Number(m[1]) : NaN;
  if (!m || n < 7 || n > 999) {
    throw new InputError("api-version", `must be the peer API version as a whole number (e.g. 23), got '${shown(value)}'`);
  }
  return n;
}

function checkPem(pem: string): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) {
    throw new InputError("ca-certificate", "must be one or more PEM certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)");
  }
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new InputError("ca-certificate", `certificate ${i + 1} cannot be read: ${(err as Error).message}`);
    }
  });
}

/** Names or ids separated by commas or new lines; blanks and duplicates dropped. */
export function parseApplianceList(value: string): string[] {
  const items = parseNameList(value);
  for (const item of items) refuseControlCharacters("appliances", item, "names must not contain control characters");
  if (items.length === 0) throw new InputError("appliances", "lists no appliance");
  return [...new Set(items)];
}

/**
 * A UUID (version 5 layout) derived from the repository and the Controller's address, so that
 * every login from this workflow presents the same device id, as the Controller expects.
 */
export function deriveDeviceId(repository: string, controllerUrl: URL): string {
  const namespace = Buffer.from("6ba7b8119dad11d180b400c04fd430c8", "hex"); // RFC 4122 URL namespace
  const hash = createHash("sha1")
    .update(namespace)
    .update(`statebacked-release-action:${repository}:${controllerUrl.origin}`)
    .digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
