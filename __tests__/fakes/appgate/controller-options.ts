/**
 * The fake Controller's public shape: its options (fleet, durations, faults) and what a test can
 * read or do through it (requests, events, down windows, state changes behind the scenes).
 */
import type { DownWindow, FakeApplianceSpec, Phase } from "./fake-appliance.ts";

export interface FakeControllerOptions {
  appliances: FakeApplianceSpec[];
  /** The fake's clock (default Date.now). */
  now?: () => number;
  peerVersion?: number;
  lowestPeerVersion?: number;
  username?: string;
  password?: string;
  providerName?: string;
  /** Tokens accepted without a login (for `token` auth), until revoked. */
  staticTokens?: string[];
  tokenTtlMs?: number;
  /** Admin hostname of the primary (default 127.0.0.1, the loopback address tests use). */
  primaryHost?: string;
  targetImage?: string;
  installMs?: number;
  rebootMs?: number;
  readyLagMs?: number;
  /** Maintenance-mode changes take this long… */
  changeMs?: number;
  /** …and answer `running` to this many reads of the change first. */
  changeReads?: number;
  /** A Controller stays busy this long after leaving maintenance mode… */
  busyMs?: number;
  /** …and for this many of its status-list entries. */
  busyReads?: number;
  /** Once the primary's complete is accepted, every call answers 503 (a load balancer in the way). */
  misrouteAfterPrimaryComplete?: boolean;
  /** These appliances' first complete is carried out but its answer is lost (connection dropped). */
  dropCompleteAnswer?: string[];
  /** Tokens issued before the primary's reboot are refused after it. */
  primaryRebootRevokesTokens?: boolean;
  /** The Backup API's switch in the global settings (default true). */
  backupApiEnabled?: boolean;
  /** A backup is `processing` this long… (default 30 ms) */
  backupMs?: number;
  /** …and ends with result `failure` when set. */
  backupFails?: boolean;
  /** Size of the backup file (default 300,000 bytes). */
  backupBytes?: number;
  /** These backup download requests (1 = the first) have their connection dropped before any answer. */
  dropBackupDownloads?: number[];
  /** After the primary Controller's reboot into its new version, its API version range becomes this. */
  apiVersionAfterPrimaryUpgrade?: { peer: number; lowest: number };
  /** A prepare downloads, then verifies, for this long in all (default 100 ms). */
  prepareMs?: number;
  /** Serve HTTPS with this key and certificate (see tls-fixture.ts). */
  tls?: { key: string; cert: string };
  hooks?: {
    /** Before a complete is processed (may change state, e.g. start the install itself). */
    beforeComplete?: (name: string, fake: FakeController) => void;
    afterComplete?: (name: string, fake: FakeController) => void;
    /** After an upgrade status was read (before the answer is sent). */
    afterStatusRead?: (name: string, status: string, fake: FakeController) => void;
    /** After a maintenance-mode request was taken (before the answer is sent). */
    afterMaintenance?: (name: string, enabled: boolean, fake: FakeController) => void;
  };
}

export interface RequestRecord {
  at: number;
  method: string;
  /** Path and query as sent. */
  path: string;
  /** The Accept header. */
  accept: string;
  /** 0 = no answer (connection dropped, or held until the client gave up). */
  status: number;
}

export interface FakeEvent {
  at: number;
  type:
    | "complete"
    | "switch-partition"
    | "maintenance"
    | "maintenance-done"
    | "not-busy"
    | "cancel"
    | "login"
    | "refused"
    | "backup"
    | "backup-download"
    | "prepare"
    | "file-upload"
    | "file-delete";
  appliance?: string;
  detail?: string;
}

export interface FakeApplianceView {
  id: string;
  name: string;
  version: string;
  volume: number;
  upgradeStatus: string;
  phase: Phase["kind"];
  maintenance: boolean;
}

export interface FakeController {
  url: string;
  close(): Promise<void>;
  requests: RequestRecord[];
  events: FakeEvent[];
  /** POST/DELETE calls other than /login, i.e. attempted changes. */
  writes(): RequestRecord[];
  logins: { username: string; providerName: string; deviceId: string }[];
  /** Every token a login handed out. */
  issuedTokens: string[];
  windows(): DownWindow[];
  /** Most of `names` down at the same moment. */
  maxConcurrentDown(names: readonly string[]): number;
  /** Every token stops working (as if all expired). */
  revokeTokens(): void;
  /** Sets the upgrade status directly (as if the appliance changed on its own). */
  setUpgradeStatus(name: string, status: string, details?: string): void;
  /** Starts an install as if another admin had completed the upgrade (no request recorded). */
  completeBehindTheScenes(name: string, switchPartition: boolean): void;
  setOffline(name: string, offline: boolean): void;
  /** The next `count` GET /appliances/status never answer (held until the client gives up). */
  hangStatusReads(count: number): void;
  /** Requests held without an answer right now. */
  held(): number;
  appliance(name: string): FakeApplianceView;
  idOf(name: string): string;
  /** Install + reboot + ready lag (+ maintenance-off change and busy time for other Controllers). */
  nominalDurationMs(name: string): number;
  /** The backup file's bytes, as the Backup API serves them. */
  backupContent(): Buffer;
  /** Files held by the Controller (Files API). */
  files(): Map<string, Buffer>;
  /** Most appliances preparing (downloading or verifying) at the same moment. */
  maxConcurrentPreparing(): number;
  /** The API version range now. */
  apiVersions(): { peer: number; lowest: number };
  /** Requests answered 406 / 401 (strictness checks). */
  refusals: { notAcceptable: number; unauthorized: number };
}
