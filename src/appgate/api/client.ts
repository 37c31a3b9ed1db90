/**
 * The Controller admin API, one typed method per endpoint: the paths, bodies and messages of the
 * calls live here and nowhere else. Transport, login and errors are the session's (session.ts).
 */
import {
  type ApplianceInfo,
  type ApplianceRef,
  type ApplianceLiveStatus,
  type ChangeStatus,
  changeIdOf,
  listData,
  toApplianceInfo,
  toChangeStatus,
  toLiveStatus,
  toUpgradeStatus,
  type UpgradeStatus,
} from "./wire.ts";
import { BackupEndpoints } from "./backup.ts";
import { FileEndpoints } from "./files.ts";
import { ControllerSession, type RequestOptions, type SessionOptions } from "./session.ts";

export type { RequestOptions } from "./session.ts";
export type AppgateClientOptions = SessionOptions;

export type { ApplianceRef } from "./wire.ts";

/**
 * The Controller endpoints the upgrade logic uses, one typed method each (the paths live here
 * and nowhere else). AppgateClient is the real one; unit tests script their own.
 */
export interface ControllerApi {
  /** GET /appliances. */
  appliances(o?: RequestOptions): Promise<ApplianceInfo[]>;
  /** GET /appliances/status; with `name`, only the entries whose name contains it (the spec's filterBy). */
  liveStatus(o?: RequestOptions & { name?: string }): Promise<Map<string, ApplianceLiveStatus>>;
  /** GET /appliances/{id}/upgrade. */
  upgradeStatus(a: ApplianceRef, o?: RequestOptions): Promise<UpgradeStatus>;
  /** POST /appliances/{id}/upgrade/complete; the change id when the Controller gives one. */
  completeUpgrade(a: ApplianceRef, switchPartition: boolean, o?: RequestOptions): Promise<string | undefined>;
  /** POST /appliances/{id}/upgrade/switch-partition. */
  switchPartition(a: ApplianceRef, o?: RequestOptions): Promise<string | undefined>;
  /** POST /appliances/{id}/maintenance. */
  setMaintenance(a: ApplianceRef, enabled: boolean, o?: RequestOptions): Promise<string | undefined>;
  /** GET /appliances/{id}/change/{changeId}; `about` names the change for messages ("maintenance mode off"). */
  change(a: ApplianceRef, changeId: string, about: string, o?: RequestOptions): Promise<ChangeStatus>;
}

/** Preparing and cancelling upgrades (prepare-appliance-upgrade, cancel-appliance-upgrade). */
export interface PrepareApi {
  upgradeStatus(a: ApplianceRef, o?: RequestOptions): Promise<UpgradeStatus>;
  /** POST /appliances/{id}/upgrade/prepare `{imageUrl}`; only when idle or failed. */
  prepareUpgrade(a: ApplianceRef, imageUrl: string, o?: RequestOptions): Promise<string | undefined>;
  /** DELETE /appliances/{id}/upgrade; refused while installing. */
  cancelUpgrade(a: ApplianceRef, o?: RequestOptions): Promise<string | undefined>;
}

export class AppgateClient implements ControllerApi, PrepareApi {
  private readonly session: ControllerSession;
  /** The Backup API and the setting that enables it. */
  readonly backups: BackupEndpoints;
  /** Files held by the Controller that answers. */
  readonly files: FileEndpoints;

  constructor(opts: AppgateClientOptions) {
    this.session = new ControllerSession(opts);
    this.backups = new BackupEndpoints(this.session);
    this.files = new FileEndpoints(this.session);
  }

  /** Reads the API version again and uses it from then on (after the primary Controller's upgrade). */
  refreshVersion(): Promise<number> {
    return this.session.refreshVersion();
  }

  /** Settles the API version (GET /version unless given) and signs in. */
  connect(): Promise<void> {
    return this.session.connect();
  }

  get apiVersion(): number {
    return this.session.apiVersion;
  }

  /** Logins done (the first one included). */
  get logins(): number {
    return this.session.logins;
  }

  async appliances(o: RequestOptions = {}): Promise<ApplianceInfo[]> {
    const body = await this.session.call("GET", "/appliances", { ...o, what: "listing appliances (GET /appliances)" });
    return listData(body)
      .map(toApplianceInfo)
      .filter((a) => a !== undefined);
  }

  async liveStatus(o: RequestOptions & { name?: string } = {}): Promise<Map<string, ApplianceLiveStatus>> {
    const { name, ...rest } = o;
    const query = name !== undefined ? `?${new URLSearchParams({ name }).toString()}` : "";
    const what = name !== undefined ? `reading the status of ${name}` : "reading appliance status (GET /appliances/status)";
    const body = await this.session.call("GET", `/appliances/status${query}`, { ...rest, what });
    const map = new Map<string, ApplianceLiveStatus>();
    for (const raw of listData(body)) {
      const s = toLiveStatus(raw);
      if (s) map.set(s.id, s);
    }
    return map;
  }

  async upgradeStatus(a: ApplianceRef, o: RequestOptions = {}): Promise<UpgradeStatus> {
    return toUpgradeStatus(await this.session.call("GET", `${appliancePath(a)}/upgrade`, { ...o, what: `reading the upgrade status of ${a.name}` }));
  }

  async completeUpgrade(a: ApplianceRef, switchPartition: boolean, o: RequestOptions = {}): Promise<string | undefined> {
    const body = { switchPartition };
    return changeIdOf(await this.session.call("POST", `${appliancePath(a)}/upgrade/complete`, { ...o, body, what: `completing the upgrade of ${a.name}` }));
  }

  async switchPartition(a: ApplianceRef, o: RequestOptions = {}): Promise<string | undefined> {
    return changeIdOf(await this.session.call("POST", `${appliancePath(a)}/upgrade/switch-partition`, { ...o, what: `switching the partition of ${a.name}` }));
  }

  async setMaintenance(a: ApplianceRef, enabled: boolean, o: RequestOptions = {}): Promise<string | undefined> {
    const what = `turning maintenance mode ${enabled ? "on" : "off"} for ${a.name}`;
    return changeIdOf(await this.session.call("POST", `${appliancePath(a)}/maintenance`, { ...o, body: { enabled }, what }));
  }

  async prepareUpgrade(a: ApplianceRef, imageUrl: string, o: RequestOptions = {}): Promise<string | undefined> {
    return changeIdOf(await this.session.call("POST", `${appliancePath(a)}/upgrade/prepare`, { ...o, body: { imageUrl }, what: `preparing the upgrade of ${a.name}` }));
  }

  async cancelUpgrade(a: ApplianceRef, o: RequestOptions = {}): Promise<string | undefined> {
    return changeIdOf(await this.session.call("DELETE", `${appliancePath(a)}/upgrade`, { ...o, what: `cancelling the upgrade of ${a.name}` }));
  }

  async change(a: ApplianceRef, changeId: string, about: string, o: RequestOptions = {}): Promise<ChangeStatus> {
    const path = `${appliancePath(a)}/change/${encodeURIComponent(changeId)}`;
    return toChangeStatus(await this.session.call("GET", path, { ...o, what: `following ${about} on ${a.name}` }));
  }

}

function appliancePath(a: ApplianceRef): string {
  return `/appliances/${encodeURIComponent(a.id)}`;
}
