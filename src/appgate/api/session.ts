/**
 * A session with the Controller admin API: the API version (GET /version unless given), login
 * with a stable device id, the versioned Accept header, a second login (once per call) when a
 * token expires, and errors that say what was being done. Every request goes through the
 * action's HttpClient. The endpoints themselves are in client.ts.
 */
import type { HttpClient, HttpMethod, HttpResponse } from "../../http/client.ts";
import { type Retryability, TransportError, withStep } from "../../http/retry.ts";
import type { Logger } from "../../runtime/logger.ts";
import { AppgateApiError, AuthError, MisroutedError } from "./errors.ts";
import { errorMessageOf } from "./wire.ts";

/** How to sign in to the Controller: a user (the session signs in, and again when a token expires) or a token. */
export type AppgateAuth =
  | { kind: "password"; username: string; password: string; providerName: string; deviceId: string }
  | { kind: "token"; token: string };

export interface SessionOptions {
  http: HttpClient;
  /** The admin API base, e.g. https://ctrl.example.com:8443/admin. */
  baseUrl: URL;
  auth: AppgateAuth;
  /** Peer API version; when absent, connect() reads it from GET /version. */
  apiVersion?: number;
  logger: Logger;
  signal?: AbortSignal;
  /** Told of every token a login returns, so it can be masked in logs. */
  onToken?: (token: string) => void;
}

/** How one call is sent. */
export interface RequestOptions {
  /** `none` (default): one attempt through HttpClient.send(); otherwise HttpClient.request() with it. */
  retry?: Retryability;
  timeoutMs?: number;
}

export interface CallOptions extends RequestOptions {
  /** JSON body. */
  body?: unknown;
  /** A body sent as is (a multipart upload), instead of `body`. */
  raw?: { contentType: string; body: Buffer };
  /** The Accept type's suffix: `json` (default) or `gpg` (a backup download). */
  accept?: "json" | "gpg";
  /** More headers (e.g. Range). */
  headers?: Record<string, string>;
  /** What the call does, for error messages ("reading the upgrade status of gw-1"). */
  what: string;
}

export class ControllerSession {
  private readonly http: HttpClient;
  private readonly base: string;
  private readonly auth: AppgateAuth;
  private readonly logger: Logger;
  private readonly signal: AbortSignal | undefined;
  private readonly onToken: ((token: string) => void) | undefined;
  private version: number | undefined;
  private readonly fixedVersion: boolean;
  private token: string | undefined;
  private generation = 0;
  private loggingIn: Promise<void> | undefined;
  /** Logins done (the first one included). */
  logins = 0;

  constructor(opts: SessionOptions) {
    this.http = opts.http;
    this.base = opts.baseUrl.href.replace(/\/+$/, "");
    this.auth = opts.auth;
    this.logger = opts.logger;
    this.signal = opts.signal;
    this.onToken = opts.onToken;
    this.version = opts.apiVersion;
    this.fixedVersion = opts.apiVersion !== undefined;
    if (opts.auth.kind === "token") this.token = opts.auth.token;
  }

  get apiVersion(): number {
    if (this.version === undefined) throw new Error("AppgateClient: connect() first");
    return this.version;
  }

  /** Settles the API version (GET /version unless given) and signs in. */
  async connect(): Promise<void> {
    if (this.version === undefined) {
      this.version = await this.readVersion();
      this.logger.info(`Controller peer API version: ${this.version}`);
    }
    if (this.auth.kind === "password") await this.login();
  }

  /**
   * Reads the API version again (after the primary Controller's upgrade it may have changed, as
   * sdpctl knows) and uses it from then on; returns it. A version given as api-version is kept.
   */
  async refreshVersion(): Promise<number> {
    if (this.fixedVersion) return this.apiVersion;
    const before = this.version;
    this.version = await this.readVersion();
    if (before !== this.version) this.logger.info(`Controller peer API version is now ${this.version} (was ${before ?? "unknown"})`);
    return this.version;
  }

  private async readVersion(): Promise<number> {
    const res = await this.http.request({
      method: "GET",
      url: `${this.base}/version`,
      headers: { Accept: "application/json" },
      retry: "idempotent",
      step: "reading the API version (GET /version)",
      ...this.sig(),
    });
    if (res.status === 503) throw new MisroutedError("reading the API version (GET /version)");
    if (res.status !== 200) throw apiError("reading the API version (GET /version)", res);
    const peer = (parseJson(res, "reading the API version") as { peerVersion?: unknown } | undefined)?.peerVersion;
    if (typeof peer !== "number" || !Number.isInteger(peer)) {
      throw new Error("reading the API version (GET /version): the answer has no peerVersion; set api-version");
    }
    return peer;
  }

  /** One call of the admin API: a 401 signs in again (once), a 503 is a misroute, a non-2xx an AppgateApiError; the JSON answer. */
  async call(method: HttpMethod, path: string, opts: CallOptions): Promise<unknown> {
    const res = await this.exchange(method, path, opts);
    if (res.status < 200 || res.status >= 300) throw apiError(opts.what, res);
    return parseJson(res, opts.what);
  }

  /**
   * One call whose answer the caller reads itself (a binary download, a 206): sign-in, 401, 503
   * and 406 are handled as for call(); any other status is returned.
   */
  async exchange(method: HttpMethod, path: string, opts: CallOptions): Promise<HttpResponse> {
    if (this.token === undefined) await this.relogin(this.generation);
    const generation = this.generation;
    let res = await this.once(method, path, opts);
    if (res.status === 401) {
      if (this.auth.kind === "token") {
        throw new AuthError(
          `${opts.what}: the Controller refused the token (HTTP 401); it may have expired. Use username and password, which the action renews`,
        );
      }
      this.logger.info(`${opts.what}: token refused (HTTP 401); signing in again`);
      await this.relogin(generation);
      res = await this.once(method, path, opts);
      if (res.status === 401) throw new AuthError(`${opts.what}: HTTP 401 even after signing in again`);
    }
    if (res.status === 503) throw new MisroutedError(opts.what);
    if (res.status === 406) {
      throw new AppgateApiError(opts.what, 406, errorMessageOf(safeJson(res)).id, `API version ${this.version} not accepted; set api-version`);
    }
    return res;
  }

  private once(method: HttpMethod, path: string, opts: CallOptions): Promise<HttpResponse> {
    const headers: Record<string, string> = {
      Accept: `application/vnd.appgate.peer-v${this.apiVersion}+${opts.accept ?? "json"}`,
      Authorization: `Bearer ${this.token ?? ""}`,
      ...opts.headers,
    };
    let body: string | Buffer | undefined;
    if (opts.raw !== undefined) {
      headers["Content-Type"] = opts.raw.contentType;
      body = opts.raw.body;
    } else if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    const req = {
      method,
      url: `${this.base}${path}`,
      headers,
      retry: opts.retry ?? "none",
      // A network failure says which call it was.
      step: opts.what,
      ...(body !== undefined ? { body } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...this.sig(),
    };
    if (req.retry !== "none") return this.http.request(req);
    // One attempt (a poll, a change): its network failure names the call as request() does.
    return this.http.send(req).catch((err: unknown) => {
      throw err instanceof TransportError ? withStep(err, opts.what) : err;
    });
  }

  /** Signs in again unless another call already did since `generation`; concurrent callers share one login. */
  private async relogin(generation: number): Promise<void> {
    if (this.generation !== generation && this.token !== undefined) return;
    if (this.auth.kind === "token") return;
    if (!this.loggingIn) {
      this.loggingIn = this.login().finally(() => {
        this.loggingIn = undefined;
      });
    }
    await this.loggingIn;
  }

  private async login(): Promise<void> {
    if (this.auth.kind !== "password") return;
    const { username, password, providerName, deviceId } = this.auth;
    const what = `signing in as '${username}' (provider '${providerName}')`;
    const res = await this.http.request({
      method: "POST",
      url: `${this.base}/login`,
      headers: { Accept: `application/vnd.appgate.peer-v${this.apiVersion}+json`, "Content-Type": "application/json" },
      body: JSON.stringify({ providerName, username, password, deviceId }),
      retry: "unsent-only",
      step: what,
      ...this.sig(),
    });
    if (res.status === 406) {
      const b = safeJson(res) as { minSupportedVersion?: unknown; maxSupportedVersion?: unknown } | undefined;
      const range =
        typeof b?.minSupportedVersion === "number" && typeof b.maxSupportedVersion === "number"
          ? ` (it supports ${b.minSupportedVersion} to ${b.maxSupportedVersion})`
          : "";
      throw new AuthError(`${what}: the Controller does not accept API version ${this.apiVersion}${range}; set api-version`);
    }
    if (res.status === 503) throw new MisroutedError(what);
    if (res.status === 401 || res.status === 403 || res.status === 422 || res.status === 400) {
      const e = errorMessageOf(safeJson(res));
      throw new AuthError(
        `${what}: refused (HTTP ${res.status}${e.message ? `: ${e.message}` : ""}). Check the credentials and that the API user is exempt from admin MFA`,
      );
    }
    if (res.status !== 200) throw apiError(what, res);
    const token = (parseJson(res, what) as { token?: unknown } | undefined)?.token;
    if (typeof token !== "string" || token === "") {
      throw new AuthError(`${what}: the answer carries no token (is the API user exempt from admin MFA?)`);
    }
    this.onToken?.(token);
    this.token = token;
    this.generation++;
    this.logins++;
  }

  private sig(): { signal?: AbortSignal } {
    return this.signal ? { signal: this.signal } : {};
  }
}

function safeJson(res: HttpResponse): unknown {
  try {
    return res.body.length === 0 ? undefined : res.json();
  } catch {
    return undefined;
  }
}

/** JSON whatever the content type says (vendor types, even `appliance/json`); empty → undefined. */
function parseJson(res: HttpResponse, what: string): unknown {
  if (res.body.length === 0) return undefined;
  try {
    return res.json();
  } catch {
    throw new Error(`${what}: HTTP ${res.status} with a body that is not JSON`);
  }
}

export function apiError(what: string, res: HttpResponse): AppgateApiError {
  const e = errorMessageOf(safeJson(res));
  return new AppgateApiError(what, res.status, e.id, e.message);
}
