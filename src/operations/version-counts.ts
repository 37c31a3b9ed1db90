import { code, table } from "../report/markdown.ts";
import type { VersionInfo } from "../statebacked/api.ts";
import type { Selection } from "./instance-selection.ts";

/** Instances counted by their current version, for "where the selection stood before the run". */
export class VersionCounts {
  private readonly counts = new Map<string, { version: VersionInfo; count: number }>();
  total = 0;

  add(v: VersionInfo): void {
    const e = this.counts.get(v.id);
    if (e) e.count++;
    else this.counts.set(v.id, { version: v, count: 1 });
    this.total++;
  }

  /** The label of a version seen in the selection. */
  labelOf(id: string): string | undefined {
    return this.counts.get(id)?.version.clientInfo;
  }

  /** Most instances first. */
  entries(): { version: VersionInfo; count: number }[] {
    return [...this.counts.values()].sort((a, b) => b.count - a.count || a.version.id.localeCompare(b.version.id));
  }

  /** Passes a selection through, counting each instance whose version is known. */
  counting(selection: Selection): Selection {
    const add = (v: VersionInfo | undefined): void => {
      if (v) this.add(v);
    };
    return {
      startFirstPage: () => selection.startFirstPage(),
      async *[Symbol.asyncIterator]() {
        for await (const item of selection) {
          add(item.version);
          yield item;
        }
      },
      known: () => {
        const items = selection.known();
        for (const item of items ?? []) add(item.version);
        return items;
      },
      *unread() {
        for (const item of selection.unread()) {
          add(item.version);
          yield item;
        }
      },
    };
  }

  /** The selection's versions before the run next to the target; empty when no version was known. */
  section(target: { id: string; clientInfo?: string | undefined }): string {
    if (this.total === 0) return "";
    const rows = this.entries().map(({ version, count }) => [
      `${code(version.clientInfo)}${version.id === target.id ? " (target)" : ""}`,
      code(version.id),
      count,
    ]);
    return (
      `#### Versions before the run\n\n${table(["Label", "Version", "Instances"], rows, 50)}\n\n` +
      `Target: ${code(target.clientInfo ?? target.id)} (${code(target.id)}). Instances move to the target at their next event, not at once.`
    );
  }
}
