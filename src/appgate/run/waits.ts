/**
 * Reading and waiting on one appliance through the Controller, safe to use while the appliance
 * (or the primary Controller itself) installs and reboots: transient failures (connection
 * errors, timeouts, 502) are waited out until the deadline, a 503 ends the run
 * (MisroutedError), anything else (a TLS certificate refused, an unknown host, a 404) is an
 * error at once.
 */
import { isTransientStatus, TransportError } from "../../http/retry.ts";
import { formatDuration } from "../../runtime/duration.ts";
import type { Clock } from "../../runtime/clock.ts";
import { isCancelled } from "../../runtime/clock.ts";
import type { Logger } from "../../runtime/logger.ts";
import type { ApplianceLiveStatus, ChangeStatus, UpgradeStatus } from "../api/wire.ts";
import type { ControllerApi } from "../api/client.ts";
import { AppgateApiError, isFatal } from "../api/errors.ts";
import { type PollOptions, type Probe, pollUntil } from "./poll.ts";
import { MAX_TIMEOUT_GROWTH, type UpgradeTimings } from "./timings.ts";

export interface OpsDeps {
  client: ControllerApi;
  clock: Clock;
  signal: AbortSignal;
  logger: Logger;
  timings: UpgradeTimings;
}

/** One appliance's view: its id, its name for messages, and its deadline. */
export interface Target {
  id: string;
  name: string;
  deadline: number;
  /** The primary Controller: a change whose answer was lost is never sent to it again. */
  isPrimary?: boolean;
  /** Told of every change in what is seen, and of the awaited answer (for the record's lastSeen). */
  onSeen?: (seen: string) => void;
}

/** A request that timed out (its answer may still come: the server is slow, not gone). */
export function isTimeout(err: unknown): boolean {
  return err instanceof TransportError && (/TIMEOUT|TIMEDOUT/i.test(err.code) || /timed out/i.test(err.message));
}

/**
 * The short reason a call got no usable answer, when that is expected while an appliance
 * installs and reboots (transient network failures, 5xx); undefined for a real refusal or a
 * failure that waiting will not mend.
 */
export function unreachableReason(err: unknown): string | undefined {
  const expected = "(expected while it installs and reboots)";
  if (err instanceof TransportError) {
    return err.transient || isTimeout(err) ? `not answering: ${err.message.replace(/ \(.*$/s, "")} ${expected}` : undefined;
  }
  if (err instanceof AppgateApiError && isTransientStatus(err.status)) return `not answering: HTTP ${err.status} ${expected}`;
  return undefined;
}

/** A 412 on a read while the appliance changes state: it cannot say yet. */
function refusedWhileChanging(err: unknown): string | undefined {
  return err instanceof AppgateApiError && err.status === 412 ? "not answering (HTTP 412)" : undefined;
}

export type Reached<T> = { ok: true; value: T } | { ok: false; seen: string };

/** Makes one call; an expected "not reachable now" becomes `{ ok: false }`, anything else is thrown. */
export async function reach<T>(d: Pick<OpsDeps, "signal">, call: () => Promise<T>, alsoUnreachable?: (err: unknown) => string | undefined): Promise<Reached<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    if (isFatal(err) || isCancelled(err, d.signal)) throw err;
    const why = unreachableReason(err) ?? alsoUnreachable?.(err);
    if (why !== undefined) return { ok: false, seen: why };
    throw err;
  }
}

function progress(d: Pick<OpsDeps, "logger">, t: Target): (seen: string, sinceMs: number) => void {
  return (seen, sinceMs) => {
    t.onSeen?.(seen);
    d.logger.info(sinceMs === 0 ? `${t.name}: ${seen}` : `${t.name}: still ${seen} (${formatDuration(sinceMs)})`);
  };
}

/** Poll options for one appliance: the run's backoff and heartbeat, the appliance's deadline. */
export function pollOptions(d: Omit<OpsDeps, "client">, t: Target, awaiting: string, delayFirst = false): PollOptions {
  return {
    clock: d.clock,
    signal: d.signal,
    backoff: { initialMs: d.timings.pollInitialMs, maxMs: d.timings.pollMaxMs },
    deadline: t.deadline,
    awaiting,
    delayFirst,
    heartbeatMs: d.timings.heartbeatMs,
    onSeen: progress(d, t),
  };
}

/** Polls `read` until `judge` says done; unreachable reads are waited out until the deadline. */
function pollReachable<R, T>(
  d: OpsDeps,
  t: Target,
  awaiting: string,
  read: () => Promise<R>,
  judge: (r: R) => Probe<T>,
  opts: { delayFirst?: boolean; alsoUnreachable?: (err: unknown) => string | undefined } = {},
): Promise<T> {
  return pollUntil<T>(async () => {
    const r = await reach(d, read, opts.alsoUnreachable);
    if (!r.ok) return { done: false, seen: r.seen };
    const p = judge(r.value);
    // The awaited answer is what was seen last, too (not the answer before it).
    if (p.done && p.seen !== undefined) t.onSeen?.(p.seen);
    return p;
  }, pollOptions(d, t, awaiting, opts.delayFirst));
}

/** The upgrade status once. */
export function getUpgradeStatus(d: OpsDeps, t: Target): Promise<UpgradeStatus> {
  return d.client.upgradeStatus(t, { timeoutMs: d.timings.requestTimeoutMs });
}

/** Reads the upgrade status once, as `reach` does (a 412 counts as not answering yet). */
export function reachUpgradeStatus(d: OpsDeps, t: Target): Promise<Reached<UpgradeStatus>> {
  return reach(d, () => getUpgradeStatus(d, t), refusedWhileChanging);
}

/**
 * Polls the upgrade status until `accept` says done (returns the status); `failed` ends the
 * wait with an error.
 */
export function waitUpgradeStatus(
  d: OpsDeps,
  t: Target,
  awaiting: string,
  accept: (s: UpgradeStatus) => boolean,
  delayFirst: boolean,
): Promise<UpgradeStatus> {
  return pollReachable(
    d,
    t,
    `${t.name} to reach ${awaiting}`,
    () => getUpgradeStatus(d, t),
    (s): Probe<UpgradeStatus> => {
      if (accept(s)) return { done: true, value: s, seen: s.status };
      if (s.status === "failed") throw new Error(`the upgrade failed${s.details ? `: ${s.details}` : ""} (upgrade status failed)`);
      return { done: false, seen: s.status };
    },
    { delayFirst, alsoUnreachable: refusedWhileChanging },
  );
}

/** The upgrade status as soon as the appliance answers. */
export function readWhenReachable(d: OpsDeps, t: Target): Promise<UpgradeStatus> {
  return waitUpgradeStatus(d, t, "an answer to the upgrade status", () => true, false);
}

/**
 * Polls an appliance change until its result is `success` (as sdpctl does: `running`, or a
 * status without a result yet, is waited on); a result `failure` is an error.
 */
export function waitChange(d: OpsDeps, t: Target, changeId: string, what: string): Promise<ChangeStatus> {
  return pollReachable(
    d,
    t,
    `${what} on ${t.name} to finish`,
    () => d.client.change(t, changeId, what, { timeoutMs: d.timings.requestTimeoutMs }),
    (c): Probe<ChangeStatus> => {
      if (c.result === "success") return { done: true, value: c, seen: `${what}: done` };
      if (c.result === "failure") throw new Error(`${what} failed${c.details ? `: ${c.details}` : ""}`);
      return { done: false, seen: `${what}: ${c.status || "no status yet"}` };
    },
    { delayFirst: true },
  );
}

/** This appliance's status-list entry (the list filtered by its name; picked by id). */
export async function readLive(d: OpsDeps, t: Target, timeoutMs = d.timings.requestTimeoutMs): Promise<ApplianceLiveStatus | undefined> {
  const all = await d.client.liveStatus({ timeoutMs, name: t.name });
  return all.get(t.id);
}

/**
 * Polls the appliance's status-list entry until `accept` likes it. The list can be slow on a
 * big collective: after a read times out, the next one gets twice the time (up to a cap).
 */
export function waitLive(
  d: OpsDeps,
  t: Target,
  awaiting: string,
  accept: (s: ApplianceLiveStatus) => boolean,
  show: (s: ApplianceLiveStatus) => string,
): Promise<ApplianceLiveStatus> {
  const base = d.timings.requestTimeoutMs;
  let timeoutMs = base;
  const read = async (): Promise<ApplianceLiveStatus | undefined> => {
    try {
      return await readLive(d, t, timeoutMs);
    } catch (err) {
      if (isTimeout(err)) timeoutMs = Math.min(timeoutMs * 2, base * MAX_TIMEOUT_GROWTH);
      throw err;
    }
  };
  return pollReachable(d, t, `${t.name} to be ${awaiting}`, read, (s): Probe<ApplianceLiveStatus> => {
    if (!s) return { done: false, seen: "missing from the status list" };
    return accept(s) ? { done: true, value: s, seen: show(s) } : { done: false, seen: show(s) };
  });
}
