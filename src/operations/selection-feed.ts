import type { SelectedInstance, Selection } from "./instance-selection.ts";

/** The selection read in full, for a plan that needs every instance up front (a rollout in waves). */
export interface ChosenInstances {
  candidates: string[];
  /** The version each candidate runs, where the listing said it. */
  versions: Map<string, string>;
}

/**
 * Hands a selection to the engine: outcomes decided without a request are recorded as they are
 * read; the other instances are kept open (with their version, for the probe) until their outcome,
 * so the map holds no more than the engine's read-ahead and what it has in flight. A names list
 * known up front (no versions) is handed over as plain names: nothing is held open for it.
 */
export class SelectionFeed {
  readonly open = new Map<string, SelectedInstance>();
  private readonly selection: Selection;
  private readonly record: (o: { name: string; outcome: "skipped" | "failed"; reason: string }) => void;

  constructor(selection: Selection, record: (o: { name: string; outcome: "skipped" | "failed"; reason: string }) => void) {
    this.selection = selection;
    this.record = record;
  }

  /** The names to send, as the selection is read. */
  async *stream(): AsyncGenerator<string> {
    for await (const item of this.selection) {
      const name = this.take(item);
      if (name !== undefined) yield name;
    }
  }

  /** A names list known without a request, as a plain list; undefined when it must be read as it comes. */
  list(): string[] | undefined {
    const known = this.selection.known();
    if (!known) return undefined;
    const names: string[] = [];
    for (const item of known) {
      if (item.decided) this.record({ name: item.name, ...item.decided });
      // A name without a version carries nothing the name does not: not held open (100,000 of them would be).
      else names.push(item.name);
    }
    return names;
  }

  /** Every name to send, and the versions known, read in full. */
  async all(): Promise<ChosenInstances> {
    const chosen: ChosenInstances = { candidates: [], versions: new Map() };
    for await (const name of this.stream()) {
      chosen.candidates.push(name);
      const v = this.open.get(name)?.version;
      if (v) chosen.versions.set(name, v.id);
    }
    return chosen;
  }

  private take(item: SelectedInstance): string | undefined {
    if (item.decided) {
      this.record({ name: item.name, ...item.decided });
      return undefined;
    }
    if (this.open.has(item.name)) return undefined;
    this.open.set(item.name, item);
    return item.name;
  }
}
