import type { LogStore } from "./logs.ts";
import type { InstanceRec, MachineRec } from "./model.ts";

/**
 * Test controls for what happens after a desired version is set: an instance runs it at its
 * next event (`afterMs` later, settled when the fake next answers a request, or at once with
 * `now`), and a version may write log lines when an instance starts running it.
 */
export class Upgrades {
  /** An instance runs its desired version this long after it was set; undefined: never by itself. */
  afterMs: number | undefined;
  /** What a version writes when an instance starts running it (entries per instance). */
  readonly versionLogs = new Map<string, { stderr?: number; stdout?: number }>();
  private pending: { machine: string; slug: string }[] = [];
  private readonly logs: LogStore;

  constructor(logs: LogStore) {
    this.logs = logs;
  }

  /** The desired version of an instance was just set. */
  noteDesired(machine: string, slug: string): void {
    if (this.afterMs !== undefined) this.pending.push({ machine, slug });
  }

  /** Moves the instances whose time has come. */
  settle(machines: ReadonlyMap<string, MachineRec>, now: number): void {
    if (this.afterMs === undefined || this.pending.length === 0) return;
    const left: { machine: string; slug: string }[] = [];
    for (const p of this.pending) {
      const inst = machines.get(p.machine)?.instances.get(p.slug);
      if (!inst || inst.desiredAt === undefined) continue;
      if (inst.desiredAt + this.afterMs <= now) this.move(p.machine, inst, now);
      else left.push(p);
    }
    this.pending = left;
  }

  /** Moves an instance to its desired version now; false when it has none or runs it already. */
  move(machine: string, inst: InstanceRec, now: number): boolean {
    const to = inst.desiredVersionId;
    if (to === undefined || to === inst.versionId) return false;
    inst.versionId = to;
    const script = this.versionLogs.get(to);
    const base = { t: now, orgId: "org_fake", machineName: machine, instanceName: inst.slug, machineVersionId: to };
    for (let i = 0; i < (script?.stdout ?? 0); i++) this.logs.write({ ...base, outputType: "stdout", log: `${inst.slug} started on ${to}` });
    for (let i = 0; i < (script?.stderr ?? 0); i++) this.logs.write({ ...base, outputType: "stderr", log: `Error: ${inst.slug} failed on ${to} (${i + 1})` });
    return true;
  }
}
