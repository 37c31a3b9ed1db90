import type { KeyRecord } from "./jwt.ts";
import type { LogStore } from "./logs.ts";

/** The fake State Backed's records and options, and the rules that several routes share. */

export const SCOPES_ALL = [
  "machines.read",
  "machine-versions.read",
  "machine-versions.write",
  "instances.read",
  "instances.write",
  "instances.admin",
  "indexes.read",
  "logs.read",
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
  /** When the desired version was last set (the fake's clock). */
  desiredAt?: number;
  /** Index values by index name (what the version's index selectors would extract). */
  indexValues?: Record<string, string>;
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

export interface Provisional {
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

export interface FakeOptions {
  keys?: KeyRecord[];
  /** Ready bearer tokens (as from a user login): token → orgs and scopes. */
  userTokens?: Record<string, { orgs: string[]; scopes: string[] }>;
  /** Items per list page. */
  pageSize?: number;
  /**
   * Called before each page of an instance listing is answered: a test changes the machine
   * between pages, as instances come and go on the live service while a listing is read.
   */
  beforeInstancesPage?: (machine: MachineRec) => void;
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
  /** How long after it is written a log entry can be read (the service: about a minute). Default 60,000. */
  logDelayMs?: number;
}

export const SLUG = /^[a-zA-Z0-9_-]{1,128}$/;
/** How long a presigned upload form stays valid. */
export const UPLOAD_POLICY_LIFETIME_MS = 15 * 60_000;

export function info(v: VersionRec): { id: string; createdAt: string; clientInfo: string } {
  return { id: v.id, createdAt: v.createdAt, clientInfo: v.clientInfo };
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

/** What the routes read and change: the fake's state and its helpers. */
export interface FakeState {
  readonly machines: Map<string, MachineRec>;
  readonly provisionals: Map<string, Provisional>;
  readonly opts: FakeOptions;
  /** The upload endpoint's origin. */
  readonly uploadOrigin: string;
  now(): number;
  /** A strictly increasing timestamp, so "newest" is well defined. */
  stamp(): string;
  newId(prefix: string): string;
  /** The entries `GET /logs` serves. */
  readonly logs: LogStore;
  /** The desired version of an instance was just set (the upgrade test controls watch it). */
  noteDesired(machine: string, slug: string): void;
}
