import type { AttemptResult, ItemOutcome } from "../bulk/types.ts";
import { code, escapeCell, table } from "../report/markdown.ts";
import type { VersionInfo } from "../statebacked/api.ts";
import type { SendGate } from "./instance-bulk.ts";
import type { SelectedInstance } from "./instance-selection.ts";

/**
 * The migration-path probe of set-desired-version. Where an instance's current version is known,
 * the first instance of each version is sent alone; the others on that version wait for its
 * answer (deferred, holding no slot of the pool, so the probe's own retries always find one). `no-migration-path` closes the version: its other instances end failed without a
 * request. Where versions are not known, once `UNKNOWN_VERSION_STOP` instances have answered
 * `no-migration-path` and none has been updated, nothing more is sent.
 */

export const NO_MIGRATION_PATH = "no-migration-path";
export const UNKNOWN_VERSION_STOP = 5;

type VersionState =
  | { kind: "probing"; owner: string; released: Promise<void>; release: () => void }
  | { kind: "open" }
  | { kind: "closed"; count: number };

export class MigrationProbe implements SendGate {
  private readonly target: { id: string; clientInfo?: string | undefined };
  private readonly states = new Map<string, VersionState>();
  private readonly labels = new Map<string, VersionInfo>();
  private noPathUnknown = 0;
  private updated = 0;
  private notSent = 0;

  constructor(target: { id: string; clientInfo?: string | undefined }) {
    this.target = target;
  }

  /** Why an instance on `v` fails: the same words for the probe and the instances it spoke for. */
  reason(v: VersionInfo): string {
    return `no migration path from ${describe(v)} to ${describe(this.target)}`;
  }

  admit(item: SelectedInstance): AttemptResult | undefined {
    const v = item.version;
    if (!v) {
      if (!this.stopped) return undefined;
      this.notSent++;
      return { kind: "failed", reason: `not sent: ${UNKNOWN_VERSION_STOP} instances answered no-migration-path and none was updated`, code: "not-sent", notSent: true };
    }
    this.labels.set(v.id, v);
    const st = this.states.get(v.id);
    if (st === undefined) {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      this.states.set(v.id, { kind: "probing", owner: item.name, released, release });
      return undefined;
    }
    if (st.kind === "open" || (st.kind === "probing" && st.owner === item.name)) return undefined;
    if (st.kind === "closed") {
      st.count++;
      return { kind: "failed", reason: this.reason(v), code: NO_MIGRATION_PATH, notSent: true };
    }
    // Waits, holding no slot, for the probe's answer; then asks again.
    return { kind: "defer", until: st.released };
  }

  settled(item: SelectedInstance, o: ItemOutcome): void {
    const v = item.version;
    if (o.outcome === "succeeded") this.updated++;
    if (!v) {
      if (o.code === NO_MIGRATION_PATH && o.status !== undefined) this.noPathUnknown++;
      return;
    }
    const st = this.states.get(v.id);
    if (st?.kind !== "probing" || st.owner !== item.name) return;
    if (o.outcome === "succeeded") this.states.set(v.id, { kind: "open" });
    else if (o.code === NO_MIGRATION_PATH) this.states.set(v.id, { kind: "closed", count: 1 });
    // Anything else says nothing of the path: the next instance on this version probes again.
    else this.states.delete(v.id);
    st.release();
  }

  showsOwn(o: Pick<ItemOutcome, "code">): boolean {
    return o.code === NO_MIGRATION_PATH && this.closedCount() > 0;
  }

  /** The step's error: the migration to publish for each version without a path. */
  failure(): string | undefined {
    const closed = this.closed();
    if (closed.length > 0) {
      const each = closed.map(
        ([v, n]) => `${n} instance${n === 1 ? "" : "s"} on ${describe(v)}: publish a migration with operation: publish-migration, from-version: ${v.id}, to-version: ${this.target.id}`,
      );
      return `No migration path to ${describe(this.target)}. ${each.join("; ")}. Then run this step again (failed-instances lists the instances).`;
    }
    if (this.stopped && this.notSent > 0) {
      return (
        `${this.noPathUnknown} instances answered no-migration-path and none was updated, so ${this.notSent} were not sent: ` +
        `publish a migration to ${describe(this.target)} (operation: publish-migration, to-version: ${this.target.id}) from the version they run, then run this step again with failed-instances.`
      );
    }
    return undefined;
  }

  /** The summary section: one row per version without a path, with its count and the fix. */
  section(): string {
    const closed = this.closed();
    if (closed.length === 0) return "";
    const rows = closed.map(([v, n]) => [`${code(v.clientInfo)} (${code(v.id)})`, n, escapeCell(`publish-migration with from-version: ${v.id}, to-version: ${this.target.id}`)]);
    return `#### No migration path to ${code(this.target.clientInfo ?? this.target.id)}\n\nOne instance of each version was tried; the others on that version were not sent.\n\n${table(["From version", "Instances", "Fix"], rows)}`;
  }

  private get stopped(): boolean {
    return this.noPathUnknown >= UNKNOWN_VERSION_STOP && this.updated === 0;
  }

  private closed(): [VersionInfo, number][] {
    const out: [VersionInfo, number][] = [];
    for (const [id, st] of this.states) if (st.kind === "closed") out.push([this.labels.get(id)!, st.count]);
    return out.sort((a, b) => b[1] - a[1]);
  }

  private closedCount(): number {
    let n = 0;
    for (const st of this.states.values()) if (st.kind === "closed") n++;
    return n;
  }
}

function describe(v: { id: string; clientInfo?: string | undefined }): string {
  return v.clientInfo !== undefined ? `${v.clientInfo} (${v.id})` : v.id;
}
