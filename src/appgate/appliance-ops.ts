/**
 * The Controller calls one appliance's upgrade is made of, each safe to use while the appliance
 * (or the primary Controller itself) installs and reboots: connection errors, timeouts and 502
 * are waited out, a 503 ends the run (MisroutedError), a 412 or a lost answer to a change is
 * settled by reading the status again rather than by repeating the change blindly.
 */
import { TransportError } from "../http/retry.ts";
import type { Clock } from "../runtime/clock.ts";
import type { Logger } from "../runtime/logger.ts";
import { formatDuration } from "../report/markdown.ts";
import {
  type ApplianceLiveStatus,
  changeIdOf,
  type ChangeStatus,
  toChangeStatus,
  toUpgradeStatus,
  type UpgradeStatus,
} from "./api-types.ts";
import type { ControllerApi } from "./client.ts";
import { AppgateApiError, isFatal, messageOf } from "./errors.ts";
import { type Probe, pollUntil } from "./poll.ts";
import { readLiveStatus } from "./preflight.ts";
import type { UpgradeTimings } from "./timings.ts";
import { isCancelled } from "../runtime/clock.ts";

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
  /** Told of every change in what is seen (for the record's lastSeen). */
  onSeen?: (seen: string) => void;
}

export type StatusRead = { kind: "status"; status: UpgradeStatus } | { kind: "unreachable"; seen: string };

/** The short reason a call got no usable answer, or undefined when the error is a real refusal. */
export function unreachableReason(err: unknown): string | undefined {
  const expected = "(expected while it installs and reboots)";
  if (err instanceof TransportError) return `not answering: ${err.message.replace(/ \(.*$/s, "")} ${expected}`;
  if (err instanceof AppgateApiError && [500, 502, 504].includes(err.status)) return `not answering: HTTP ${err.status} ${expected}`;
  return undefined;
}

/** Reads the upgrade status once; "unreachable" while the appliance (or the Controller) is down. */
export async function readUpgradeStatus(d: OpsDeps, t: Target): Promise<StatusRead> {
  try {
    const body = await d.client.get(`/appliances/${t.id}/upgrade`, {
      what: `reading the upgrade status of ${t.name}`,
      timeoutMs: d.timings.requestTimeoutMs,
    });
    return { kind: "status", status: toUpgradeStatus(body) };
  } catch (err) {
    if (isFatal(err) || isCancelled(err, d.signal)) throw err;
    const why = unreachableReason(err);
    if (why !== undefined) return { kind: "unreachable", seen: why };
    // A 412 while the appliance changes state: it cannot say yet.
    if (err instanceof AppgateApiError && err.status === 412) return { kind: "unreachable", seen: "not answering (HTTP 412)" };
    throw err;
  }
}

function describe(s: UpgradeStatus): string {
  return s.status;
}

function progress(d: OpsDeps, t: Target): (seen: string, sinceMs: number) => void {
  return (seen, sinceMs) => {
    t.onSeen?.(seen);
    d.logger.info(sinceMs === 0 ? `${t.name}: ${seen}` : `${t.name}: still ${seen} (${formatDuration(sinceMs)})`);
  };
}

/**
 * Polls the upgrade status until `accept` says done (returns the status); `failed` ends the
 * wait with an error. Unreachable answers are waited out until the deadline.
 */
export async function waitUpgradeStatus(
  d: OpsDeps,
  t: Target,
  awaiting: string,
  accept: (s: UpgradeStatus) => boolean,
  delayFirst: boolean,
): Promise<UpgradeStatus> {
  return pollUntil<UpgradeStatus>(
    async (): Promise<Probe<UpgradeStatus>> => {
      const r = await readUpgradeStatus(d, t);
      if (r.kind === "unreachable") return { done: false, seen: r.seen };
      if (accept(r.status)) return { done: true, value: r.status };
      if (r.status.status === "failed") {
        throw new Error(`the upgrade failed${r.status.details ? `: ${r.status.details}` : ""} (upgrade status failed)`);
      }
      return { done: false, seen: describe(r.status) };
    },
    {
      clock: d.clock,
      signal: d.signal,
      backoff: { initialMs: d.timings.pollInitialMs, maxMs: d.timings.pollMaxMs },
      deadline: t.deadline,
      awaiting: `${t.name} to reach ${awaiting}`,
      delayFirst,
      onSeen: progress(d, t),
      heartbeatMs: d.timings.heartbeatMs,
    },
  );
}

/** The upgrade status as soon as the appliance answers. */
export function readWhenReachable(d: OpsDeps, t: Target): Promise<UpgradeStatus> {
  return waitUpgradeStatus(d, t, "an answer to the upgrade status", () => true, false);
}

export interface ChangeRequest {
  path: string;
  body?: unknown;
  what: string;
  /** Given the status read after a refused or unanswered request: did the change happen anyway? */
  happened: (s: UpgradeStatus) => boolean;
  /** May the request be sent again in this status? */
  mayRetry: (s: UpgradeStatus) => boolean;
}

/**
 * Asks for a change (complete, switch-partition). A 202 is done. On a 412 or a lost answer, the
 * status is read again: if it moved on, the change was accepted; if it still allows the change,
 * the request is sent again (up to changeAttempts); otherwise the refusal is the answer.
 * Returns the change id when the Controller gave one.
 */
export async function requestUpgradeChange(d: OpsDeps, t: Target, req: ChangeRequest): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    let failure: unknown;
    try {
      const body = await d.client.post(req.path, {
        what: req.what,
        timeoutMs: d.timings.requestTimeoutMs,
        ...(req.body !== undefined ? { body: req.body } : {}),
      });
      return changeIdOf(body);
    } catch (err) {
      if (isFatal(err) || isCancelled(err, d.signal)) throw err;
      const lost = unreachableReason(err) !== undefined;
      const refused = err instanceof AppgateApiError && err.status === 412;
      if (!lost && !refused) throw err;
      failure = err;
    }
    d.logger.info(`${t.name}: ${messageOf(failure)}; reading the upgrade status again before anything else`);
    const s = await readWhenReachable(d, t);
    if (req.happened(s)) {
      d.logger.info(`${t.name}: upgrade status is now '${s.status}': the request was accepted`);
      return undefined;
    }
    if (!req.mayRetry(s) || attempt >= d.timings.changeAttempts) {
      throw new Error(`${messageOf(failure)} (upgrade status: ${s.status}${s.details ? `, ${s.details}` : ""})`);
    }
    await d.clock.sleep(d.timings.pollInitialMs, d.signal);
  }
}

/** Polls an appliance change until it is no longer running; its result must be success. */
export async function waitChange(d: OpsDeps, t: Target, changeId: string, what: string): Promise<ChangeStatus> {
  const change = await pollUntil<ChangeStatus>(
    async () => {
      try {
        const c = toChangeStatus(
          await d.client.get(`/appliances/${t.id}/change/${encodeURIComponent(changeId)}`, {
            what: `following ${what} on ${t.name}`,
            timeoutMs: d.timings.requestTimeoutMs,
          }),
        );
        return c.status === "running" || c.status === "" ? { done: false, seen: `${what}: running` } : { done: true, value: c };
      } catch (err) {
        if (isFatal(err) || isCancelled(err, d.signal)) throw err;
        const why = unreachableReason(err);
        if (why !== undefined) return { done: false, seen: why };
        throw err;
      }
    },
    {
      clock: d.clock,
      signal: d.signal,
      backoff: { initialMs: d.timings.pollInitialMs, maxMs: d.timings.pollMaxMs },
      deadline: t.deadline,
      awaiting: `${what} on ${t.name} to finish`,
      delayFirst: true,
      heartbeatMs: d.timings.heartbeatMs,
      onSeen: progress(d, t),
    },
  );
  if (change.result !== "success") {
    throw new Error(`${what} ${change.result || "did not succeed"}${change.details ? `: ${change.details}` : ""}`);
  }
  return change;
}

/** Polls GET /appliances/status until `accept` likes this appliance's entry. */
export async function waitLive(
  d: OpsDeps,
  t: Target,
  awaiting: string,
  accept: (s: ApplianceLiveStatus) => boolean,
  show: (s: ApplianceLiveStatus) => string,
): Promise<ApplianceLiveStatus> {
  return pollUntil<ApplianceLiveStatus>(
    async () => {
      try {
        const all = await readLiveStatus(d.client, `reading appliance status for ${t.name}`, "none", d.timings.requestTimeoutMs);
        const s = all.get(t.id);
        if (!s) return { done: false, seen: "missing from the status list" };
        return accept(s) ? { done: true, value: s } : { done: false, seen: show(s) };
      } catch (err) {
        if (isFatal(err) || isCancelled(err, d.signal)) throw err;
        const why = unreachableReason(err);
        if (why !== undefined) return { done: false, seen: why };
        throw err;
      }
    },
    {
      clock: d.clock,
      signal: d.signal,
      backoff: { initialMs: d.timings.pollInitialMs, maxMs: d.timings.pollMaxMs },
      deadline: t.deadline,
      awaiting: `${t.name} to be ${awaiting}`,
      heartbeatMs: d.timings.heartbeatMs,
      onSeen: progress(d, t),
    },
  );
}

/**
 * Turns a Controller's maintenance mode on or off and waits for the change. A 412 or a lost
 * answer is settled by reading whether maintenance mode already is as wanted.
 */
export async function setMaintenance(d: OpsDeps, t: Target, enabled: boolean): Promise<void> {
  const what = `maintenance mode ${enabled ? "on" : "off"}`;
  for (let attempt = 1; ; attempt++) {
    let failure: unknown;
    try {
      const body = await d.client.post(`/appliances/${t.id}/maintenance`, {
        what: `turning ${what} for ${t.name}`,
        body: { enabled },
        timeoutMs: d.timings.requestTimeoutMs,
      });
      const changeId = changeIdOf(body);
      if (changeId !== undefined) await waitChange(d, t, changeId, what);
      return;
    } catch (err) {
      if (isFatal(err) || isCancelled(err, d.signal)) throw err;
      const lost = unreachableReason(err) !== undefined;
      const refused = err instanceof AppgateApiError && err.status === 412;
      if (!lost && !refused) throw err;
      failure = err;
    }
    const s = await waitLive(d, t, "listed", () => true, () => "");
    if (s.maintenanceMode === enabled) return;
    if (attempt >= d.timings.changeAttempts) throw failure instanceof Error ? failure : new Error(String(failure));
    await d.clock.sleep(d.timings.pollInitialMs, d.signal);
  }
}
