/**
 * The Backup API (appliance_backup.yml) and the global setting that enables it
 * (global_settings.yml): start a backup, follow it, download it in ranges with the
 * `application/vnd.appgate.peer-v<N>+gpg` Accept type.
 */
import { AppgateApiError } from "./errors.ts";
import { apiError, type ControllerSession, type RequestOptions } from "./session.ts";
import type { ApplianceRef } from "./wire.ts";

export interface BackupStatus {
  /** processing or done. */
  status: string;
  /** success or failure, once done. */
  result: string;
  message: string;
  output: string;
}

/** One range of a backup file, and the file's whole size when the Controller says it. */
export interface BackupRange {
  bytes: Buffer;
  /** From Content-Range (`bytes a-b/total`) or, for a whole-file answer, Content-Length. */
  total?: number;
  /** 206 (the range asked) or 200 (the whole file from the start). */
  status: number;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");

export class BackupEndpoints {
  private readonly session: ControllerSession;

  constructor(session: ControllerSession) {
    this.session = session;
  }

  /** GET /global-settings: whether the Backup API is enabled (undefined when the answer does not say). */
  async apiEnabled(o: RequestOptions = {}): Promise<boolean | undefined> {
    const body = obj(await this.session.call("GET", "/global-settings", { ...o, what: "reading the global settings (GET /global-settings)" }));
    return typeof body.backupApiEnabled === "boolean" ? body.backupApiEnabled : undefined;
  }

  /** POST /appliances/{id}/backup without logs or audit logs; the backup id. */
  async start(a: ApplianceRef, o: RequestOptions = {}): Promise<string> {
    const what = `starting a backup of ${a.name}`;
    const id = str(obj(await this.session.call("POST", `${path(a)}/backup`, { ...o, body: { logs: false, audit: false }, what })).id);
    if (id === "") throw new Error(`${what}: the answer carries no backup id`);
    return id;
  }

  /** GET /appliances/{id}/backup/{backupId}/status. */
  async status(a: ApplianceRef, backupId: string, o: RequestOptions = {}): Promise<BackupStatus> {
    const what = `following the backup of ${a.name}`;
    const b = obj(await this.session.call("GET", `${path(a)}/backup/${encodeURIComponent(backupId)}/status`, { ...o, what }));
    const output = str(b.encoding) === "base64" ? Buffer.from(str(b.output), "base64").toString("utf8") : str(b.output);
    return { status: str(b.status), result: str(b.result), message: str(b.message), output };
  }

  /** GET /appliances/{id}/backup/{backupId} with `Range: bytes=start-end` (end included). A 410 means the backup failed. */
  async range(a: ApplianceRef, backupId: string, start: number, end: number, o: RequestOptions = {}): Promise<BackupRange> {
    const what = `downloading the backup of ${a.name} (bytes ${start}-${end})`;
    const res = await this.session.exchange("GET", `${path(a)}/backup/${encodeURIComponent(backupId)}`, {
      ...o,
      accept: "gpg",
      headers: { Range: `bytes=${start}-${end}` },
      what,
    });
    if (res.status === 410) throw new AppgateApiError(what, 410, undefined, "the backup failed on the appliance");
    if (res.status !== 206 && res.status !== 200) throw apiError(what, res);
    const range = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(res.headers["content-range"] ?? "");
    let total: number | undefined;
    if (res.status === 206) {
      if (!range || Number(range[1]) !== start) throw new Error(`${what}: HTTP 206 without the Content-Range asked for (${res.headers["content-range"] ?? "none"})`);
      if (range[3] !== "*") total = Number(range[3]);
    } else {
      total = res.body.length;
    }
    return total === undefined ? { bytes: res.body, status: res.status } : { bytes: res.body, status: res.status, total };
  }
}

function path(a: ApplianceRef): string {
  return `/appliances/${encodeURIComponent(a.id)}`;
}
