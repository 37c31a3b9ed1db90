import { selectInstances } from "../bulk/selection.ts";
import type { BulkSettings } from "../config/config.ts";
import type { InstanceSelection } from "../config/config.ts";
import { InputError } from "../config/inputs.ts";
import { quoteUntrusted } from "../runtime/escape.ts";
import { startedEarly } from "../runtime/started-early.ts";
import { ApiError } from "../statebacked/errors.ts";
import type { InstanceInfo, StateBackedApi, VersionInfo } from "../statebacked/api.ts";

/** The most characters of a bad name shown (a valid name has at most 128). */
const SHOWN_NAME_CHARS = 160;

/**
 * Which instances a bulk run acts on, as an async source read while the run goes: a names list,
 * the machine's listing page by page (all instances), or an index query page by page. Each item
 * carries the instance's current version whenever the listing says it, or the outcome already
 * decided without a request (an invalid name, another shard's, on the target already, not on
 * from-version, missing from the listing). Memory stays flat for a listing or a query: a page at
 * a time, except where a names list or a query must be matched against the whole listing.
 */

/** One selected instance. */
export interface SelectedInstance {
  name: string;
  /** Its current version, when the listing was read. */
  version?: VersionInfo;
  /** Decided without a request: skipped or failed, and why. */
  decided?: { outcome: "skipped" | "failed"; reason: string };
}

export type SelectionSource =
  /** Names from `instances` or `instances-file`. */
  | { kind: "list"; names: readonly string[] }
  /** Every instance, from the listing. */
  | { kind: "all" }
  /** Instances found page by page by another source (an index query), without their versions. */
  | { kind: "pages"; pages: () => AsyncIterable<readonly string[]> };

/** The source a configured selection reads. */
export function sourceOf(api: StateBackedApi, machine: string, selection: InstanceSelection): SelectionSource {
  switch (selection.kind) {
    case "all":
      return { kind: "all" };
    case "list":
      return { kind: "list", names: selection.names };
    case "query":
      return { kind: "pages", pages: () => queryPages(api, machine, selection) };
  }
}

/**
 * The slugs an index query finds, page by page. An index the machine lacks is one clear error
 * before any query (when the key may read the machine), not a failure per instance.
 */
async function* queryPages(api: StateBackedApi, machine: string, q: Extract<InstanceSelection, { kind: "query" }>): AsyncGenerator<string[]> {
  let indexes: string[] | undefined;
  try {
    indexes = await api.getIndexes(machine);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 403 && err.code === "missing-scope")) throw err;
  }
  if (indexes && !indexes.includes(q.index)) {
    throw new InputError(
      "instances-query",
      `machine '${machine}' has no index '${q.index}'${indexes.length ? ` (its indexes: ${indexes.map((i) => `'${i}'`).join(", ")})` : " (it has no index)"}`,
    );
  }
  for await (const page of api.queryIndex(machine, q.index, q.op, q.value)) {
    yield page.map((i) => (typeof i?.slug === "string" ? i.slug : ""));
  }
}

export interface SelectionRules {
  shard: BulkSettings["shard"];
  /** Only instances on this version (needs the listing). */
  fromId?: string;
  /** Instances on this version already are skipped (when their version is known). */
  targetId?: string;
  /** Read the listing for a names list or a query even without from-version (to know each version). */
  needVersions?: boolean;
}

/** The selection as an async source; after a stop, the names never read when they are known without a request. */
export interface Selection extends AsyncIterable<SelectedInstance> {
  /** The rest of a names list after the run stopped early (none for a listing or a query: never read). */
  unread(): Iterable<SelectedInstance>;
  /**
   * Every item at once when they are known without a request (a names list that needs no
   * listing), so the engine takes a plain list; undefined otherwise. Reads the selection.
   */
  known(): SelectedInstance[] | undefined;
  /**
   * Asks for the first page of a listing or a query now, before the selection is read (nothing
   * is decided until it is); false when the selection does not start with a page.
   */
  startFirstPage(): boolean;
}

export function selectionOf(api: StateBackedApi, machine: string, source: SelectionSource, rules: SelectionRules): Selection {
  // How far a names list was read (each name is read once, in order).
  let listPos = 0;
  const names = source.kind === "list" ? source.names : [];
  let lookup: ((name: string) => VersionInfo | null) | undefined;
  // A names list or a query matched against the whole listing reads the listing first.
  const listingFirst = rules.fromId !== undefined || rules.needVersions === true;
  // The pages asked for early (startFirstPage), read from where they are.
  let early: { listing?: AsyncIterable<InstanceInfo[]>; pages?: AsyncIterable<readonly string[]> } = {};
  async function* items(): AsyncGenerator<SelectedInstance> {
    if (source.kind === "all") {
      for await (const page of early.listing ?? api.listInstances(machine)) {
        const byName = new Map(page.map((i) => [i.slug, i] as const));
        yield* decide(page.map((i) => i.slug), rules, (name) => {
          const i = byName.get(name);
          return i ? versionOf(i) : null;
        }, seen);
      }
      return;
    }
    // Names from elsewhere: their versions come from the whole listing, read first, when a rule needs them.
    if (listingFirst) {
      const versions = await listingVersions(api, machine);
      lookup = (name) => versions.get(name) ?? null;
    }
    if (source.kind === "list") {
      while (listPos < names.length) yield* decide([names[listPos++]!], rules, lookup, seen);
      return;
    }
    for await (const page of early.pages ?? source.pages()) yield* decide(page, rules, lookup, seen);
  }
  // Names seen so far, whatever the source (a repeated name is sent and counted once): a listing
  // read while instances come and go can show a name on two pages.
  const seen = new Set<string>();
  return {
    [Symbol.asyncIterator]: () => items(),
    *unread() {
      while (listPos < names.length) yield* decide([names[listPos++]!], rules, lookup, seen);
    },
    startFirstPage() {
      if (early.listing || early.pages) return true;
      if (source.kind === "all") early = { listing: startedEarly(api.listInstances(machine)) };
      else if (source.kind === "pages" && !listingFirst) early = { pages: startedEarly(source.pages()) };
      else return false;
      return true;
    },
    known() {
      if (source.kind !== "list" || rules.fromId !== undefined || rules.needVersions || listPos > 0) return undefined;
      listPos = names.length;
      return [...decide(names, rules, undefined, seen)];
    },
  };
}

/**
 * The rules applied to a batch of names: validity and shard, then, where the version is known,
 * from-version and the target. `version` gives a name's version, null when the listing lacks it,
 * or is absent when versions are not known.
 */
function* decide(
  names: readonly string[],
  rules: SelectionRules,
  version?: (name: string) => VersionInfo | null | undefined,
  seen?: Set<string>,
): Generator<SelectedInstance> {
  const sel = selectInstances(names, rules.shard ? { shard: rules.shard } : {});
  for (const i of sel.invalid) {
    if (seen?.has(i.name)) continue;
    seen?.add(i.name);
    // A bad name may be a whole line of garbage: shown cut short and escaped wherever it is reported.
    yield { name: quoteUntrusted(i.name, SHOWN_NAME_CHARS), decided: { outcome: "failed", reason: `invalid name: ${quoteUntrusted(i.reason, 300)}` } };
  }
  for (const name of sel.valid) {
    if (seen?.has(name)) continue;
    seen?.add(name);
    const v = version?.(name);
    if (v === undefined) {
      yield { name };
    } else if (v === null) {
      yield { name, decided: { outcome: "failed", reason: "HTTP 404: no such instance in the machine's listing" } };
    } else if (v.id === rules.targetId) {
      yield { name, version: v, decided: { outcome: "skipped", reason: "already on the target version" } };
    } else if (rules.fromId !== undefined && v.id !== rules.fromId) {
      yield { name, version: v, decided: { outcome: "skipped", reason: "not on from-version" } };
    } else {
      yield { name, version: v };
    }
  }
}

/** Every instance's version, one shared record per version (so 100,000 instances hold a few). */
async function listingVersions(api: StateBackedApi, machine: string): Promise<Map<string, VersionInfo>> {
  const interned = new Map<string, VersionInfo>();
  const out = new Map<string, VersionInfo>();
  for await (const page of api.listInstances(machine)) {
    for (const i of page) {
      const v = versionOf(i);
      let shared = interned.get(v.id);
      if (!shared) interned.set(v.id, (shared = v));
      out.set(i.slug, shared);
    }
  }
  return out;
}

function versionOf(i: InstanceInfo): VersionInfo {
  const v = i.machineVersion;
  return { id: v.id, createdAt: v.createdAt, clientInfo: v.clientInfo };
}
