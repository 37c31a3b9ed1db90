import { createHmac, randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { type Exchange, type ExchangeRecord, type FaultRule, HttpFake, sleep } from "../http-fake.ts";
import { type KeyRecord, verifyKeyToken } from "./jwt.ts";
import { boundaryOf, parseMultipart } from "./multipart.ts";

/**
 * A fake State Backed API on loopback, built from the OpenAPI spec and the wire notes, and as
 * strict as the real service where the action depends on it: JWT auth and key scopes, slug rules,
 * the S3-like presigned upload (policy-bound fields, order, `file` last, content-encoding after
 * ?gzip, Content-Length, size limits), finalize only after an upload, migration paths, the
 * deletion HMAC. Fault injection (latency, statuses, Retry-After, dropped connections, an
 * in-flight cap) serves the retry tests and the benchmark.
 */

export const SCOPES_ALL = [
  "machines.read",
  "machine-versions.read",
  "machine-versions.write",
  "instances.read",
  "instances.write",
  "instances.admin",
] as const;

export interface VersionRec {
  id: string;
  createdAt: string;
  clientInfo: string;
  /** Gunzipped code. */
  code: Buffer;
  indexSelectors?: Record<string, string>;
}
export interface MigrationRec {
  id: string;
  from: string;
  to: string;
  code: Buffer;
}
export interface InstanceRec {
  slug: string;
  createdAt: string;
  status: "running" | "paused";
  versionId: string;
  desiredVersionId?: string;
}
export interface MachineRec {
  name: string;
  createdAt: string;
  indexes: string[];
  currentVersionId?: string;
  versions: VersionRec[];
  migrations: MigrationRec[];
  instances: Map<string, InstanceRec>;
}

interface Provisional {
  kind: "version" | "migration";
  machine: string;
  id: string;
  gzip: boolean;
  from?: string;
  to?: string;
  fields: Record<string, string>;
  /** The presigned policy's expiration (ms). */
  expiresAt: number;
  upload?: { file: Buffer; filename: string | undefined; contentEncoding: string | undefined };
  finalized?: string;
}

export interface UploadRecord {
  provisionalId: string;
  fieldOrder: string[];
  filename: string | undefined;
  hadAuthorization: boolean;
}

export interface RequestRecord {
  method: string;
  path: string;
  /** The raw query string, "?gzip" included as sent. */
  query: string;
  status: number;
  body: string;
  contentType: string | undefined;
  orgHeader: string | undefined;
  /** True for the upload endpoint (its own listener, like a bucket on another host). */
  upload: boolean;
}

export type { FaultAction, FaultRule } from "../http-fake.ts";

export interface FakeOptions {
  keys?: KeyRecord[];
  /** Ready bearer tokens (as from a user login): token → orgs and scopes. */
  userTokens?: Record<string, { orgs: string[]; scopes: string[] }>;
  /** Items per list page. */
  pageSize?: number;
  /** Added before every API answer. */
  latencyMs?: number;
  /** More API requests in flight than this get 429 (the bench's server limit). */
  maxInFlight?: number;
  /** Retry-After sent with the in-flight 429s (none when undefined). */
  maxInFlightRetryAfter?: string;
  now?: () => number;
  /**
   * A finalize repeated for an id already finalized: nothing documents that it may be repeated,
   * so by default it is refused (400 invalid-parameter); "same-id" answers as the first time did.
   */
  repeatedFinalize?: "refuse" | "same-id";
  /** The key of the migration id in the finalize answer (the spec names it both ways). */
  migrationIdKey?: "machineVersionMigrationId" | "machineVersionId";
  /** Status for a bad or expired token: the wire notes say to expect 401 or 403. */
  badTokenStatus?: 401 | 403;
}

export class FakeStateBacked {
  readonly machines = new Map<string, MachineRec>();
  readonly keys = new Map<string, KeyRecord>();
  readonly requests: RequestRecord[] = [];
  readonly uploads: UploadRecord[] = [];
  readonly faults: FaultRule[] = [];
  /** Record request bodies and every request (off for the bench's 100,000-instance runs). */
  recordRequests = true;
  /** API requests answered, and the time they spent in the fake (arrival to answer), for the bench. */
  answered = 0;
  serviceMsTotal = 0;
  rejectedOverCap = 0;
  url = "";
  /** The upload endpoint's origin: a listener of its own, as a bucket is another host. */
  uploadOrigin = "";
  private api: HttpFake | undefined;
  private uploadServer: HttpFake | undefined;
  private readonly provisionals = new Map<string, Provisional>();
  private readonly signingKey = randomBytes(32);
  private readonly opts: FakeOptions;
  private counter = 0;

  constructor(opts: FakeOptions = {}) {
    this.opts = opts;
    for (const k of opts.keys ?? []) this.keys.set(k.keyId, k);
  }

  async start(): Promise<this> {
    const common = { faults: this.faults, now: () => this.now() };
    this.api = await new HttpFake({
      ...common,
      before: () => this.beforeApi(),
      handle: (ex) => this.handleApi(ex),
      record: (r) => this.record(r, false),
    }).start();
    this.uploadServer = await new HttpFake({
      ...common,
      handle: (ex) => this.handleUpload(ex),
      record: (r) => this.record(r, true),
    }).start();
    this.url = this.api.url;
    this.uploadOrigin = this.uploadServer.url;
    return this;
  }

  async close(): Promise<void> {
    await this.api?.close();
    await this.uploadServer?.close();
  }

  /** API requests in flight now, and the most at once (the bench's server limit). */
  get inFlight(): number {
    return this.api?.inFlight ?? 0;
  }
  get peakInFlight(): number {
    return this.api?.peakInFlight ?? 0;
  }

  // ---------- seeding ----------

  addMachine(name: string, indexes: string[] = []): MachineRec {
    const m: MachineRec = { name, createdAt: new Date(this.now()).toISOString(), indexes, versions: [], migrations: [], instances: new Map() };
    this.machines.set(name, m);
    return m;
  }

  addVersion(machine: string, clientInfo: string, opts: { current?: boolean; code?: string } = {}): VersionRec {
    const m = this.machine(machine);
    const v: VersionRec = { id: this.newId("ver_"), createdAt: this.stamp(), clientInfo, code: Buffer.from(opts.code ?? "export default {};") };
    m.versions.push(v);
    if (opts.current) m.currentVersionId = v.id;
    return v;
  }

  addMigration(machine: string, from: string, to: string): MigrationRec {
    const mig: MigrationRec = { id: this.newId("vmig_"), from, to, code: Buffer.from("export function upgradeState(s){return s}") };
    this.machine(machine).migrations.push(mig);
    return mig;
  }

  addInstances(machine: string, names: Iterable<string>, versionId: string): void {
    const m = this.machine(machine);
    for (const slug of names) m.instances.set(slug, { slug, createdAt: this.stamp(), status: "running", versionId });
  }

  machine(name: string): MachineRec {
    const m = this.machines.get(name);
    if (!m) throw new Error(`fake: no machine ${name}`);
    return m;
  }

  /** Requests to the API (not the upload endpoint) matching method and path. */
  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => !r.upload && r.method === method && path.test(r.path)).length;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
  private stamp(): string {
    // Strictly increasing timestamps keep "newest" well defined.
    return new Date(this.now() + this.counter++).toISOString();
  }
  private newId(prefix: string): string {
    return prefix + randomBytes(16).toString("base64url");
  }

  // ---------- HTTP ----------

  /** Latency only on the API, as the bucket is another service. */
  private async beforeApi(): Promise<void> {
    if (this.opts.latencyMs) await sleep(this.opts.latencyMs);
  }

  private record(r: ExchangeRecord, upload: boolean): void {
    if (!upload) {
      this.answered++;
      this.serviceMsTotal += r.elapsedMs;
    }
    if (!this.recordRequests) return;
    this.requests.push({
      method: r.method,
      path: r.path,
      query: r.query,
      status: r.status,
      body: r.body.length < 10_000 ? r.body.toString("utf8") : "<large>",
      contentType: r.headers["content-type"],
      orgHeader: r.headers["x-statebacked-org-id"] as string | undefined,
      upload,
    });
  }

  private handleApi(ex: Exchange): void {
    const { req, method, url, body } = ex;
    const send: Sender = (code, payload, headers) => void ex.send(code, payload, headers);
    if (this.opts.maxInFlight !== undefined && this.inFlight > this.opts.maxInFlight) {
      this.rejectedOverCap++;
      const h: Record<string, string> = this.opts.maxInFlightRetryAfter !== undefined ? { "retry-after": this.opts.maxInFlightRetryAfter } : {};
      return send(429, { error: "too many requests" }, h);
    }
    // ---- authentication ----
    const auth = req.headers.authorization;
    const m = /^Bearer (.+)$/.exec(auth ?? "");
    if (!m) return send(401, { error: "missing bearer token" });
    const token = m[1]!;
    let scopes: string[];
    const user = this.opts.userTokens?.[token];
    if (user) {
      const org = req.headers["x-statebacked-org-id"];
      if (user.orgs.length > 1 && !org) return send(400, { error: "you belong to several orgs: pass x-statebacked-org-id", code: "specify-org" });
      if (org && !user.orgs.includes(String(org))) return send(403, { error: "not a member of that org", code: "missing-org" });
      scopes = user.scopes;
    } else {
      const v = verifyKeyToken(token, this.keys, Math.floor(this.now() / 1000));
      if (!v.ok) return send(this.opts.badTokenStatus ?? 401, { error: `invalid token: ${v.why}` });
      scopes = v.key.scopes;
    }

    // ---- body ----
    let json: Record<string, unknown> | undefined;
    if (body.length > 0) {
      if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
        return send(400, { error: "expected an application/json body", code: "invalid-parameter", parameter: "body" });
      }
      try {
        const parsed = JSON.parse(body.toString("utf8")) as unknown;
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
        json = parsed as Record<string, unknown>;
      } catch {
        return send(400, { error: "invalid JSON body", code: "invalid-parameter", parameter: "body" });
      }
    }

    const need = (scope: string): boolean => {
      if (scopes.includes(scope)) return true;
      send(403, { error: `missing scope ${scope}`, code: "missing-scope" });
      return false;
    };
    const seg = url.pathname.split("/").slice(1).map(decodeURIComponent);
    if (seg[0] !== "machines" || seg.length < 2) return send(404, { error: "not found" });
    const machineName = seg[1]!;
    if (!SLUG.test(machineName)) return send(400, { error: "invalid machine name", code: "invalid-parameter", parameter: "machineSlug" });
    const route = `${method} ${seg.slice(2).map((s, i) => (i % 2 === 1 ? ":" : s)).join("/")}`;
    const machine = this.machines.get(machineName);

    switch (route) {
      case "GET ": {
        if (!need("machines.read")) return;
        if (!machine) return send(404, { error: "machine not found" });
        const current = machine.versions.find((v) => v.id === machine.currentVersionId);
        return send(200, { machine: { createdAt: machine.createdAt, indexes: machine.indexes, ...(current ? { currentVersion: info(current) } : {}) } });
      }
      case "GET v": {
        if (!need("machine-versions.read")) return;
        if (!machine) return send(404, { error: "machine not found" });
        const page = this.page(machineName, "versions", machine.versions, url.searchParams.get("cursor"), info);
        if (!page) return send(400, { error: "invalid cursor", code: "invalid-parameter", parameter: "cursor" });
        return send(200, page);
      }
      case "POST v":
      case "POST migrations": {
        if (!need("machine-versions.write")) return;
        if (!machine) return send(404, { error: "machine not found" });
        const gzip = parseGzipFlag(url);
        if (gzip === "invalid") return send(400, { error: "invalid gzip parameter", code: "invalid-parameter", parameter: "gzip" });
        const kind = route === "POST v" ? "version" : "migration";
        let from: string | undefined;
        let to: string | undefined;
        if (kind === "migration") {
          from = json?.fromMachineVersionId as string | undefined;
          to = json?.toMachineVersionId as string | undefined;
          for (const [p, id] of [["fromMachineVersionId", from], ["toMachineVersionId", to]] as const) {
            if (typeof id !== "string" || !machine.versions.some((v) => v.id === id)) {
              return send(400, { error: `${p} is not a version of this machine`, code: "invalid-parameter", parameter: p });
            }
          }
          if (from === to) return send(400, { error: "from and to are the same version", code: "invalid-parameter", parameter: "toMachineVersionId" });
        }
        const id = this.newId(kind === "version" ? "ver_" : "vmig_");
        const signedId = this.sign({ kind, machine: machineName, id });
        const fields = this.presign(signedId, gzip);
        this.provisionals.set(signedId, {
          kind,
          machine: machineName,
          id,
          gzip,
          fields,
          expiresAt: this.now() + UPLOAD_POLICY_LIFETIME_MS,
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
        });
        return send(200, {
          [kind === "version" ? "machineVersionId" : "machineVersionMigrationId"]: signedId,
          codeUploadUrl: `${this.uploadOrigin}/code-bucket`,
          codeUploadFields: fields,
        });
      }
      case "PUT v/:":
      case "PUT migrations/:": {
        if (!need("machine-versions.write")) return;
        if (!machine) return send(404, { error: "machine not found" });
        const kind = route === "PUT v/:" ? "version" : "migration";
        const signedId = seg[3]!;
        const p = this.provisionals.get(signedId);
        const param = kind === "version" ? "signedMachineVersionId" : "signedMachineVersionMigrationId";
        if (!p || !this.verifySigned(signedId) || p.kind !== kind || p.machine !== machineName) {
          return send(400, { error: "invalid signed id", code: "invalid-parameter", parameter: param });
        }
        if (p.finalized) {
          if ((this.opts.repeatedFinalize ?? "refuse") === "refuse") {
            return send(400, { error: "this id was finalized already", code: "invalid-parameter", parameter: param });
          }
          return send(200, kind === "version" ? { machineVersionId: p.finalized } : { [this.opts.migrationIdKey ?? "machineVersionMigrationId"]: p.finalized });
        }
        if (!p.upload) return send(400, { error: "no code was uploaded for this id", code: "invalid-parameter", parameter: param });
        let code: Buffer;
        try {
          code = p.gzip ? gunzipSync(p.upload.file) : p.upload.file;
        } catch {
          return send(400, { error: "uploaded code is not valid gzip", code: "invalid-parameter", parameter: "code" });
        }
        if (code.length > 10_000_000) return send(400, { error: "code too large", code: "invalid-parameter", parameter: "code" });
        if (kind === "version") {
          if (json?.clientInfo !== undefined && typeof json.clientInfo !== "string") {
            return send(400, { error: "clientInfo must be a string", code: "invalid-parameter", parameter: "clientInfo" });
          }
          if (json?.makeCurrent !== undefined && typeof json.makeCurrent !== "boolean") {
            return send(400, { error: "makeCurrent must be a boolean", code: "invalid-parameter", parameter: "makeCurrent" });
          }
          const sel = json?.indexSelectors as Record<string, unknown> | undefined;
          if (sel !== undefined) {
            for (const [k, v] of Object.entries(sel)) {
              if (!machine.indexes.includes(k) || typeof v !== "string") {
                return send(400, { error: `unknown index ${k}`, code: "invalid-parameter", parameter: "indexSelectors" });
              }
            }
          }
          const v: VersionRec = {
            id: p.id,
            createdAt: this.stamp(),
            clientInfo: (json?.clientInfo as string | undefined) ?? "",
            code,
            ...(sel ? { indexSelectors: sel as Record<string, string> } : {}),
          };
          machine.versions.push(v);
          if (json?.makeCurrent === true) machine.currentVersionId = v.id;
          p.finalized = v.id;
          return send(200, { machineVersionId: v.id });
        }
        // The request body is an (empty) object in the spec; a body that is not an object was refused above.
        machine.migrations.push({ id: p.id, from: p.from!, to: p.to!, code });
        p.finalized = p.id;
        return send(200, { [this.opts.migrationIdKey ?? "machineVersionMigrationId"]: p.id });
      }
      case "GET i": {
        if (!need("instances.read")) return;
        if (!machine) return send(404, { error: "machine not found" });
        const toWire = (i: InstanceRec) => ({
          slug: i.slug,
          createdAt: i.createdAt,
          status: i.status,
          machineVersion: info(machine.versions.find((v) => v.id === i.versionId)!),
        });
        const page = this.page(machineName, "instances", [...machine.instances.values()], url.searchParams.get("cursor"), toWire);
        if (!page) return send(400, { error: "invalid cursor", code: "invalid-parameter", parameter: "cursor" });
        return send(200, page);
      }
      case "PUT i/:/v": {
        if (!need("instances.write")) return;
        if (!machine) return send(404, { error: "machine not found" });
        const slug = seg[3]!;
        if (!SLUG.test(slug)) return send(400, { error: "invalid instance name", code: "invalid-parameter", parameter: "instanceSlug" });
        const inst = machine.instances.get(slug);
        if (!inst) return send(404, { error: "instance not found" });
        const target = json?.targetMachineVersionId;
        if (typeof target !== "string" || !machine.versions.some((v) => v.id === target)) {
          return send(400, { error: "unknown target version", code: "invalid-parameter", parameter: "targetMachineVersionId" });
        }
        if (!hasMigrationPath(machine.migrations, inst.versionId, target)) {
          return send(400, { error: "no migration path to the target version", code: "no-migration-path" });
        }
        inst.desiredVersionId = target;
        return send(201);
      }
      case "GET i/:/admin": {
        if (!need("instances.admin")) return;
        if (!machine) return send(404, { error: "machine not found" });
        const inst = machine.instances.get(seg[3]!);
        if (!inst) return send(404, { error: "instance not found" });
        const desired = inst.desiredVersionId ? machine.versions.find((v) => v.id === inst.desiredVersionId) : undefined;
        return send(200, {
          state: "idle",
          context: {},
          tags: [],
          done: false,
          status: inst.status,
          createdAt: inst.createdAt,
          machineVersion: info(machine.versions.find((v) => v.id === inst.versionId)!),
          ...(desired ? { desiredMachineVersion: info(desired) } : {}),
        });
      }
      case "DELETE i/:": {
        if (!need("instances.admin")) return;
        if (!machine) return send(404, { error: "machine not found" });
        const slug = seg[3]!;
        if (!SLUG.test(slug)) return send(400, { error: "invalid instance name", code: "invalid-parameter", parameter: "instanceSlug" });
        if (json?.dangerDataWillBeDeletedForever !== true) {
          return send(400, { error: "deletion must be confirmed", code: "invalid-parameter", parameter: "dangerDataWillBeDeletedForever" });
        }
        const expected = createHmac("sha256", Buffer.from(machineName, "utf8")).update(slug, "utf8").digest("base64url");
        if (json.hmacSha256OfMachineInstanceNameWithMachineNameKey !== expected) {
          return send(400, {
            error: "wrong deletion HMAC",
            code: "invalid-parameter",
            parameter: "hmacSha256OfMachineInstanceNameWithMachineNameKey",
          });
        }
        if (!machine.instances.delete(slug)) return send(404, { error: "instance not found" });
        return send(204);
      }
      default:
        return send(404, { error: `no route ${method} ${url.pathname}` });
    }
  }

  /** One page, or undefined for a cursor that is not one this list handed out (the caller answers 400). */
  private page<T, W>(machine: string, key: string, items: T[], cursor: string | null, toWire: (item: T) => W): Record<string, unknown> | undefined {
    const size = this.opts.pageSize ?? 50;
    let start = 0;
    if (cursor !== null) {
      const decoded = this.verifySigned(cursor);
      if (!decoded || decoded.kind !== `cursor:${key}` || decoded.machine !== machine) return undefined;
      start = Number(decoded.id);
    }
    const slice = items.slice(start, start + size).map(toWire);
    const next = start + size < items.length ? this.sign({ kind: `cursor:${key}`, machine, id: String(start + size) }) : undefined;
    return { [key]: slice, ...(next ? { cursor: next } : {}) };
  }

  // ---------- the presigned upload ----------

  private presign(signedId: string, gzip: boolean): Record<string, string> {
    const key = `code/${createHmac("sha256", this.signingKey).update(signedId).digest("hex").slice(0, 24)}`;
    const conditions = [
      { bucket: "code-bucket" },
      { key },
      { "content-type": "application/javascript" },
      ...(gzip ? [{ "content-encoding": "gzip" }] : []),
      ["content-length-range", 0, 1_000_000],
    ];
    const policy = Buffer.from(JSON.stringify({ expiration: new Date(this.now() + UPLOAD_POLICY_LIFETIME_MS).toISOString(), conditions })).toString("base64");
    const fields: Record<string, string> = {
      bucket: "code-bucket",
      key,
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Credential": "FAKEKEY/20261122/us-east-1/s3/aws4_request",
      "X-Amz-Date": "20261122T000000Z",
      Policy: policy,
    };
    fields["X-Amz-Signature"] = this.fieldSignature(fields);
    return fields;
  }

  private fieldSignature(fields: Record<string, string>): string {
    const mac = createHmac("sha256", this.signingKey);
    for (const [k, v] of Object.entries(fields)) if (k !== "X-Amz-Signature") mac.update(`${k}=${v}\n`);
    return mac.digest("hex");
  }

  private handleUpload(ex: Exchange): void {
    const { req, body } = ex;
    const send: Sender = (code, payload, headers) =>
      void ex.send(code, payload, typeof payload === "string" ? { "content-type": "application/xml", ...headers } : headers);
    const xml = (code: string, message: string): string =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
    if (req.method !== "POST") return send(405, xml("MethodNotAllowed", "The specified method is not allowed against this resource."));
    // Checked before anything is stored: a refused upload must leave nothing to finalize.
    if (req.headers.authorization !== undefined) {
      return send(400, xml("InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm form field is supported"));
    }
    if (req.headers["transfer-encoding"] || req.headers["content-length"] === undefined) {
      return send(411, xml("MissingContentLength", "You must provide the Content-Length HTTP header."));
    }
    const boundary = boundaryOf(req.headers["content-type"]);
    if (!boundary) return send(412, xml("PreconditionFailed", "Bucket POST must be of the enclosure-type multipart/form-data"));
    const parts = parseMultipart(body, boundary);
    if (typeof parts === "string") return send(400, xml("MalformedPOSTRequest", `The body of your POST request is not well-formed multipart/form-data: ${parts}`));
    const fileIndex = parts.findIndex((p) => p.name === "file");
    if (fileIndex < 0) return send(400, xml("InvalidArgument", "POST requires exactly one file upload per request."));
    if (fileIndex !== parts.length - 1) return send(400, xml("InvalidArgument", "The file must be the last field in the form."));
    const fields = new Map<string, string>();
    for (const p of parts.slice(0, -1)) {
      if (fields.has(p.name)) return send(400, xml("InvalidArgument", `Field ${p.name} appears more than once.`));
      fields.set(p.name, p.data.toString("utf8"));
    }
    const signedEntry = [...this.provisionals.entries()].find(([, p]) => p.fields.key === fields.get("key"));
    if (!signedEntry) return send(403, xml("AccessDenied", "Invalid according to Policy: Policy Condition failed: key"));
    const [signedId, prov] = signedEntry;
    // Every field handed out must come back unchanged; anything else must be covered by the policy.
    for (const [k, v] of Object.entries(prov.fields)) {
      if (!fields.has(k)) return send(403, xml("AccessDenied", `Invalid according to Policy: Policy Condition failed: missing ${k}`));
      if (fields.get(k) !== v) return send(403, xml("SignatureDoesNotMatch", `The request signature we calculated does not match (field ${k} altered).`));
    }
    const allowed = new Set([...Object.keys(prov.fields), "content-type", ...(prov.gzip ? ["content-encoding"] : [])]);
    for (const k of fields.keys()) {
      if (!allowed.has(k)) return send(403, xml("AccessDenied", `Invalid according to Policy: Extra input fields: ${k}`));
    }
    if (fields.get("content-type") !== "application/javascript") {
      return send(403, xml("AccessDenied", "Invalid according to Policy: Policy Condition failed: content-type"));
    }
    if (prov.gzip && fields.get("content-encoding") !== "gzip") {
      return send(403, xml("AccessDenied", "Invalid according to Policy: Policy Condition failed: content-encoding"));
    }
    // The order the wire notes give: handed-out fields in order, content-type, content-encoding, file.
    const expectedOrder = [...Object.keys(prov.fields), "content-type", ...(prov.gzip ? ["content-encoding"] : [])];
    const order = [...fields.keys()];
    if (order.join("\n") !== expectedOrder.join("\n")) {
      return send(400, xml("InvalidArgument", `Form fields out of order: got ${order.join(",")}, expected ${expectedOrder.join(",")}`));
    }
    const file = parts[fileIndex]!;
    if (file.data.length > 1_000_000) return send(400, xml("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"));
    if (this.now() > prov.expiresAt) return send(403, xml("AccessDenied", "Invalid according to Policy: Policy expired."));
    prov.upload = { file: Buffer.from(file.data), filename: file.filename, contentEncoding: fields.get("content-encoding") };
    this.uploads.push({ provisionalId: signedId, fieldOrder: [...order, "file"], filename: file.filename, hadAuthorization: false });
    return send(204);
  }

  // ---------- signed ids ----------

  private sign(payload: { kind: string; machine: string; id: string }): string {
    const p = Buffer.from(JSON.stringify(payload)).toString("base64url");
    return `${p}.${createHmac("sha256", this.signingKey).update(p).digest("base64url")}`;
  }

  private verifySigned(value: string): { kind: string; machine: string; id: string } | undefined {
    const [p, s] = value.split(".");
    if (!p || !s || createHmac("sha256", this.signingKey).update(p).digest("base64url") !== s) return undefined;
    try {
      return JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as { kind: string; machine: string; id: string };
    } catch {
      return undefined;
    }
  }

  /** The provisional record of a signed id (tests check uploads and abandonment). */
  provisional(signedId: string): Readonly<Provisional> | undefined {
    return this.provisionals.get(signedId);
  }
  get provisionalCount(): number {
    return this.provisionals.size;
  }
}

type Sender = (code: number, payload?: unknown, headers?: Record<string, string>) => void;

const SLUG = /^[a-zA-Z0-9_-]{1,128}$/;
/** How long a presigned upload form stays valid. */
const UPLOAD_POLICY_LIFETIME_MS = 15 * 60_000;

function info(v: VersionRec): { id: string; createdAt: string; clientInfo: string } {
  return { id: v.id, createdAt: v.createdAt, clientInfo: v.clientInfo };
}

/** `?gzip` (bare, as the official client sends it) or `?gzip=true` mean gzip; absent means plain. */
function parseGzipFlag(url: URL): boolean | "invalid" {
  if (!url.searchParams.has("gzip")) return false;
  const v = url.searchParams.get("gzip");
  if (v === "" || v === "true") return true;
  if (v === "false") return false;
  return "invalid";
}

/** Is there a chain of migrations from `from` to `to` (the same version needs none)? */
export function hasMigrationPath(migrations: readonly MigrationRec[], from: string, to: string): boolean {
  if (from === to) return true;
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length) {
    const cur = queue.shift()!;
    for (const m of migrations) {
      if (m.from !== cur || seen.has(m.to)) continue;
      if (m.to === to) return true;
      seen.add(m.to);
      queue.push(m.to);
    }
  }
  return false;
}

export async function startFakeStateBacked(opts: FakeOptions = {}): Promise<FakeStateBacked> {
  return new FakeStateBacked(opts).start();
}
