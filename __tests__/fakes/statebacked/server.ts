import { randomBytes } from "node:crypto";
import { type Exchange, type ExchangeRecord, type FaultRule, HttpFake, sleep } from "../http-fake.ts";
import { authenticate, jsonBody } from "./auth.ts";
import type { KeyRecord } from "./jwt.ts";
import type { FakeOptions, FakeState, MachineRec, MigrationRec, Provisional, RequestRecord, UploadRecord, VersionRec } from "./model.ts";
import { SLUG } from "./model.ts";
import { PUBLISH_ROUTES } from "./publish-routes.ts";
import { READ_AND_INSTANCE_ROUTES, type Route, matchRoute } from "./routes.ts";
import { TOP_ROUTES } from "./log-routes.ts";
import { LogStore } from "./logs.ts";
import { Signer } from "./signed-ids.ts";
import { Upgrades } from "./upgrades.ts";
import { handleUpload } from "./uploads.ts";

export type { FaultAction, FaultRule } from "../http-fake.ts";
export { SCOPES_ALL, hasMigrationPath } from "./model.ts";
export type { FakeOptions, InstanceRec, MachineRec, MigrationRec, RequestRecord, UploadRecord, VersionRec } from "./model.ts";

/**
 * A fake State Backed API on loopback, built from the OpenAPI spec and the wire notes, and as
 * strict as the real service where the action depends on it: JWT auth and key scopes, slug rules,
 * the S3-like presigned upload (policy-bound fields, order, `file` last, content-encoding after
 * ?gzip, Content-Length, size limits), finalize only after an upload, migration paths, the
 * deletion HMAC. Fault injection (latency, statuses, Retry-After, dropped connections, an
 * in-flight cap) serves the retry tests and the benchmark.
 *
 * Here: the state, seeding, and the way a request reaches a route (transport in ../http-fake.ts,
 * auth.ts, the route tables in routes.ts and publish-routes.ts, uploads.ts, signed-ids.ts).
 */

/** Every route of the API: a new endpoint is one row in one of these tables. */
export const ROUTES: readonly Route[] = [...READ_AND_INSTANCE_ROUTES, ...PUBLISH_ROUTES];
export { TOP_ROUTES };

export class FakeStateBacked implements FakeState {
  readonly machines = new Map<string, MachineRec>();
  readonly keys = new Map<string, KeyRecord>();
  readonly requests: RequestRecord[] = [];
  readonly uploads: UploadRecord[] = [];
  readonly faults: FaultRule[] = [];
  readonly provisionals = new Map<string, Provisional>();
  readonly opts: FakeOptions;
  /** Record request bodies and every request (off for the bench's 100,000-instance runs). */
  recordRequests = true;
  /** API requests answered, and the time they spent in the fake (arrival to answer), for the bench. */
  answered = 0;
  serviceMsTotal = 0;
  rejectedOverCap = 0;
  /** Sees every API request as it is answered (the bench's timeline); `at` is performance.now(). */
  observe: ((r: { method: string; path: string; status: number; arrivedAt: number; answeredAt: number }) => void) | undefined;
  /** The entries `GET /logs` serves; tests write to it directly or through versionLogs. */
  readonly logs: LogStore;
  private readonly upgrades: Upgrades;
  url = "";
  /** The upload endpoint's origin: a listener of its own, as a bucket is another host. */
  uploadOrigin = "";
  private api: HttpFake | undefined;
  private uploadServer: HttpFake | undefined;
  private readonly signer = new Signer();
  private counter = 0;

  constructor(opts: FakeOptions = {}) {
    this.opts = opts;
    for (const k of opts.keys ?? []) this.keys.set(k.keyId, k);
    this.logs = new LogStore(opts.logDelayMs ?? 60_000);
    this.upgrades = new Upgrades(this.logs);
  }

  async start(): Promise<this> {
    const common = { faults: this.faults, now: () => this.now() };
    this.api = await new HttpFake({
      ...common,
      // Latency only on the API: the bucket is another service.
      before: async () => (this.opts.latencyMs ? sleep(this.opts.latencyMs) : undefined),
      handle: (ex) => this.handleApi(ex),
      record: (r) => this.record(r, false),
    }).start();
    this.uploadServer = await new HttpFake({
      ...common,
      handle: (ex) => handleUpload(ex, this),
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

  // ---------- upgrades over time (test controls) ----------

  /**
   * An instance runs its desired version this long after it was set (its "next event"), settled
   * before the fake answers its next request; undefined (the default): never by itself.
   */
  get upgradeAfterMs(): number | undefined {
    return this.upgrades.afterMs;
  }
  set upgradeAfterMs(ms: number | undefined) {
    this.upgrades.afterMs = ms;
  }
  /** What a version writes when an instance starts running it (entries per instance). */
  get versionLogs(): Map<string, { stderr?: number; stdout?: number }> {
    return this.upgrades.versionLogs;
  }
  /** Moves instances to their desired version now (all that have one, or those `which` picks). */
  upgradeNow(machine: string, which: (slug: string) => boolean = () => true): number {
    let moved = 0;
    for (const inst of this.machine(machine).instances.values()) if (which(inst.slug) && this.upgrades.move(machine, inst, this.now())) moved++;
    return moved;
  }
  noteDesired(machine: string, slug: string): void {
    this.upgrades.noteDesired(machine, slug);
  }

  /** Gives instances a value in an index (what their version's index selectors would extract). */
  setIndexValues(machine: string, index: string, values: Record<string, string>): void {
    const m = this.machine(machine);
    if (!m.indexes.includes(index)) throw new Error(`fake: machine ${machine} has no index ${index}`);
    for (const [slug, value] of Object.entries(values)) {
      const inst = m.instances.get(slug);
      if (!inst) throw new Error(`fake: no instance ${slug}`);
      inst.indexValues = { ...inst.indexValues, [index]: value };
    }
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

  /** The provisional record of a signed id (tests check uploads and abandonment). */
  provisional(signedId: string): Readonly<Provisional> | undefined {
    return this.provisionals.get(signedId);
  }
  get provisionalCount(): number {
    return this.provisionals.size;
  }

  now(): number {
    return (this.opts.now ?? Date.now)();
  }
  stamp(): string {
    // Strictly increasing timestamps keep "newest" well defined.
    return new Date(this.now() + this.counter++).toISOString();
  }
  newId(prefix: string): string {
    return prefix + randomBytes(16).toString("base64url");
  }

  // ---------- HTTP ----------

  private record(r: ExchangeRecord, upload: boolean): void {
    if (!upload) {
      this.answered++;
      this.serviceMsTotal += r.elapsedMs;
      const now = performance.now();
      this.observe?.({ method: r.method, path: r.path, status: r.status, arrivedAt: now - r.elapsedMs, answeredAt: now });
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

  /** In order: the in-flight cap, auth, the JSON body, the machine name, the route, its scope, the machine. */
  private handleApi(ex: Exchange): void {
    const send = (code: number, payload?: unknown): void => void ex.send(code, payload);
    if (this.opts.maxInFlight !== undefined && this.inFlight > this.opts.maxInFlight) {
      this.rejectedOverCap++;
      const h: Record<string, string> = this.opts.maxInFlightRetryAfter !== undefined ? { "retry-after": this.opts.maxInFlightRetryAfter } : {};
      return void ex.send(429, { error: "too many requests" }, h);
    }
    const scopes = authenticate(ex, this.opts, this.keys, this.now());
    if (!scopes) return;
    const json = jsonBody(ex);
    if (json === "refused") return;
    this.upgrades.settle(this.machines, this.now());
    const seg = ex.path.split("/").slice(1).map(decodeURIComponent);
    const top = TOP_ROUTES.find((r) => r.method === ex.method && r.path === ex.path);
    if (top) {
      if (!scopes.includes(top.scope)) return send(403, { error: `missing scope ${top.scope}`, code: "missing-scope" });
      return top.handle({ fake: this, ex, send });
    }
    if (seg[0] !== "machines" || seg.length < 2) return send(404, { error: "not found" });
    if (!SLUG.test(seg[1]!)) return send(400, { error: "invalid machine name", code: "invalid-parameter", parameter: "machineSlug" });
    const match = matchRoute(ROUTES, ex.method, seg);
    if (!match) return send(404, { error: `no route ${ex.method} ${ex.path}` });
    if (!scopes.includes(match.route.scope)) return send(403, { error: `missing scope ${match.route.scope}`, code: "missing-scope" });
    const machine = this.machines.get(seg[1]!);
    if (!machine) return send(404, { error: "machine not found" });
    match.route.handle({ fake: this, signer: this.signer, ex, machine, params: match.params, json, send });
  }
}

export async function startFakeStateBacked(opts: FakeOptions = {}): Promise<FakeStateBacked> {
  return new FakeStateBacked(opts).start();
}
