/**
 * The fake's log store for `GET /logs`, as the spec and the official client describe it:
 * - `from` is required and inclusive, `to` optional; both ISO-8601 timestamps;
 * - filters `machine`, `instance`, `version`; at most 100 entries an answer (fewer when asked);
 * - entries become readable `delayMs` after they are written (about a minute on the real
 *   service), and are released in whole seconds (a partition), so repeated calls within one
 *   second answer `maxTimestamp` equal to the `from` sent: "you have all the logs currently
 *   available";
 * - every answer covers `[from, maxTimestamp)`: paging with `from = maxTimestamp` neither skips nor
 *   repeats an entry.
 * Entries get strictly increasing timestamps (one millisecond apart at least), so an answer cut
 * after 100 entries ends between two instants.
 */

export interface LogRec {
  t: number;
  orgId: string;
  machineName: string;
  instanceName: string;
  machineVersionId: string;
  outputType: "stdout" | "stderr";
  log: string;
}

export interface LogQuery {
  from: number;
  to?: number;
  machine?: string;
  instance?: string;
  version?: string;
}

export const LOG_PAGE_MAX = 100;
const PARTITION_MS = 1000;

export class LogStore {
  readonly entries: LogRec[] = [];
  /** How long after it is written an entry becomes readable. */
  delayMs: number;
  /** Entries per answer (at most 100, as the service). */
  pageSize = LOG_PAGE_MAX;
  private last = 0;

  constructor(delayMs: number) {
    this.delayMs = delayMs;
  }

  write(rec: Omit<LogRec, "t"> & { t: number }): LogRec {
    const t = Math.max(rec.t, this.last + 1);
    this.last = t;
    const stored = { ...rec, t };
    this.entries.push(stored);
    return stored;
  }

  /** One answer for `q` at time `now`. */
  page(q: LogQuery, now: number): { maxTimestamp: string; logs: Record<string, string>[] } {
    // The readable horizon, in whole partitions: entries before it are readable.
    const horizon = Math.floor((now - this.delayMs) / PARTITION_MS) * PARTITION_MS;
    const end = q.to !== undefined ? Math.min(horizon, q.to + 1) : horizon;
    const size = Math.min(this.pageSize, LOG_PAGE_MAX);
    const out: LogRec[] = [];
    let more = false;
    for (const e of this.entries) {
      if (e.t < q.from || e.t >= end) continue;
      if ((q.machine && e.machineName !== q.machine) || (q.instance && e.instanceName !== q.instance) || (q.version && e.machineVersionId !== q.version)) continue;
      if (out.length === size) {
        more = true;
        break;
      }
      out.push(e);
    }
    const max = more ? out.at(-1)!.t + 1 : Math.max(q.from, end);
    return {
      maxTimestamp: new Date(max).toISOString(),
      logs: out.map((e) => ({
        timestamp: new Date(e.t).toISOString(),
        orgId: e.orgId,
        machineName: e.machineName,
        instanceName: e.instanceName,
        machineVersionId: e.machineVersionId,
        outputType: e.outputType,
        log: e.log,
      })),
    };
  }
}

/** A strict ISO-8601 date-time (as `format: date-time`): `2026-11-29T22:00:00Z`, `…00.123+01:00`. */
export function parseIsoTimestamp(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value)) return undefined;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
}
