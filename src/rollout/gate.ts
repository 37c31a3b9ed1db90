import { type Clock, abortReason } from "../runtime/clock.ts";

/**
 * The health gate judged after each wave's soak: how many `stderr` log entries the target
 * version wrote since the wave started, and which share of the instances the wave updated runs
 * the target by the end of the soak. Reading is injected, so this file needs no HTTP.
 */

/** One log entry as `GET /logs` returns it (only the fields the gate reads). */
export interface LogEntryLike {
  timestamp: string;
  instanceName: string;
  machineVersionId: string;
  outputType: string;
  log: string;
}

/** One answer of `GET /logs`. */
export interface LogPageLike {
  maxTimestamp: string;
  logs: readonly LogEntryLike[];
}

export interface ErrorLogReading {
  /** stderr entries of the version at or after the wave's start. */
  count: number;
  /** False when the logs had not reached the end of the soak when the reading stopped. */
  complete: boolean;
  /** Calls made. */
  reads: number;
  /** The first few stderr entries, for the summary (raw: escape before showing). */
  samples: { instance: string; log: string }[];
}

export interface ReadErrorLogsOptions {
  /** One call of `GET /logs` from the given ISO time (machine and version filters applied by the caller). */
  read(fromIso: string, signal: AbortSignal): Promise<LogPageLike>;
  /** The target version: only its entries count. */
  versionId: string;
  /** The wave's start (ms). */
  sinceMs: number;
  /** The end of the soak (ms): the logs must reach past it. */
  untilMs: number;
  /** How long past `untilMs` to wait for the logs to arrive; default two minutes. */
  extraWaitMs?: number;
  /** The wait between calls once every available entry is read. */
  pollMs: number;
  clock: Clock;
  signal: AbortSignal;
  /** A bound on the calls, whatever the server answers; default 5,000 (500,000 entries). */
  maxReads?: number;
  /** Told before each wait for logs to arrive. */
  onWait?(msLeft: number): void;
}

export const LOG_EXTRA_WAIT_MS = 120_000;
const MAX_SAMPLES = 5;

/**
 * Reads the logs from the wave's start until the returned `maxTimestamp` has passed the end of
 * the soak, paging with `from = maxTimestamp`. When an answer's `maxTimestamp` equals the `from`
 * sent, every available entry has been read: it waits `pollMs` and asks again, until
 * `extraWaitMs` after the soak's end, then gives what it has with `complete: false`. Entries at
 * the boundary instant that a server returns twice are counted once.
 */
export async function readErrorLogs(o: ReadErrorLogsOptions): Promise<ErrorLogReading> {
  const deadline = o.untilMs + (o.extraWaitMs ?? LOG_EXTRA_WAIT_MS);
  const maxReads = o.maxReads ?? 5000;
  const result: ErrorLogReading = { count: 0, complete: false, reads: 0, samples: [] };
  let from = o.sinceMs;
  // Keys of the entries already counted at the instant `from` (a `from` is inclusive).
  let atBoundary = new Set<string>();
  for (;;) {
    if (o.signal.aborted) throw abortReason(o.signal);
    if (result.reads >= maxReads) return result;
    const page = await o.read(new Date(from).toISOString(), o.signal);
    result.reads++;
    const max = Date.parse(page.maxTimestamp);
    if (!Number.isFinite(max)) throw new Error(`reading logs: the answer's maxTimestamp ${JSON.stringify(String(page.maxTimestamp).slice(0, 40))} is not a timestamp`);
    if (max < from) throw new Error(`reading logs: the answer's maxTimestamp ${page.maxTimestamp} is before the 'from' sent (${new Date(from).toISOString()})`);
    const nextBoundary = new Set<string>();
    for (const e of page.logs) {
      const t = Date.parse(e.timestamp);
      if (!Number.isFinite(t) || t < o.sinceMs) continue;
      const key = `${t}\n${e.instanceName}\n${e.machineVersionId}\n${e.outputType}\n${e.log}`;
      if (t === from && atBoundary.has(key)) continue;
      if (t === max) nextBoundary.add(key);
      if (e.outputType !== "stderr" || e.machineVersionId !== o.versionId) continue;
      result.count++;
      if (result.samples.length < MAX_SAMPLES) result.samples.push({ instance: e.instanceName, log: e.log });
    }
    if (max > o.untilMs) {
      result.complete = true;
      return result;
    }
    if (max > from) {
      // Still paging through a backlog: the deadline bounds that too (the count is then a floor).
      if (o.clock.now() > deadline) return result;
      from = max;
      atBoundary = nextBoundary;
      continue;
    }
    // Every available entry is read: wait for more, up to the deadline.
    for (const k of nextBoundary) atBoundary.add(k);
    const left = deadline - o.clock.now();
    if (left <= 0) return result;
    const wait = Math.min(o.pollMs, left);
    o.onWait?.(left);
    await o.clock.sleep(wait, o.signal);
  }
}

/** Counts, of the instances a wave updated, those that run the target (fed from the listing). */
export class UpgradeCount {
  private readonly updated: ReadonlySet<string>;
  private readonly target: string;
  private readonly seen = new Set<string>();
  upgraded = 0;
  constructor(updated: ReadonlySet<string>, target: string) {
    this.updated = updated;
    this.target = target;
  }
  /** One instance of the listing. */
  see(slug: string, versionId: string): void {
    if (!this.updated.has(slug) || this.seen.has(slug)) return;
    this.seen.add(slug);
    if (versionId === this.target) this.upgraded++;
  }
  /** Updated instances found in the listing (one deleted since is not counted). */
  get of(): number {
    return this.seen.size;
  }
}

export interface GateSettings {
  /** The most stderr entries allowed; undefined: not judged. */
  maxErrorLogs?: number;
  /** 0: not judged. */
  minUpgradedPercent: number;
}

export interface GateReading {
  errorLogs?: ErrorLogReading;
  upgraded?: { upgraded: number; of: number };
}

export interface GateVerdict {
  passed: boolean;
  /** Why it halted, e.g. `14 error logs from v1.3.0 > max-error-logs 0`. */
  reason?: string;
  /** What a reader should know about the reading (incomplete logs…). */
  notes: string[];
}

/** Judges one wave's reading; `target` names the version as people know it (label or id). */
export function judgeGate(settings: GateSettings, reading: GateReading, target: string): GateVerdict {
  const reasons: string[] = [];
  const notes: string[] = [];
  const logs = reading.errorLogs;
  if (settings.maxErrorLogs !== undefined && logs) {
    if (logs.count > settings.maxErrorLogs) {
      reasons.push(`${logs.count} error log${logs.count === 1 ? "" : "s"} from ${target} > max-error-logs ${settings.maxErrorLogs}`);
    }
    if (!logs.complete) notes.push("judged on incomplete logs: they had not reached the end of the soak two minutes after it");
  }
  const up = reading.upgraded;
  if (settings.minUpgradedPercent > 0 && up) {
    if (up.of === 0) notes.push("no updated instance to judge the upgraded share on");
    else if (up.upgraded * 100 < settings.minUpgradedPercent * up.of) {
      reasons.push(`${up.upgraded} of ${up.of} updated instances (${percent(up.upgraded, up.of)}) run ${target} < min-upgraded-percent ${settings.minUpgradedPercent}`);
    }
  }
  return reasons.length > 0 ? { passed: false, reason: reasons.join("; "), notes } : { passed: true, notes };
}

/** `12%`, `99.5%`: a share for people, never rounded up to 100% unless it is. */
export function percent(part: number, whole: number): string {
  if (whole === 0) return "0%";
  const p = Math.floor((part * 1000) / whole) / 10;
  return `${Number.isInteger(p) ? p.toFixed(0) : p.toFixed(1)}%`;
}
