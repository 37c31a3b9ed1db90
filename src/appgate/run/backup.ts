/**
 * Backing up the primary Controller before the first change, as sdpctl does by default: start
 * a backup (no logs, no audit logs), follow it until `done` (a `failure` stops the run before
 * any change), then download the GPG file in ranges into `destination`, resuming with Range
 * after a dropped connection, and check it against the size the Controller gave.
 */
import { open, rm, stat } from "node:fs/promises";
import type { BackupEndpoints } from "../api/backup.ts";
import { isFatal, messageOf } from "../api/errors.ts";
import type { ApplianceRef } from "../api/wire.ts";
import { formatDuration } from "../../runtime/duration.ts";
import { isCancelled } from "../../runtime/clock.ts";
import { pollUntil } from "./poll.ts";
import { type OpsDeps, pollOptions, reach, unreachableReason } from "./waits.ts";

export interface BackupDeps extends Omit<OpsDeps, "client"> {
  backups: BackupEndpoints;
  /** Time allowed for the whole backup, download included. */
  timeoutMs: number;
}

export interface BackupResult {
  file: string;
  bytes: number;
}

/** Downloads that fail this many times in a row without a byte of progress end the backup. */
const MAX_STALLED_TRIES = 5;
/** A backup larger than this is refused (the Backup API without logs is far smaller). */
const MAX_BACKUP_BYTES = 8 * 1024 ** 3;

export async function backupPrimary(primary: ApplianceRef, destination: string, d: BackupDeps): Promise<BackupResult> {
  const started = d.clock.now();
  const t = { ...primary, deadline: started + d.timeoutMs };
  d.logger.info(`Backing up the primary Controller ${primary.name} (Backup API, no logs)`);
  const id = await d.backups.start(primary, { timeoutMs: d.timings.requestTimeoutMs });
  await pollUntil(async () => {
    const r = await reach(d, () => d.backups.status(primary, id, { timeoutMs: d.timings.requestTimeoutMs }));
    if (!r.ok) return { done: false, seen: r.seen };
    const s = r.value;
    if (s.status !== "done") return { done: false, seen: `backup ${s.status || "under way"}${s.message ? `: ${s.message}` : ""}` };
    if (s.result !== "success") {
      const why = [s.message, s.output].filter((x) => x !== "").join(": ");
      throw new Error(`the backup of ${primary.name} failed${why ? ` (${why})` : ""}; nothing was changed`);
    }
    return { done: true, value: undefined };
  }, pollOptions(d, t, `the backup of ${primary.name}`, true));
  const bytes = await download(primary, id, destination, d, t.deadline);
  d.logger.info(`Backup of ${primary.name} saved to ${destination} (${bytes} bytes) in ${formatDuration(d.clock.now() - started)}`);
  return { file: destination, bytes };
}

async function download(primary: ApplianceRef, id: string, destination: string, d: BackupDeps, deadline: number): Promise<number> {
  const file = await open(destination, "w", 0o600);
  let offset = 0;
  let total: number | undefined;
  let stalled = 0;
  try {
    while (total === undefined || offset < total) {
      if (d.clock.now() > deadline) throw new Error(`downloading the backup of ${primary.name}: timed out after ${offset} bytes`);
      const end = offset + d.timings.backupChunkBytes - 1;
      let got;
      try {
        got = await d.backups.range(primary, id, offset, total === undefined ? end : Math.min(end, total - 1), { timeoutMs: d.timings.requestTimeoutMs * 4 });
      } catch (err) {
        if (isFatal(err) || isCancelled(err, d.signal) || unreachableReason(err) === undefined) throw err;
        if (++stalled >= MAX_STALLED_TRIES) throw new Error(`downloading the backup of ${primary.name}: ${messageOf(err)} (${stalled} tries in a row at byte ${offset})`, { cause: err });
        d.logger.info(`${primary.name}: backup download interrupted at byte ${offset} (${messageOf(err)}); resuming with Range`);
        await d.clock.sleep(d.timings.pollInitialMs, d.signal);
        continue;
      }
      if (got.total !== undefined) {
        if (total !== undefined && got.total !== total) throw new Error(`downloading the backup of ${primary.name}: its size changed from ${total} to ${got.total} bytes`);
        if (got.total > MAX_BACKUP_BYTES) throw new Error(`downloading the backup of ${primary.name}: ${got.total} bytes is more than the ${MAX_BACKUP_BYTES} allowed`);
        total = got.total;
      }
      if (got.status === 200) offset = 0; // the whole file from its start: write it over what was there
      if (got.bytes.length === 0 || (total !== undefined && offset + got.bytes.length > total)) {
        throw new Error(`downloading the backup of ${primary.name}: ${got.bytes.length} bytes at byte ${offset} do not fit its size (${total ?? "unknown"})`);
      }
      await file.write(got.bytes, 0, got.bytes.length, offset);
      offset += got.bytes.length;
      stalled = 0;
      if (got.status === 200) await file.truncate(offset);
      if (total === undefined) total = offset; // no size given: the answer was the whole file
    }
  } catch (err) {
    await file.close();
    await rm(destination, { force: true });
    throw err;
  }
  await file.close();
  const size = (await stat(destination)).size;
  if (size !== total) {
    await rm(destination, { force: true });
    throw new Error(`the backup of ${primary.name} is ${size} bytes on disk, not the ${total} bytes the Controller gave`);
  }
  return size;
}
