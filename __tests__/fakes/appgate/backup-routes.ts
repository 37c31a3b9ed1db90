/**
 * The Backup API (appliance_backup.yml) and the global setting that enables it: a backup is
 * `processing` for a while, then `done` with `success` (or `failure`); the file is served only
 * with Accept …+gpg and a Range header (206 with Content-Range), 410 for a failed backup; chosen
 * download requests have their connection dropped. Refused (412) while the API is disabled.
 */
import { randomUUID } from "node:crypto";
import { fail, reply } from "./answers.ts";
import type { ControllerState } from "./controller-state.ts";
import { applianceRoute, type Route, route } from "./routes.ts";

const enabled = (st: ControllerState): boolean => st.o.backupApiEnabled ?? true;
const backupDone = (st: ControllerState, startedAt: number, t: number): boolean => t >= startedAt + (st.o.backupMs ?? 30);

export const backupRoutes: Route[] = [
  route("GET", /^\/global-settings$/, ({ ex, st }) => {
    reply(ex, st.peer, 200, { claimsTokenExpiration: 1440, entitlementTokenExpiration: 180, backupApiEnabled: enabled(st), hasBackupPassphrase: true, fips: false });
  }),

  applianceRoute("POST", "/backup", ({ ex, st, s, t }) => {
    if (!enabled(st)) return void fail(ex, 412, "backup_api_disabled", "The Backup API is disabled in the global settings");
    const id = randomUUID();
    st.backups.set(id, { applianceId: s.id, startedAt: t });
    st.events.push({ at: t, type: "backup", appliance: s.spec.name });
    reply(ex, st.peer, 202, { id }, "application/json");
  }),

  applianceRoute("GET", "/backup/{backupId}/status", ({ ex, st, s, t, params }) => {
    const b = st.backups.get(decodeURIComponent(params[0]!));
    if (!b || b.applianceId !== s.id) return void fail(ex, 404, "not_found", "no such backup");
    if (!backupDone(st, b.startedAt, t)) return void reply(ex, st.peer, 200, { status: "processing", message: "Exporting the configuration" });
    const failed = st.o.backupFails === true;
    reply(ex, st.peer, 200, {
      status: "done",
      result: failed ? "failure" : "success",
      message: failed ? "Backup failed" : "Backup ready",
      encoding: "base64",
      output: Buffer.from(failed ? "gpg: no passphrase set" : "ok").toString("base64"),
    });
  }),

  applianceRoute(
    "GET",
    "/backup/{backupId}",
    ({ ex, st, s, t, params }) => {
      const b = st.backups.get(decodeURIComponent(params[0]!));
      if (!b || b.applianceId !== s.id) return void fail(ex, 404, "not_found", "no such backup");
      if (!backupDone(st, b.startedAt, t)) return void fail(ex, 412, "appliance_state_error", "the backup is still processing");
      if (st.o.backupFails) return void ex.send(410);
      st.backupDownloads++;
      if ((st.o.dropBackupDownloads ?? []).includes(st.backupDownloads)) return ex.drop();
      const m = /^bytes=(\d+)-(\d*)$/.exec(String(ex.headers.range ?? ""));
      if (!m) return void fail(ex, 400, "bad_request", "a Range header (bytes=<start>-[<end>]) is required");
      const all = st.backupContent;
      const start = Number(m[1]);
      const end = Math.min(m[2] ? Number(m[2]) : all.length - 1, all.length - 1);
      if (start >= all.length || end < start) return void ex.send(416, undefined, { "content-range": `bytes */${all.length}` });
      st.events.push({ at: t, type: "backup-download", appliance: s.spec.name, detail: `${start}-${end}` });
      ex.send(206, all.subarray(start, end + 1), {
        "content-type": "application/gpg",
        "content-range": `bytes ${start}-${end}/${all.length}`,
      });
    },
    { gpg: true },
  ),
];
