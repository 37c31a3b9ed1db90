/**
 * The calls one appliance's upgrade is made of, on virtual time against a scripted Controller:
 * following a change, reading the status list of a big (slow) collective, what counts as
 * "not answering yet".
 */
import { describe, expect, it } from "vitest";
import { type OpsDeps, type Target, unreachableReason, waitChange, waitLive } from "../../src/appgate/run/waits.ts";
import type { ApplianceRef, ControllerApi, RequestOptions } from "../../src/appgate/api/client.ts";
import { type ApplianceInfo, type ApplianceLiveStatus, type ChangeStatus, toChangeStatus, toLiveStatus, type UpgradeStatus } from "../../src/appgate/api/wire.ts";
import { AppgateApiError } from "../../src/appgate/api/errors.ts";
import { DEFAULT_TIMINGS } from "../../src/appgate/run/timings.ts";
import { TransportError } from "../../src/http/retry.ts";
import { MemoryLogger } from "../../src/runtime/logger.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

/** Answers reads of changes and of the status list from a script (one entry per call; the last one repeats) and records them. */
class Scripted implements ControllerApi {
  calls: { op: string; name?: string; timeoutMs?: number }[] = [];
  private readonly answers: (() => unknown)[];
  constructor(answers: (() => unknown)[]) {
    this.answers = answers;
  }
  private next(op: string, o: RequestOptions, name?: string): unknown {
    this.calls.push({ op, ...(name !== undefined ? { name } : {}), ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) });
    return this.answers[Math.min(this.calls.length - 1, this.answers.length - 1)]!();
  }
  async change(_a: ApplianceRef, _id: string, _about: string, o: RequestOptions = {}): Promise<ChangeStatus> {
    return toChangeStatus(this.next("change", o));
  }
  async liveStatus(o: RequestOptions & { name?: string } = {}): Promise<Map<string, ApplianceLiveStatus>> {
    const body = this.next("liveStatus", o, o.name) as { data: unknown[] };
    return new Map(body.data.map(toLiveStatus).filter((x) => x !== undefined).map((x) => [x.id, x]));
  }
  appliances(): Promise<ApplianceInfo[]> {
    throw new Error("not expected");
  }
  upgradeStatus(): Promise<UpgradeStatus> {
    throw new Error("not expected");
  }
  completeUpgrade(): Promise<string | undefined> {
    throw new Error("no change expected");
  }
  switchPartition(): Promise<string | undefined> {
    throw new Error("no change expected");
  }
  setMaintenance(): Promise<string | undefined> {
    throw new Error("no change expected");
  }
}

function setup(answers: (() => unknown)[]): { clock: FakeClock; client: Scripted; d: OpsDeps; t: Target } {
  const clock = new FakeClock();
  const client = new Scripted(answers);
  const d: OpsDeps = { client, clock, signal: new AbortController().signal, logger: new MemoryLogger(), timings: DEFAULT_TIMINGS };
  return { clock, client, d, t: { id: "id-ctrl-2", name: "ctrl-2", deadline: clock.now() + 30 * 60_000 } };
}

const change = (status: string, result: string, details = "") => () => ({ id: "c-1", status, result, details });

describe("waitChange", () => {
  it("keeps polling while the change is running or completed without a result yet (as sdpctl does)", async () => {
    const { clock, client, d, t } = setup([change("running", ""), change("completed", ""), change("completed", ""), change("completed", "success")]);
    const c = await clock.run(waitChange(d, t, "c-1", "maintenance mode off"));
    expect(c.result).toBe("success");
    expect(client.calls).toHaveLength(4);
  });

  it("fails only on a result `failure`, with its details", async () => {
    const { clock, d, t } = setup([change("running", ""), change("completed", "failure", "disk full")]);
    await expect(clock.run(waitChange(d, t, "c-1", "maintenance mode off"))).rejects.toThrow("maintenance mode off failed: disk full");
  });
});

describe("waitLive", () => {
  const timedOut = (): never => {
    throw new TransportError("request timed out (no answer within 5000 ms)", "ETIMEDOUT", false, true);
  };
  const entry = () => ({ data: [{ id: "id-ctrl-2", status: "healthy", state: "controller_ready", details: { volumeNumber: 2 } }] });

  it("reads only this appliance's entry (the spec's filterBy) and gives a slow status list twice the time after each timeout", async () => {
    const { clock, client, d, t } = setup([timedOut, timedOut, timedOut, timedOut, timedOut, entry]);
    const live = await clock.run(waitLive(d, t, "ready", (s) => s.status === "healthy", (s) => s.status));
    expect(live.volumeNumber).toBe(2);
    expect(client.calls.map((c) => c.timeoutMs)).toEqual([5_000, 10_000, 20_000, 40_000, 40_000, 40_000]);
    expect(client.calls.every((c) => c.op === "liveStatus" && c.name === "ctrl-2")).toBe(true);
  });
});

describe("unreachableReason", () => {
  it("waits out transient failures and 5xx, not a refused certificate, an unknown host or a 404", () => {
    expect(unreachableReason(new TransportError("connection refused (x)", "ECONNREFUSED", true, true))).toMatch(/^not answering: connection refused/);
    expect(unreachableReason(new TransportError("request timed out (x)", "ETIMEDOUT", false, true))).toMatch(/^not answering: request timed out/);
    expect(unreachableReason(new AppgateApiError("reading", 502))).toBe("not answering: HTTP 502 (expected while it installs and reboots)");
    expect(unreachableReason(new TransportError("network error (self-signed certificate)", "DEPTH_ZERO_SELF_SIGNED_CERT", false, false))).toBeUndefined();
    expect(unreachableReason(new TransportError("host not found (x)", "ENOTFOUND", false, false))).toBeUndefined();
    expect(unreachableReason(new AppgateApiError("reading", 404))).toBeUndefined();
  });
});
