/**
 * Asking the Controller for a change (complete, switch-partition, maintenance mode) without ever
 * repeating it blindly. A 202 is done. A 412, or an answer lost on the way, is settled by
 * looking at the appliance again:
 * - it moved on: the change was accepted;
 * - after a 412 (a real answer) or a request that surely never left (connection refused), one
 *   look decides whether it may be sent again;
 * - after a lost answer the Controller may lag behind: a few looks first
 *   (timings.lostAnswerReads), and the primary Controller is never sent it again, only waited on
 *   (until its deadline).
 * A change is sent at most timings.changeAttempts times.
 */
import { TransportError } from "../../http/retry.ts";
import type { RequestOptions } from "../api/client.ts";
import type { UpgradeStatus } from "../api/wire.ts";
import { getUpgradeStatus, pollOptions, reach, readLive, type OpsDeps, type Target, unreachableReason, waitChange } from "./waits.ts";
import { AppgateApiError, isFatal, messageOf } from "../api/errors.ts";
import { pollUntil } from "./poll.ts";
import { isCancelled } from "../../runtime/clock.ts";

/** One look at the appliance after a refused or unanswered change request. */
export interface Look {
  /** The change took effect. */
  happened: boolean;
  /** The change may be sent again in this state. */
  mayRetry: boolean;
  /** What was seen, for messages ("upgrade status: ready"). */
  seen: string;
}

export interface ChangeCall {
  /** What is asked, for messages ("completing the upgrade of gw-1"). */
  what: string;
  /** What is looked at afterwards, for messages ("the upgrade status"). */
  lookingAt: string;
  /** Sends it; the change id when the Controller gives one. */
  send: () => Promise<string | undefined>;
  look: () => Promise<Look>;
}

/** Sends a change; returns its change id when the Controller gave one (none when settled by a look). */
export async function sendChange(d: OpsDeps, t: Target, c: ChangeCall): Promise<{ changeId?: string }> {
  for (let attempt = 1; ; attempt++) {
    let failure: unknown;
    try {
      const id = await c.send();
      t.onSeen?.(`${c.what}: accepted`);
      return id !== undefined ? { changeId: id } : {};
    } catch (err) {
      if (isFatal(err) || isCancelled(err, d.signal)) throw err;
      const refused = err instanceof AppgateApiError && err.status === 412;
      if (!refused && unreachableReason(err) === undefined) throw err;
      failure = err;
    }
    const neverSent = failure instanceof TransportError && failure.unsent;
    const lostAfterSending = !(failure instanceof AppgateApiError && failure.status === 412) && !neverSent;
    const looks = !lostAfterSending ? 1 : t.isPrimary ? Infinity : Math.max(1, d.timings.lostAnswerReads);
    d.logger.info(
      `${t.name}: ${messageOf(failure)}; reading ${c.lookingAt} again before anything else` +
        (lostAfterSending && t.isPrimary ? " (never sent again to the primary Controller: waiting for it instead)" : ""),
    );
    const look = await settle(d, t, c, looks);
    if (look.happened) {
      d.logger.info(`${t.name}: ${look.seen}; the request was accepted`);
      return {};
    }
    if (!look.mayRetry || attempt >= d.timings.changeAttempts) throw new Error(`${messageOf(failure)} (${look.seen})`);
    await d.clock.sleep(d.timings.pollInitialMs, d.signal);
  }
}

/** Looks (waiting out unreachable answers) until the change shows, it may not be sent again, or `maxLooks` are used up. */
function settle(d: OpsDeps, t: Target, c: ChangeCall, maxLooks: number): Promise<Look> {
  let looks = 0;
  return pollUntil<Look>(async () => {
    const r = await reach(d, c.look);
    if (!r.ok) return { done: false, seen: r.seen };
    looks++;
    if (r.value.happened || !r.value.mayRetry || looks >= maxLooks) {
      t.onSeen?.(r.value.seen);
      return { done: true, value: r.value };
    }
    return { done: false, seen: r.value.seen };
  }, pollOptions(d, t, `${t.name} to show whether ${c.what} was accepted`));
}

export interface UpgradeChange {
  /** Sends the request (complete or switch-partition) with these options. */
  send: (o: RequestOptions) => Promise<string | undefined>;
  what: string;
  /** Given the upgrade status read after a refused or unanswered request: did the change happen anyway? */
  happened: (s: UpgradeStatus) => boolean;
  /** May the request be sent again in this status? */
  mayRetry: (s: UpgradeStatus) => boolean;
}

/** complete or switch-partition, settled on the upgrade status. */
export function requestUpgradeChange(d: OpsDeps, t: Target, req: UpgradeChange): Promise<{ changeId?: string }> {
  return sendChange(d, t, {
    what: req.what,
    lookingAt: "the upgrade status",
    send: () => req.send({ timeoutMs: d.timings.requestTimeoutMs }),
    look: async () => {
      const s = await getUpgradeStatus(d, t);
      const seen = `upgrade status: ${s.status}${s.details ? `, ${s.details}` : ""}`;
      return { happened: req.happened(s), mayRetry: req.mayRetry(s), seen };
    },
  });
}

/**
 * Turns a Controller's maintenance mode on or off and waits for the change; settled on the status
 * list. `onRefused`: the request itself was answered with a refusal that ends it (not a 412, which
 * is settled by a look): the Controller did not take it.
 */
export async function setMaintenance(d: OpsDeps, t: Target, enabled: boolean, onRefused?: () => void): Promise<void> {
  const mode = `maintenance mode ${enabled ? "on" : "off"}`;
  const what = `turning ${mode} for ${t.name}`;
  const { changeId } = await sendChange(d, t, {
    what,
    lookingAt: "its maintenance mode",
    send: () =>
      d.client.setMaintenance(t, enabled, { timeoutMs: d.timings.requestTimeoutMs }).catch((err: unknown) => {
        if (err instanceof AppgateApiError && err.status !== 412 && unreachableReason(err) === undefined) onRefused?.();
        throw err;
      }),
    look: async () => {
      const s = await readLive(d, t);
      const on = s?.maintenanceMode;
      return { happened: on === enabled, mayRetry: true, seen: `maintenance mode ${on === undefined ? "unknown" : on ? "on" : "off"}` };
    },
  });
  if (changeId !== undefined) await waitChange(d, t, changeId, mode);
}
