/**
 * One appliance's upgrade on virtual time (FakeClock) against a scripted Controller: backoff,
 * deadlines, what is waited out and what is not, lost answers, cancellation, verification.
 */
import { describe, expect, it } from "vitest";
import type { ApplianceRef, ControllerApi, RequestOptions } from "../../src/appgate/api/client.ts";
import { type ApplianceInfo, type ApplianceLiveStatus, type ChangeStatus, toUpgradeStatus, type UpgradeStatus } from "../../src/appgate/api/wire.ts";
import { AppgateApiError, MisroutedError } from "../../src/appgate/api/errors.ts";
import type { PlannedAppliance } from "../../src/appgate/plan/model.ts";
import type { ApplianceRecord } from "../../src/appgate/run/records.ts";
import { DEFAULT_TIMINGS } from "../../src/appgate/run/timings.ts";
import { upgradeAppliance } from "../../src/appgate/run/upgrade-one.ts";
import { parseVersion } from "../../src/appgate/plan/version.ts";
import { TransportError } from "../../src/http/retry.ts";
import { MemoryLogger } from "../../src/runtime/logger.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const MIN = 60_000;

type Op = "upgradeStatus" | "liveStatus" | "complete" | "switch-partition" | "maintenance" | "change" | "appliances";
type WriteOp = "complete" | "switch-partition" | "maintenance";

/** A scripted appliance: the upgrade status as a function of virtual time since complete. */
class World implements ControllerApi {
  calls: { op: Op; id?: string; name?: string; at: number; body?: unknown; timeoutMs?: number }[] = [];
  completedAt: number | undefined;
  switchedAt: number | undefined;
  status = "ready";
  volume = 1;
  version = "6.4.2-31000";
  state = "appliance_ready";
  /** Overrides the answer to a read of the upgrade status (e.g. throw while rebooting). */
  onStatus: ((w: World) => unknown) | undefined;
  onPost: ((w: World, op: WriteOp) => unknown) | undefined;
  readonly clock: FakeClock;
  constructor(clock: FakeClock) {
    this.clock = clock;
  }

  private record(op: Op, o: RequestOptions, extra: { id?: string; name?: string; body?: unknown } = {}): void {
    this.calls.push({ op, at: this.clock.now(), ...extra, ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) });
  }

  /** The changes asked for, in order ("complete id-gw"). */
  writes(): string[] {
    return this.calls.filter((c) => c.op === "complete" || c.op === "switch-partition" || c.op === "maintenance").map((c) => `${c.op} ${c.id}`);
  }

  async appliances(o: RequestOptions = {}): Promise<ApplianceInfo[]> {
    this.record("appliances", o);
    throw new AppgateApiError("listing", 404);
  }

  async liveStatus(o: RequestOptions & { name?: string } = {}): Promise<Map<string, ApplianceLiveStatus>> {
    this.record("liveStatus", o, o.name !== undefined ? { name: o.name } : {});
    return new Map([["id-gw", { id: "id-gw", status: "healthy", state: this.state, applianceVersion: this.version, volumeNumber: this.volume }]]);
  }

  async upgradeStatus(a: ApplianceRef, o: RequestOptions = {}): Promise<UpgradeStatus> {
    this.record("upgradeStatus", o, { id: a.id });
    if (this.onStatus) return toUpgradeStatus(await this.onStatus(this));
    return { status: this.status, details: this.status === "ready" ? "appgate-6.5.0-32000-release.img.zip" : "" };
  }

  async completeUpgrade(a: ApplianceRef, switchPartition: boolean, o: RequestOptions = {}): Promise<string | undefined> {
    this.record("complete", o, { id: a.id, body: { switchPartition } });
    return this.post("complete");
  }

  async switchPartition(a: ApplianceRef, o: RequestOptions = {}): Promise<string | undefined> {
    this.record("switch-partition", o, { id: a.id });
    return this.post("switch-partition");
  }

  async setMaintenance(a: ApplianceRef, enabled: boolean, o: RequestOptions = {}): Promise<string | undefined> {
    this.record("maintenance", o, { id: a.id, body: { enabled } });
    return this.post("maintenance");
  }

  async change(a: ApplianceRef, changeId: string, _about: string, o: RequestOptions = {}): Promise<ChangeStatus> {
    this.record("change", o, { id: a.id });
    return { id: changeId, status: "completed", result: "success", details: "" };
  }

  private async post(op: WriteOp): Promise<string | undefined> {
    const answer = this.onPost ? await this.onPost(this, op) : this.accept(op);
    return (answer as { id?: string } | undefined)?.id;
  }

  accept(op: WriteOp): unknown {
    if (op === "complete") {
      if (this.status !== "ready") throw new AppgateApiError("complete", 412);
      this.completedAt = this.clock.now();
      this.status = "installing";
    } else if (op === "switch-partition") {
      if (this.status !== "success") throw new AppgateApiError("switch", 412);
      this.switchedAt = this.clock.now();
    }
    return { id: "change-1" };
  }

  /** After complete: installing for `install` ms, then success; after switch: down `reboot` ms, then idle on the new partition. */
  lifecycle(install: number, reboot: number, down: () => unknown = () => Promise.reject(new TransportError("connection refused (x)", "ECONNREFUSED", true, true))): void {
    this.onStatus = (w) => {
      const t = w.clock.now();
      if (w.switchedAt !== undefined) {
        if (t < w.switchedAt + reboot) return down();
        w.status = "idle";
        w.volume = 2;
        w.version = "6.5.0-32000";
      } else if (w.completedAt !== undefined && t >= w.completedAt + install) {
        w.status = "success";
      }
      return { status: w.status, details: "" };
    };
  }
}

const planned: PlannedAppliance = {
  id: "id-gw",
  name: "gw",
  role: "Gateway",
  site: "A",
  roles: ["gateway"],
  action: "complete",
  switchPartition: false,
  isPrimary: false,
  inMaintenance: false,
  target: parseVersion("6.5.0-32000")!,
  targetText: "appgate-6.5.0-32000-release.img.zip",
  startStatus: "ready",
  versionBefore: "6.4.2-31000",
  partitionBefore: 1,
};

function setup(timeoutMs = 30 * MIN, p: PlannedAppliance = planned) {
  const clock = new FakeClock();
  const sleeps: number[] = [];
  const sleep = clock.sleep.bind(clock);
  clock.sleep = (ms, signal) => {
    sleeps.push(ms);
    return sleep(ms, signal);
  };
  const world = new World(clock);
  const logger = new MemoryLogger();
  const controller = new AbortController();
  const rec: ApplianceRecord = { id: "id-gw", name: "gw", role: "Gateway", site: "A", outcome: "not-started", partitionBefore: 1, versionBefore: "6.4.2-31000" };
  const go = () =>
    upgradeAppliance(p, rec, {
      client: world,
      clock,
      signal: controller.signal,
      logger,
      timings: DEFAULT_TIMINGS,
      applianceTimeoutMs: timeoutMs,
    });
  return { clock, sleeps, world, logger, controller, rec, go };
}

describe("upgradeAppliance", () => {
  it("completes, polls with backoff 1 s doubling to 10 s (again from 1 s after a change), switches, verifies", async () => {
    const { clock, sleeps, world, rec, go } = setup();
    world.lifecycle(60_000, 20_000);
    const result = await clock.run(go());
    expect(result).toEqual({ asked: true });
    expect(rec).toMatchObject({ outcome: "upgraded", versionAfter: "6.5.0-32000", partitionAfter: 2 });
    // Install (60 s): 1+2+4+8+10+10+10+10+10 = 65 s of waiting to see success.
    expect(sleeps.slice(0, 9)).toEqual([1000, 2000, 4000, 8000, 10000, 10000, 10000, 10000, 10000]);
    expect(world.writes()).toEqual(["complete id-gw", "switch-partition id-gw"]);
    expect(world.calls[1]!.body).toEqual({ switchPartition: false });
    // Reboot (20 s): connection refused is waited out; the first refusal restarts the backoff.
    expect(world.switchedAt! - world.completedAt!).toBe(65_000);
    expect(rec.finishedAt! - rec.startedAt!).toBeLessThan(65_000 + 20_000 + 10_000);
  });

  it("waits out 502 and timeouts while the appliance reboots", async () => {
    const { clock, world, rec, go } = setup();
    let n = 0;
    world.lifecycle(5_000, 30_000, () => {
      n++;
      throw n % 2 ? new AppgateApiError("reading", 502) : new TransportError("request timed out (x)", "UND_ERR_HEADERS_TIMEOUT", false, true);
    });
    await clock.run(go());
    expect(rec.outcome).toBe("upgraded");
    expect(n).toBeGreaterThan(2);
  });

  it("fails after the appliance timeout, saying what it waited for and what it last saw", async () => {
    const { clock, world, rec, go, sleeps } = setup(30 * MIN);
    world.lifecycle(Infinity, 0);
    await clock.run(go());
    expect(rec.outcome).toBe("failed");
    expect(rec.reason).toBe("timed out after 1800 s waiting for gw to reach upgrade status success or idle (last seen: installing)");
    expect(clock.now() - rec.startedAt!).toBe(30 * MIN);
    expect(sleeps.length).toBeLessThan(30 * 6 + 10); // ~ every 10 s, not a busy loop
  });

  it("a 503 is fatal", async () => {
    const { clock, world, rec, go } = setup();
    world.onStatus = (w) => {
      if (w.completedAt !== undefined) throw new MisroutedError("reading the upgrade status of gw");
      return { status: "ready", details: "appgate-6.5.0-32000-release.img.zip" };
    };
    const result = await clock.run(go());
    expect(result.fatal).toBeInstanceOf(MisroutedError);
    expect(rec.outcome).toBe("failed");
  });

  it("a switch-partition whose answer is lost: the status is read again and the request is not repeated", async () => {
    const { clock, world, rec, go } = setup();
    world.lifecycle(3_000, 15_000);
    world.onPost = (w, op) => {
      w.accept(op);
      if (op === "switch-partition") throw new TransportError("connection dropped (socket hang up)", "UND_ERR_SOCKET", false, true);
      return { id: "c" };
    };
    await clock.run(go());
    expect(rec.outcome).toBe("upgraded");
    expect(world.calls.filter((c) => c.op === "switch-partition")).toHaveLength(1);
  });

  it("a complete refused with 412 while still ready is sent again, up to changeAttempts", async () => {
    const { clock, world, rec, go } = setup();
    world.onPost = () => {
      throw new AppgateApiError("completing the upgrade of gw", 412, "appliance_state_error", "busy");
    };
    await clock.run(go());
    expect(rec.outcome).toBe("failed");
    expect(world.calls.filter((c) => c.op === "complete")).toHaveLength(3);
    expect(rec.reason).toMatch(/HTTP 412 appliance_state_error: busy \(upgrade status: ready/);
  });

  it("fails the verification when the partition did not change or the version is not the prepared one", async () => {
    const a = setup();
    a.world.lifecycle(1_000, 1_000);
    const orig = a.world.onStatus!;
    a.world.onStatus = (w) => {
      const r = orig(w);
      w.volume = 1;
      return r;
    };
    await a.clock.run(a.go());
    expect(a.rec).toMatchObject({ outcome: "failed", reason: "never switched partition (still on volume 1)" });

    const b = setup();
    b.world.lifecycle(1_000, 1_000);
    const orig2 = b.world.onStatus!;
    b.world.onStatus = (w) => {
      const r = orig2(w);
      if (w.status === "idle") w.version = "6.4.9-1";
      return r;
    };
    await b.clock.run(b.go());
    expect(b.rec).toMatchObject({ outcome: "failed", reason: "runs 6.4.9-1 after the upgrade, not the prepared 6.5.0-32000" });
  });

  it("waits for the state to be ready before verifying", async () => {
    const { clock, world, rec, go } = setup();
    world.lifecycle(1_000, 1_000);
    world.state = "appliance_starting";
    const run = go();
    await clock.advance(30_000);
    expect(rec.outcome).toBe("unfinished");
    expect(rec.lastSeen).toBe("status healthy, state appliance_starting");
    world.state = "appliance_ready";
    await clock.run(run);
    expect(rec.outcome).toBe("upgraded");
  });

  it("on cancellation returns at once, reporting the appliance as still under way", async () => {
    const { clock, world, rec, go, controller } = setup();
    world.lifecycle(10 * MIN, 0);
    const run = go();
    await clock.advance(45_000);
    controller.abort();
    const result = await run;
    expect(result).toEqual({ cancelled: true, asked: true });
    expect(rec.outcome).toBe("unfinished");
    expect(rec.reason).toMatch(/cancelled while under way \(last seen: installing\).*run again to resume/);
    expect(clock.pending).toBe(0);
  });
});

/** The primary Controller: switches partition itself, never leaves maintenance mode (it is never in it). */
const primary: PlannedAppliance = { ...planned, id: "id-gw", name: "ctrl-1", role: "Controller", roles: ["controller"], switchPartition: true, isPrimary: true };

/** After complete, the upgrade status answers these in turn (the last one stays); "down" = connection refused; idle means rebooted. */
function scriptAfterComplete(world: World, answers: string[]): void {
  let i = 0;
  world.onStatus = (w) => {
    if (w.completedAt === undefined && w.switchedAt === undefined) return { status: w.status, details: w.status === "ready" ? "appgate-6.5.0-32000-release.img.zip" : "" };
    const a = answers[Math.min(i++, answers.length - 1)]!;
    if (a === "down") return Promise.reject(new TransportError("connection refused (x)", "ECONNREFUSED", true, true));
    if (a === "idle") {
      w.volume = 2;
      w.version = "6.5.0-32000";
    }
    w.status = a;
    return { status: a, details: "" };
  };
}

describe("upgradeAppliance: Controllers that switch partition themselves", () => {
  it("a transient `success` during a switchPartition:true install is not the end: no switch-partition, wait for idle", async () => {
    const { clock, world, rec, go } = setup(30 * MIN, primary);
    scriptAfterComplete(world, ["installing", "success", "success", "down", "idle"]);
    await clock.run(go());
    expect(rec).toMatchObject({ outcome: "upgraded", partitionAfter: 2 });
    expect(world.writes()).toEqual(["complete id-gw"]);
    expect(world.calls[1]!.body).toEqual({ switchPartition: true });
  });

  it("a `failed` after a switchPartition:true complete fails the appliance", async () => {
    const { clock, world, rec, go } = setup(30 * MIN, primary);
    scriptAfterComplete(world, ["installing", "failed"]);
    await clock.run(go());
    expect(rec).toMatchObject({ outcome: "failed", reason: "the upgrade failed (upgrade status failed)" });
  });

  it("a Controller resumed from `success` (completed without switching) gets switch-partition", async () => {
    const { clock, world, rec, go } = setup(30 * MIN, { ...primary, action: "switch-partition", startStatus: "success" });
    world.status = "success";
    world.lifecycle(0, 5_000);
    await clock.run(go());
    expect(rec.outcome).toBe("upgraded");
    expect(world.writes()).toEqual(["switch-partition id-gw"]);
  });
});

describe("upgradeAppliance: a change whose answer is lost while the status lags", () => {
  const lostAnswer = (code = "UND_ERR_SOCKET", unsent = false) => (w: World, op: WriteOp) => {
    w.accept(op);
    throw new TransportError("connection dropped (x)", code, unsent, true);
  };
  const postsTo = (world: World, op: WriteOp) => world.calls.filter((c) => c.op === op);

  it("the primary is never sent it again: waited on while it still reads `ready`, until it moves on", async () => {
    const { clock, world, rec, go, logger } = setup(30 * MIN, primary);
    world.onPost = lostAnswer();
    scriptAfterComplete(world, ["ready", "ready", "ready", "ready", "ready", "down", "down", "idle"]);
    await clock.run(go());
    expect(rec.outcome).toBe("upgraded");
    expect(postsTo(world, "complete")).toHaveLength(1);
    expect(logger.lines.some((l) => /never sent again to the primary Controller/.test(l))).toBe(true);
  });

  it("the primary whose status never moves on fails at its deadline, still without a second complete", async () => {
    const { clock, world, rec, go } = setup(10 * MIN, primary);
    world.onPost = lostAnswer();
    scriptAfterComplete(world, ["ready"]);
    await clock.run(go());
    expect(rec.outcome).toBe("failed");
    expect(rec.reason).toMatch(/timed out after 600 s waiting for ctrl-1 to show whether completing the upgrade of ctrl-1 was accepted \(last seen: upgrade status: ready/);
    expect(postsTo(world, "complete")).toHaveLength(1);
  });

  it("a request that surely never left (connection refused) may be sent again, even to the primary", async () => {
    const { clock, world, rec, go } = setup(30 * MIN, primary);
    let first = true;
    world.onPost = (w, op) => {
      if (first) {
        first = false;
        throw new TransportError("connection refused (x)", "ECONNREFUSED", true, true);
      }
      return w.accept(op);
    };
    scriptAfterComplete(world, ["installing", "idle"]);
    await clock.run(go());
    expect(rec.outcome).toBe("upgraded");
    expect(postsTo(world, "complete")).toHaveLength(2);
  });

  it("another appliance is looked at a few times (lostAnswerReads) before a resend: a short lag sends nothing twice", async () => {
    const { clock, world, rec, go } = setup();
    world.onPost = (w, op) => (op === "complete" ? lostAnswer()(w, op) : w.accept(op));
    let reads = 0;
    const lifecycle = (w: World): unknown => {
      reads++;
      if (w.switchedAt !== undefined) {
        w.status = "idle";
        w.volume = 2;
        w.version = "6.5.0-32000";
      } else if (reads > 2) w.status = "success";
      return { status: reads <= 2 ? "ready" : w.status, details: "" };
    };
    world.onStatus = (w) => (w.completedAt === undefined ? { status: "ready", details: "appgate-6.5.0-32000-release.img.zip" } : lifecycle(w));
    await clock.run(go());
    expect(rec.outcome).toBe("upgraded");
    expect(postsTo(world, "complete")).toHaveLength(1);
  });
});

describe("upgradeAppliance: requests", () => {
  it("every poll and change request carries the request timeout (5 s)", async () => {
    const { clock, world, go } = setup();
    world.lifecycle(20_000, 10_000);
    await clock.run(go());
    expect(world.calls.length).toBeGreaterThan(5);
    expect(world.calls.filter((c) => c.timeoutMs !== DEFAULT_TIMINGS.requestTimeoutMs)).toEqual([]);
    expect(world.calls.filter((c) => c.op === "liveStatus").map((c) => c.name)).toContain("gw");
  });

  it("a failure that waiting will not mend (a refused TLS certificate) fails at once, not after 30 min", async () => {
    const { clock, world, rec, go } = setup();
    world.lifecycle(5_000, 10_000, () => {
      throw new TransportError("network error (self-signed certificate)", "DEPTH_ZERO_SELF_SIGNED_CERT", false, false);
    });
    await clock.run(go());
    expect(rec.outcome).toBe("failed");
    expect(rec.reason).toMatch(/self-signed certificate/);
    expect(clock.now() - rec.startedAt!).toBeLessThan(MIN);
  });
});

describe("upgradeAppliance: what an unfinished appliance was last seen doing", () => {
  it("cancelled while switch-partition is under way: last seen is the `success` it had reached, not the `installing` before it", async () => {
    const { clock, world, rec, go, controller } = setup();
    world.lifecycle(5_000, 60_000);
    world.onPost = (w, op) => {
      if (op !== "switch-partition") return w.accept(op);
      controller.abort();
      return Promise.reject(new DOMException("This operation was aborted", "AbortError"));
    };
    const result = await clock.run(go());
    expect(result).toEqual({ cancelled: true, asked: true });
    expect(rec.outcome).toBe("unfinished");
    expect(rec.lastSeen).toBe("success");
    expect(rec.reason).toMatch(/last seen: success/);
  });

  it("cancelled right after a complete was accepted: last seen says so, not the `ready` read before it", async () => {
    const { clock, world, rec, go, controller } = setup();
    world.lifecycle(60_000, 0);
    world.onPost = (w, op) => {
      const answer = w.accept(op);
      queueMicrotask(() => controller.abort());
      return answer;
    };
    await clock.run(go());
    expect(rec.outcome).toBe("unfinished");
    expect(rec.lastSeen).toBe("completing the upgrade of gw: accepted");
  });
});
