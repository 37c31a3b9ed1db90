import type { HttpClient, HttpMethod, HttpResponse } from "../http/client.ts";
import type { Retryability } from "../http/retry.ts";
import { ApiError, parseErrorBody } from "./errors.ts";
import { uploadUrlRefusal } from "../runtime/url-policy.ts";
import type { TokenSource } from "./token.ts";
import { buildUploadForm } from "./upload-form.ts";

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

export interface ProvisionalUpload {
  /** Signed id, only for the finalize URL. */
  signedId: string;
  codeUploadUrl: string;
  codeUploadFields: Record<string, string>;
}

export interface StateBackedApiOptions {
  http: HttpClient;
  baseUrl: URL;
  tokens: TokenSource;
  orgId?: string;
  userAgent?: string;
}

interface CallSpec {
  /** What the step is doing, for error messages ("creating the version"). */
  step: string;
  /** The key scope the endpoint needs, for the missing-scope hint. */
  scope: string;
  method: HttpMethod;
  path: string;
  query?: Record<string, string | undefined>;
  /** A bare query flag such as `?gzip`, as the official client sends it. */
  flag?: string;
  body?: unknown;
  retry: Retryability;
  signal?: AbortSignal;
}

/** The State Backed endpoints this action uses. Each call knows its scope and whether it may be repeated. */
export class StateBackedApi {
  private readonly opts: StateBackedApiOptions;
  /** The base URL without its trailing slashes, computed once. */
  private readonly base: string;
  constructor(opts: StateBackedApiOptions) {
    this.opts = opts;
    this.base = opts.baseUrl.href.replace(/\/+$/, "");
  }

  url(path: string, query?: Record<string, string | undefined>, flag?: string): URL {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    if (flag) url.search = url.search ? `${url.search}&${flag}` : `?${flag}`;
    return url;
  }

  headers(withBody: boolean): Record<string, string> {
    return {
      authorization: `Bearer ${this.opts.tokens.token()}`,
      accept: "application/json",
      "user-agent": this.opts.userAgent ?? "statebacked-release-action",
      ...(withBody ? { "content-type": "application/json" } : {}),
      ...(this.opts.orgId ? { "x-statebacked-org-id": this.opts.orgId } : {}),
    };
  }

  /** One request as the spec describes it; one attempt, whatever the status (the bulk engine retries). */
  send(spec: CallSpec): Promise<HttpResponse> {
    return this.opts.http.send(this.toRequest(spec));
  }

  private toRequest(spec: CallSpec) {
    const hasBody = spec.body !== undefined;
    return {
      method: spec.method,
      url: this.url(spec.path, spec.query, spec.flag),
      // Made for each attempt, so a retry long after the first try still carries a valid token.
      headers: () => this.headers(hasBody),
      ...(hasBody ? { body: JSON.stringify(spec.body) } : {}),
      retry: spec.retry,
      ...(spec.signal ? { signal: spec.signal } : {}),
    };
  }

  /** A call with the HTTP layer's retries; a non-2xx answer becomes an ApiError. */
  async call<T>(spec: CallSpec): Promise<T> {
    const res = await this.opts.http.request(this.toRequest(spec));
    if (res.status < 200 || res.status >= 300) throw this.errorOf(spec, res);
    let value: unknown;
    try {
      value = res.json();
    } catch {
      throw new ApiError(spec.step, res.status, { error: "the answer was not JSON" }, spec.scope);
    }
    if (!value || typeof value !== "object") throw new ApiError(spec.step, res.status, { error: "the answer was not a JSON object" }, spec.scope);
    return value as T;
  }

  errorOf(spec: Pick<CallSpec, "step" | "scope" | "method">, res: HttpResponse): ApiError {
    return new ApiError(spec.step, res.status, parseErrorBody(res.text()), spec.scope, spec.method !== "GET" && res.afterUncertainAttempt);
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
    const step = `reading machine '${machine}'`;
    const res = await this.call<{ machine?: { currentVersion?: VersionInfo } }>({
      step,
      scope: "machines.read",
      method: "GET",
      path: `/machines/${enc(machine)}`,
      retry: "idempotent",
    });
    if (!res.machine || typeof res.machine !== "object") throw malformed(step, "machine");
    return res.machine.currentVersion;
  }

  /** Every version of the machine, page by page (no page-size parameter exists). */
  async *versions(machine: string): AsyncGenerator<VersionInfo[]> {
    yield* this.pages(`listing versions of '${machine}'`, "machine-versions.read", `/machines/${enc(machine)}/v`, (r: { versions: VersionInfo[]; cursor?: string }) => r.versions);
  }

  /** Every instance of the machine, page by page. */
  async *instances(machine: string): AsyncGenerator<InstanceInfo[]> {
    yield* this.pages(`listing instances of '${machine}'`, "instances.read", `/machines/${enc(machine)}/i`, (r: { instances: InstanceInfo[]; cursor?: string }) => r.instances);
  }

  private async *pages<R extends { cursor?: string | undefined }, T>(step: string, scope: string, path: string, items: (r: R) => T[]): AsyncGenerator<T[]> {
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page: R = await this.call<R>({ step, scope, method: "GET", path, query: { cursor }, retry: "idempotent" });
      const list = items(page);
      if (!Array.isArray(list)) throw malformed(step, "the list");
      yield list;
      cursor = page.cursor || undefined;
      if (cursor !== undefined) {
        if (seen.has(cursor)) throw new Error(`${step} failed: the API returned the same page cursor twice`);
        seen.add(cursor);
      }
    } while (cursor !== undefined);
  }

  /**
   * Provisional create. Not idempotent (each call reserves a new provisional id), but safe to
   * repeat: an id whose upload and finalize never happen is simply abandoned by the API, and
   * nothing becomes a version until finalize. So it is retried like an idempotent call.
   */
  async provisionallyCreateVersion(machine: string): Promise<ProvisionalUpload> {
    const step = "creating the version (provisional)";
    const r = await this.call<{ machineVersionId: string; codeUploadUrl: string; codeUploadFields: Record<string, string> }>({
      step,
      scope: "machine-versions.write",
      method: "POST",
      path: `/machines/${enc(machine)}/v`,
      flag: "gzip",
      body: {},
      retry: "idempotent",
    });
    return provisionalOf(step, r.machineVersionId, r);
  }

  async provisionallyCreateMigration(machine: string, fromId: string, toId: string): Promise<ProvisionalUpload> {
    const step = "creating the migration (provisional)";
    const r = await this.call<{ machineVersionMigrationId: string; codeUploadUrl: string; codeUploadFields: Record<string, string> }>({
      step,
      scope: "machine-versions.write",
      method: "POST",
      path: `/machines/${enc(machine)}/migrations`,
      flag: "gzip",
      body: { fromMachineVersionId: fromId, toMachineVersionId: toId },
      // Safe to repeat, as for versions: see provisionallyCreateVersion.
      retry: "idempotent",
    });
    return provisionalOf(step, r.machineVersionMigrationId, r);
  }

  /**
   * Uploads gzipped code to the presigned form: no authorization header, whole body. A presigned
   * POST of the same form can be repeated safely, so it is retried like an idempotent call.
   */
  async uploadCode(step: string, upload: ProvisionalUpload, fileName: string, gzippedCode: Buffer): Promise<void> {
    const refusal = uploadUrlRefusal(this.opts.baseUrl, upload.codeUploadUrl);
    if (refusal !== undefined) {
      throw new UploadError(`${step} refused before sending: the API gave the upload address '${originOf(upload.codeUploadUrl)}' and ${refusal}`, 0, "");
    }
    const form = buildUploadForm(upload.codeUploadFields, { name: fileName, content: gzippedCode, gzipped: true });
    const res = await this.opts.http.request({
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
    const r = await this.call<{ machineVersionId?: unknown }>({
      step: "finalizing the version",
      scope: "machine-versions.write",
      method: "PUT",
      path: `/machines/${enc(machine)}/v/${enc(signedId)}`,
      body,
      retry: "idempotent",
    });
    if (typeof r.machineVersionId !== "string") throw malformed("finalizing the version", "machineVersionId");
    return r.machineVersionId;
  }

  async finalizeMigration(machine: string, signedId: string): Promise<string> {
    const r = await this.call<{ machineVersionMigrationId?: string; machineVersionId?: string }>({
      step: "finalizing the migration",
      scope: "machine-versions.write",
      method: "PUT",
      path: `/machines/${enc(machine)}/migrations/${enc(signedId)}`,
      retry: "idempotent",
    });
    // The spec names the key both ways; read the documented one first.
    const id = r.machineVersionMigrationId ?? r.machineVersionId;
    if (typeof id !== "string" || id === "") throw malformed("finalizing the migration", "machineVersionMigrationId");
    return id;
  }
}

export class UploadError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(message: string, status: number, body: string) {
    super(message);
    this.name = "UploadError";
    this.status = status;
    this.body = body;
  }
}

function malformed(step: string, what: string): ApiError {
  return new ApiError(step, 200, { error: `the answer has no valid ${what}` }, undefined);
}

function provisionalOf(step: string, signedId: unknown, r: { codeUploadUrl?: unknown; codeUploadFields?: unknown }): ProvisionalUpload {
  if (typeof signedId !== "string" || signedId === "") throw malformed(step, "signed id");
  if (typeof r.codeUploadUrl !== "string" || !/^https?:\/\//.test(r.codeUploadUrl)) throw malformed(step, "codeUploadUrl");
  const fields = r.codeUploadFields;
  if (!fields || typeof fields !== "object" || Object.values(fields).some((v) => typeof v !== "string")) throw malformed(step, "codeUploadFields");
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

function enc(segment: string): string {
  return encodeURIComponent(segment);
}
