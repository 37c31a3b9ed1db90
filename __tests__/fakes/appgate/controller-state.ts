/**
 * The fake Controller's state: the collective (its appliances, their lifecycles and down
 * windows), the changes it was asked for, the tokens it handed out, and what it records for
 * the tests (events, logins, refusals). Time comes from `now`; everything advances lazily.
 */
import { randomUUID } from "node:crypto";
import type { FakeController, FakeControllerOptions, FakeEvent } from "./controller-options.ts";
import { advancePrepare } from "./prepare-lifecycle.ts";
import { advance, type ApplianceState, DEFAULT_TARGET_IMAGE, type DownWindow, newAppliance, startInstall } from "./fake-appliance.ts";

export const FAKE_USERNAME = "api-admin";
export const FAKE_PASSWORD = "s3cret-Pa55word!";

/** A change the Controller carries out (maintenance, complete, …), followed with GET …/change/{id}. */
export interface Change {
  id: string;
  applianceId: string;
  doneAt: number;
  /** Reads still answered `running` whatever the time. */
  reads: number;
  apply?: (at: number) => void;
  applied: boolean;
}

export class ControllerState {
  readonly o: FakeControllerOptions;
  readonly now: () => number;
  peer: number;
  lowest: number;
  readonly username: string;
  readonly password: string;
  readonly providerName: string;
  readonly ttl: number;
  readonly primaryHost: string;
  readonly changeMs: number;
  readonly busyMs: number;

  readonly tokens = new Map<string, number>();
  readonly changes = new Map<string, Change>();
  readonly events: FakeEvent[] = [];
  readonly windows: DownWindow[] = [];
  readonly logins: FakeController["logins"] = [];
  readonly issuedTokens: string[] = [];
  readonly refusals = { notAcceptable: 0, unauthorized: 0 };
  readonly dropAnswer: Set<string>;
  readonly states: ApplianceState[];
  readonly primary: ApplianceState | undefined;
  /** Once set, every call answers 503 (a load balancer sending calls to a Controller in maintenance). */
  misrouted = false;
  /** GET /appliances/status requests still to hold unanswered. */
  hangLeft = 0;
  /** The public API (for hooks), set once it exists. */
  api!: FakeController;
  /** Backups started (Backup API), by id. */
  readonly backups = new Map<string, { applianceId: string; startedAt: number }>();
  readonly backupContent: Buffer;
  /** Backup download requests so far (to drop chosen ones). */
  backupDownloads = 0;
  /** Files held (Files API). */
  readonly files = new Map<string, Buffer>();
  readonly prepareWindows: DownWindow[] = [];

  constructor(o: FakeControllerOptions) {
    this.o = o;
    this.now = o.now ?? ((): number => Date.now());
    this.peer = o.peerVersion ?? 23;
    this.lowest = o.lowestPeerVersion ?? 18;
    this.username = o.username ?? FAKE_USERNAME;
    this.password = o.password ?? FAKE_PASSWORD;
    this.providerName = o.providerName ?? "local";
    this.ttl = o.tokenTtlMs ?? 3_600_000;
    this.primaryHost = o.primaryHost ?? "127.0.0.1";
    this.changeMs = o.changeMs ?? 20;
    this.busyMs = o.busyMs ?? 20;
    for (const t of o.staticTokens ?? []) this.tokens.set(t, Infinity);
    this.dropAnswer = new Set(o.dropCompleteAnswer ?? []);
    const defaults = {
      targetImage: o.targetImage ?? DEFAULT_TARGET_IMAGE,
      installMs: o.installMs ?? 150,
      rebootMs: o.rebootMs ?? 100,
      readyLagMs: o.readyLagMs ?? 20,
    };
    const t = this.now();
    this.states = o.appliances.map((spec) => newAppliance(spec, defaults, t));
    for (const s of this.states) if (s.window) this.windows.push(s.window);
    this.primary = this.states.find((s) => s.spec.primary);
    this.backupContent = pseudoRandomBytes(o.backupBytes ?? 300_000);
  }

  byId(id: string): ApplianceState | undefined {
    return this.states.find((s) => s.id === id);
  }

  byName(name: string): ApplianceState {
    const s = this.states.find((x) => x.spec.name === name);
    if (!s) throw new Error(`fake: no appliance ${name}`);
    return s;
  }

  /** Told when an appliance's reboot ends: the primary's may revoke the tokens issued before it. */
  onReboot(s: ApplianceState): () => void {
    return () => {
      if (s === this.primary && this.o.primaryRebootRevokesTokens) {
        for (const [tok, exp] of this.tokens) if (exp !== Infinity) this.tokens.delete(tok);
      }
      if (s === this.primary && this.o.apiVersionAfterPrimaryUpgrade && !s.spec.bootsOldPartition) {
        this.peer = this.o.apiVersionAfterPrimaryUpgrade.peer;
        this.lowest = this.o.apiVersionAfterPrimaryUpgrade.lowest;
      }
    };
  }

  /** Moves one appliance's lifecycle forward to now. */
  advanceOne(s: ApplianceState, t = this.now()): void {
    advance(s, t, this.onReboot(s));
    advancePrepare(s, t);
  }

  install(s: ApplianceState, t: number, switchPartition: boolean): void {
    startInstall(s, t, switchPartition);
    if (s.window) this.windows.push(s.window);
  }

  advanceChanges(t: number): void {
    for (const c of this.changes.values()) {
      if (!c.applied && c.reads <= 0 && t >= c.doneAt) {
        c.applied = true;
        c.apply?.(t);
      }
    }
  }

  /** Everything forward to now; returns now. */
  advanceAll(): number {
    const t = this.now();
    for (const s of this.states) this.advanceOne(s, t);
    this.advanceChanges(t);
    return t;
  }

  newChange(applianceId: string, doneAt: number, reads = 0, apply?: (at: number) => void): string {
    const id = randomUUID();
    this.changes.set(id, { id, applianceId, doneAt, reads, applied: false, ...(apply ? { apply } : {}) });
    return id;
  }

  /** Mints a login token valid for the ttl. */
  issueToken(t: number): string {
    const token = randomUUID().replace(/-/g, "") + randomUUID().replace(/-/g, "");
    this.tokens.set(token, t + this.ttl);
    this.issuedTokens.push(token);
    return token;
  }
}

/** The same bytes for the same size, every run (a stand-in for a GPG file). */
function pseudoRandomBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  let x = 0x2545f491;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
