import { createHmac } from "node:crypto";
import type { Exchange } from "../http-fake.ts";
import { type FakeState, type InstanceRec, type MachineRec, SLUG, hasMigrationPath, info } from "./model.ts";
import type { Signer } from "./signed-ids.ts";

/**
 * The State Backed API routes, one row each: method, path (`:name` segments are parameters),
 * the key scope it needs, and its handler. The server answers 404 for a path no row matches,
 * 403 missing-scope before the handler runs, and 404 for a machine that does not exist.
 */
export interface RouteContext {
  fake: FakeState;
  signer: Signer;
  ex: Exchange;
  machine: MachineRec;
  params: Record<string, string>;
  json: Record<string, unknown> | undefined;
  send(status: number, payload?: unknown): void;
}

export interface Route {
  method: string;
  path: string;
  scope: string;
  handle(c: RouteContext): void;
}

const invalid = (c: RouteContext, error: string, parameter: string): void => c.send(400, { error, code: "invalid-parameter", parameter });

function instanceToWire(machine: MachineRec) {
  return (i: InstanceRec) => ({ slug: i.slug, createdAt: i.createdAt, status: i.status, machineVersion: info(machine.versions.find((v) => v.id === i.versionId)!) });
}

/** One page of a list, or 400 for a cursor this list did not hand out. */
function sendPage<T, W>(c: RouteContext, key: string, items: readonly T[], toWire: (item: T) => W): void {
  const page = c.signer.page(c.machine.name, key, items, c.ex.url.searchParams.get("cursor"), c.fake.opts.pageSize ?? 50, toWire);
  if (!page) return invalid(c, "invalid cursor", "cursor");
  c.send(200, page);
}

export const READ_AND_INSTANCE_ROUTES: Route[] = [
  {
    method: "GET",
    path: "/machines/:machine",
    scope: "machines.read",
    handle: (c) => {
      const m = c.machine;
      const current = m.versions.find((v) => v.id === m.currentVersionId);
      c.send(200, { machine: { createdAt: m.createdAt, indexes: m.indexes, ...(current ? { currentVersion: info(current) } : {}) } });
    },
  },
  {
    method: "GET",
    path: "/machines/:machine/v",
    scope: "machine-versions.read",
    handle: (c) => sendPage(c, "versions", c.machine.versions, info),
  },
  {
    method: "GET",
    path: "/machines/:machine/i",
    scope: "instances.read",
    handle: (c) => {
      c.fake.opts.beforeInstancesPage?.(c.machine);
      sendPage(c, "instances", [...c.machine.instances.values()], instanceToWire(c.machine));
    },
  },
  {
    method: "GET",
    path: "/machines/:machine/indexes/:index/query",
    scope: "indexes.read",
    handle: (c) => queryIndex(c),
  },
  {
    method: "PUT",
    path: "/machines/:machine/i/:instance/v",
    scope: "instances.write",
    handle: (c) => {
      const slug = c.params.instance!;
      if (!SLUG.test(slug)) return invalid(c, "invalid instance name", "instanceSlug");
      const inst = c.machine.instances.get(slug);
      if (!inst) return c.send(404, { error: "instance not found" });
      const target = c.json?.targetMachineVersionId;
      if (typeof target !== "string" || !c.machine.versions.some((v) => v.id === target)) {
        return invalid(c, "unknown target version", "targetMachineVersionId");
      }
      if (!hasMigrationPath(c.machine.migrations, inst.versionId, target)) {
        return c.send(400, { error: "no migration path to the target version", code: "no-migration-path" });
      }
      inst.desiredVersionId = target;
      inst.desiredAt = c.fake.now();
      c.fake.noteDesired(c.machine.name, slug);
      c.send(201);
    },
  },
  {
    method: "GET",
    path: "/machines/:machine/i/:instance/admin",
    scope: "instances.admin",
    handle: (c) => {
      const m = c.machine;
      const inst = m.instances.get(c.params.instance!);
      if (!inst) return c.send(404, { error: "instance not found" });
      const desired = inst.desiredVersionId ? m.versions.find((v) => v.id === inst.desiredVersionId) : undefined;
      c.send(200, {
        state: "idle",
        context: {},
        tags: [],
        done: false,
        status: inst.status,
        createdAt: inst.createdAt,
        machineVersion: info(m.versions.find((v) => v.id === inst.versionId)!),
        ...(desired ? { desiredMachineVersion: info(desired) } : {}),
      });
    },
  },
  {
    method: "DELETE",
    path: "/machines/:machine/i/:instance",
    scope: "instances.admin",
    handle: (c) => {
      const slug = c.params.instance!;
      if (!SLUG.test(slug)) return invalid(c, "invalid instance name", "instanceSlug");
      if (c.json?.dangerDataWillBeDeletedForever !== true) return invalid(c, "deletion must be confirmed", "dangerDataWillBeDeletedForever");
      const expected = createHmac("sha256", Buffer.from(c.machine.name, "utf8")).update(slug, "utf8").digest("base64url");
      if (c.json.hmacSha256OfMachineInstanceNameWithMachineNameKey !== expected) {
        return invalid(c, "wrong deletion HMAC", "hmacSha256OfMachineInstanceNameWithMachineNameKey");
      }
      if (!c.machine.instances.delete(slug)) return c.send(404, { error: "instance not found" });
      c.send(204);
    },
  },
];

const INDEX_OPS: Record<string, (a: string, b: string) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
};

/**
 * The index query as the spec has it: `op` (one of six) and `value` together or neither, `dir`,
 * a numeric `limit`, a cursor this query handed out. Instances are indexed with the values the
 * test gave them (what their version's selectors would extract), in index-value order.
 */
function queryIndex(c: RouteContext): void {
  const index = c.params.index!;
  if (!SLUG.test(index)) return invalid(c, "invalid index name", "index");
  if (!c.machine.indexes.includes(index)) return c.send(404, { error: `machine has no index ${index}` });
  const q = c.ex.url.searchParams;
  const op = q.get("op");
  const value = q.get("value");
  if ((op === null) !== (value === null)) return invalid(c, "op and value go together", op === null ? "op" : "value");
  if (op !== null && !Object.hasOwn(INDEX_OPS, op)) return invalid(c, `unknown op ${op}`, "op");
  const dir = q.get("dir") ?? "asc";
  if (dir !== "asc" && dir !== "desc") return invalid(c, "dir must be asc or desc", "dir");
  const limitText = q.get("limit");
  const limit = limitText === null ? (c.fake.opts.pageSize ?? 50) : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) return invalid(c, "limit must be a positive number", "limit");
  const matching = [...c.machine.instances.values()]
    .filter((i) => i.indexValues?.[index] !== undefined && (op === null || INDEX_OPS[op]!(i.indexValues[index]!, value!)))
    .map((i) => ({ slug: i.slug, indexValue: i.indexValues![index]! }))
    .sort((a, b) => (a.indexValue < b.indexValue ? -1 : a.indexValue > b.indexValue ? 1 : a.slug < b.slug ? -1 : 1) * (dir === "asc" ? 1 : -1));
  // The cursor is bound to this query: another index, op or value refuses it.
  const key = `query:${index}:${op ?? ""}:${value ?? ""}:${dir}`;
  const page = c.signer.page(c.machine.name, key, matching, q.get("cursor"), limit, (x) => x);
  if (!page) return invalid(c, "invalid cursor", "cursor");
  const { [key]: instances, ...rest } = page;
  c.send(200, { instances, ...rest });
}

/** The row matching method and path segments, with its parameters; undefined when none does. */
export function matchRoute(routes: readonly Route[], method: string, segments: readonly string[]): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split("/").slice(1);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    if (pattern.every((p, i) => (p.startsWith(":") ? ((params[p.slice(1)] = segments[i]!), true) : p === segments[i]))) return { route, params };
  }
  return undefined;
}
