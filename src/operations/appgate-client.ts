/** The Controller client every Appgate operation uses: the run's HTTP layer, its signal, minted tokens masked. */
import { AppgateClient } from "../appgate/api/client.ts";
import type { AppgateConnection } from "../config/appgate.ts";
import type { OperationContext } from "./context.ts";

export function controllerClient(
  config: AppgateConnection,
  ctx: Pick<OperationContext, "http" | "logger" | "signal" | "mask">,
  knownApiVersion?: number,
): AppgateClient {
  const apiVersion = config.apiVersion ?? knownApiVersion;
  return new AppgateClient({
    http: ctx.http,
    baseUrl: config.apiBaseUrl,
    auth: config.auth,
    logger: ctx.logger,
    signal: ctx.signal,
    onToken: (token) => ctx.mask(token),
    ...(apiVersion !== undefined ? { apiVersion } : {}),
  });
}

/** The default backup file: in the temp folder, named after the Controller and the time (UTC). */
export function defaultBackupPath(tempDir: string, controller: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z").replace("T", "-");
  const safe = controller.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 64) || "controller";
  return `${tempDir.replace(/\/+$/, "")}/appgate-backup-${safe}-${stamp}.bkp`;
}
