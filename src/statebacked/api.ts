import type { HttpResponse } from "../http/client.ts";
import { uploadUrlRefusal } from "../runtime/url-policy.ts";
import { ENDPOINTS } from "./endpoints.ts";
import { ApiError } from "./errors.ts";
import { instanceDeletionHmac } from "./hmac.ts";
import { type StateBackedApiOptions, StateBackedTransport, malformed } from "./transport.ts";
import { buildUploadForm } from "./upload-form.ts";
import { ExpectedError } from "../runtime/errors.ts";

export type { StateBackedApiOptions };

export interface VersionInfo {
  id: string;
  createdAt: string;
  clientInfo: string;
}

export interface InstanceInfo {
  slug: string;
  createdAt: string;
  status: string;
  machineVersion: VersionInfo;
}

/** One entry of `GET /logs`. */
export interface LogEntry {
  timestamp: string;
  orgId: string;
  machineName: string;
  instanceName: string;
  machineVersionId: string;
  outputType: "stdout" | "stderr";
  /** Raw output, possibly several lines. */
  log: string;
}

/** One answer of `GET /logs`: call again with `from = maxTimestamp` for more. */
export interface LogPage {
  maxTimestamp: string;
  logs: LogEntry[];
}

/** The comparisons an index query takes. */
export const INDEX_OPS = ["eq", "ne", "gt", "gte", "lt", "lte"] as const;
export type IndexOp = (typeof INDEX_OPS)[number];

export interface ProvisionalUpload {
  /** Signed id, only for the finalize URL. */
  signedId: string;
  codeUploadUrl: string;
  codeUploadFields: Record<string, string>;
}

/**
 * The State Backed endpoints this action uses, as typed methods. Each knows its endpoint (path,
 * scope, whether it may be repeated: see endpoints.ts); no caller builds a URL path.
 */
export class StateBackedApi {
  private readonly t: StateBackedTransport;
  constructor(opts: StateBackedApiOptions) {
    this.t = new StateBackedTransport(opts);
  }

  /**
   * Checks that the machine exists before a bulk run, so a misspelt name fails once and clearly
   * instead of as thousands of 404s. Returns false when the key may not read machines (then the
   * run goes on unchecked).
   */
  async checkMachine(machine: string): Promise<boolean> {
    try {
      await this.getCurrentVersion(machine);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 403 && err.code === "missing-scope") return false;
      throw err;
    }
  }

  async getCurrentVersion(machine: string): Promise<VersionInfo | undefined> {
    const ep = ENDPOINTS.getMachine;
    const res = await this.t.call<{ machine?: { currentVersion?: VersionInfo } }, [string]>(ep, { args: [machine] });
    if (!res.machine || typeof res.machine !== "object") throw malformed(ep.step(machine), "machine", res);
    return res.machine.currentVersion;
  }

  /** Every version of the machine, page by page (no page-size parameter exists). */
  listVersions(machine: string): AsyncGenerator<VersionInfo[]> {
    return this.t.pages(ENDPOINTS.listVersions, { args: [machine] }, (r: { versions: VersionInfo[]; cursor?: string }) => r.versions);
  }

  /** Every instance of the machine, page by page. */
  listInstances(machine: string): AsyncGenerator<InstanceInfo[]> {
    return this.t.pages(ENDPOINTS.listInstances, { args: [machine] }, (r: { instances: InstanceInfo[]; cursor?: string }) => r.instances);
  }

  /**
   * One call of `GET /logs`: at most 100 entries from `from` (ISO-8601, inclusive), filtered by
   * machine, instance and version. When `maxTimestamp` equals `from`, every entry available now
   * has been read (logs arrive about a minute after they are written).
   */
  async readLogs(q: { from: string; to?: string; machine?: string; instance?: string; version?: string }, signal?: AbortSignal): Promise<LogPage> {
    const ep = ENDPOINTS.readLogs;
    const r = await this.t.call<{ maxTimestamp?: unknown; logs?: unknown }, [string]>(ep, {
      args: [q.machine ?? ""],
      query: { from: q.from, to: q.to, machine: q.machine, instance: q.instance, version: q.version },
      ...(signal ? { signal } : {}),
    });
    const step = ep.step(q.machine ?? "");
    if (typeof r.maxTimestamp !== "string") throw malformed(step, "maxTimestamp", r);
    if (!Array.isArray(r.logs)) throw malformed(step, "logs", r);
    for (const e of r.logs as Record<string, unknown>[]) {
      const fields = ["timestamp", "machineName", "instanceName", "machineVersionId", "log"];
      if (!e || typeof e !== "object" || fields.some((f) => typeof e[f] !== "string") || (e.outputType !== "stdout" && e.outputType !== "stderr")) {
        throw malformed(step, "log entry", r);
      }
    }
    return { maxTimestamp: r.maxTimestamp, logs: r.logs as LogEntry[] };
  }

  /** The machine's index names (GET machine). */
  async getIndexes(machine: string): Promise<string[]> {
    const ep = ENDPOINTS.getMachine;
    const res = await this.t.call<{ machine?: { indexes?: unknown } }, [string]>(ep, { args: [machine] });
    const indexes = res.machine?.indexes;
    if (!Array.isArray(indexes) || indexes.some((i) => typeof i !== "string")) throw malformed(ep.step(machine), "machine.indexes", res);
    return indexes as string[];
  }

  /** The instances whose `index` value compares to `value` by `op`, page by page (slugs and their index values). */
  queryIndex(machine: string, index: string, op: IndexOp, value: string): AsyncGenerator<{ slug: string; indexValue: string }[]> {
    return this.t.pages(ENDPOINTS.queryIndex, { args: [machine, index], query: { op, value } }, (r: { instances: { slug: string; indexValue: string }[]; cursor?: string }) => r.instances);
  }

  async createProvisionalVersion(machine: string): Promise<ProvisionalUpload> {
    const ep = ENDPOINTS.createProvisionalVersion;
    const r = await this.t.call<{ machineVersionId: string; codeUploadUrl: string; codeUploadFields: Record<string, string> }, [string]>(ep, {
      args: [machine],
      body: {},
    });
    return provisionalOf(ep.step(machine), r.machineVersionId, r);
  }

  async createProvisionalMigration(machine: string, fromId: string, toId: string): Promise<ProvisionalUpload> {
    const ep = ENDPOINTS.createProvisionalMigration;
    const r = await this.t.call<{ machineVersionMigrationId: string; codeUploadUrl: string; codeUploadFields: Record<string, string> }, [string]>(ep, {
      args: [machine],
      body: { fromMachineVersionId: fromId, toMachineVersionId: toId },
    });
    return provisionalOf(ep.step(machine), r.machineVersionMigrationId, r);
  }

  /**
   * Uploads gzipped code to the presigned form: no authorization header, whole body. A presigned
   * POST of the same form can be repeated safely, so it is retried like an idempotent call.
   */
  async uploadCode(step: string, upload: ProvisionalUpload, fileName: string, gzippedCode: Buffer): Promise<void> {
    const refusal = uploadUrlRefusal(this.t.opts.baseUrl, upload.codeUploadUrl);
    if (refusal !== undefined) {
      throw new UploadError(`${step} refused before sending: the API gave the upload address '${originOf(upload.codeUploadUrl)}' and ${refusal}`, 0, "");
    }
    const form = buildUploadForm(upload.codeUploadFields, { name: fileName, content: gzippedCode, gzipped: true });
    const res = await this.t.opts.http.request({
      method: "POST",
      url: upload.codeUploadUrl,
      headers: { "content-type": form.contentType },
      body: form.body,
      retry: "idempotent",
    });
    if (res.status < 200 || res.status >= 300) {
      const body = res.text().trim().replace(/\s+/g, " ").slice(0, 500);
      throw new UploadError(`${step} failed: the upload server answered HTTP ${res.status}${body ? `: ${body}` : " with an empty body"}`, res.status, body);
    }
  }

  /**
   * Finalize is keyed by the signed id: repeating it cannot create a second version, so it is
   * retried. Whether the API accepts a repeat after a lost answer is not documented; if it refuses,
   * the error says an earlier attempt may have been carried out.
   */
  async finalizeVersion(machine: string, signedId: string, body: { clientInfo?: string; makeCurrent?: boolean; indexSelectors?: Record<string, string> }): Promise<string> {
    const ep = ENDPOINTS.finalizeVersion;
    const r = await this.t.call<{ machineVersionId?: unknown }, [string, string]>(ep, { args: [machine, signedId], body });
    if (typeof r.machineVersionId !== "string") throw malformed(ep.step(machine, signedId), "machineVersionId", r);
    return r.machineVersionId;
  }

  async finalizeMigration(machine: string, signedId: string): Promise<string> {
    const ep = ENDPOINTS.finalizeMigration;
    const r = await this.t.call<{ machineVersionMigrationId?: string; machineVersionId?: string }, [string, string]>(ep, { args: [machine, signedId] });
    // The spec names the key both ways; read the documented one first.
    const id = r.machineVersionMigrationId ?? r.machineVersionId;
    if (typeof id !== "string" || id === "") throw malformed(ep.step(machine, signedId), "machineVersionMigrationId", r);
    return id;
  }

  /** One attempt of `PUT …/i/{instance}/v` (the bulk engine retries and reads the answer). */
  setDesiredVersion(machine: string, instance: string, targetVersionId: string, signal: AbortSignal): Promise<HttpResponse> {
    return this.t.send(ENDPOINTS.setDesiredVersion, { args: [machine, instance], body: { targetMachineVersionId: targetVersionId }, signal });
  }

  /**
   * One attempt of the guarded `DELETE …/i/{instance}`: the confirmation flag and the HMAC of the
   * instance name keyed by the machine name.
   */
  deleteInstance(machine: string, instance: string, signal: AbortSignal): Promise<HttpResponse> {
    return this.t.send(ENDPOINTS.deleteInstance, {
      args: [machine, instance],
      body: { dangerDataWillBeDeletedForever: true, hmacSha256OfMachineInstanceNameWithMachineNameKey: instanceDeletionHmac(machine, instance) },
      signal,
    });
  }
}

export class UploadError extends ExpectedError {
  readonly status: number;
  readonly body: string;
  constructor(message: string, status: number, body: string) {
    super(message);
    this.name = "UploadError";
    this.status = status;
    this.body = body;
  }
}

function provisionalOf(step: string, signedId: unknown, r: { codeUploadUrl?: unknown; codeUploadFields?: unknown }): ProvisionalUpload {
  if (typeof signedId !== "string" || signedId === "") throw malformed(step, "signed id", r);
  if (typeof r.codeUploadUrl !== "string" || !/^https?:\/\//.test(r.codeUploadUrl)) throw malformed(step, "codeUploadUrl", r);
  const fields = r.codeUploadFields;
  if (!fields || typeof fields !== "object" || Object.values(fields).some((v) => typeof v !== "string")) throw malformed(step, "codeUploadFields", r);
  return { signedId, codeUploadUrl: r.codeUploadUrl, codeUploadFields: fields as Record<string, string> };
}

/** Scheme, host and port only: the rest of an upload address may be a signature. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url.slice(0, 60);
  }
}
