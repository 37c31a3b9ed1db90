/**
 * prepare-appliance-upgrade: have appliances download and verify an upgrade image (ready for
 * complete-appliance-upgrade), at most `prepare-concurrency` at once. The image is an https://
 * URL the appliances fetch, or a local file uploaded once to the Controller's Files API and
 * prepared from `controller://<peer hostname>:<port>/<file>`.
 */
import { realpath, stat } from "node:fs/promises";
import { resolve, sep } from "node:path";
import type { AppgateClient } from "../appgate/api/client.ts";
import { isController } from "../appgate/plan/fleet.ts";
import type { FleetAppliance } from "../appgate/plan/fleet.ts";
import { planPrepare } from "../appgate/plan/prepare-plan.ts";
import { formatVersion, versionFromImageName } from "../appgate/plan/version.ts";
import { prepareAll } from "../appgate/run/prepare.ts";
import type { UpgradeTimings } from "../appgate/run/timings.ts";
import type { PrepareConfig } from "../config/appgate.ts";
import { InputError } from "../config/inputs.ts";
import { fileProblem } from "../runtime/file-problem.ts";
import { readWorkspaceFile } from "../runtime/workspace-file.ts";
import { runLifecycle } from "./appgate-lifecycle.ts";
import type { OperationContext } from "./context.ts";

/** A local image larger than this is refused (it is read whole before the upload). */
export const MAX_IMAGE_BYTES = 2 * 1024 ** 3 - 1;

export async function prepareApplianceUpgrade(config: PrepareConfig, ctx: OperationContext, timings: Partial<UpgradeTimings> = {}): Promise<void> {
  const image = config.image;
  if (image.kind === "file") await checkImageFile(image.path, image.workspace);
  const target = versionFromImageName(image.fileName)!;
  let imageUrl = image.kind === "url" ? image.url : "";
  await runLifecycle(
    config,
    ctx,
    {
      operation: "prepare-appliance-upgrade",
      title: "prepare appliance upgrade",
      done: "prepared",
      async plan(fleet) {
        const plan = planPrepare(fleet, image.fileName, config.appliances);
        if (image.kind === "file") {
          const where = controllerFileUrl(fleet, config.controllerUrl.hostname, image.fileName);
          if (where.problem !== undefined) plan.problems.push(where.problem);
          else imageUrl = where.url;
        }
        const shown = image.kind === "url" ? image.url : `${image.path} (uploaded to the Controller as ${image.fileName})`;
        return { ...plan, todo: plan.prepare, facts: [["Image", shown], ["Version", formatVersion(target)], ["prepare-concurrency", config.prepareConcurrency]] };
      },
      async act(records, client, t) {
        if (image.kind === "file") await uploadOnce(client, image.path, image.workspace, image.fileName, ctx);
        await prepareAll(records, imageUrl, target, {
          client,
          clock: ctx.clock,
          signal: ctx.signal,
          logger: ctx.logger,
          timings: t,
          applianceTimeoutMs: config.applianceTimeoutMs,
          concurrency: config.prepareConcurrency,
        });
      },
    },
    timings,
  );
}

/** Only a regular file inside the workspace, no larger than the cap: checked before any request (and again as it is read). */
async function checkImageFile(path: string, workspace: string): Promise<void> {
  let size: number;
  try {
    const [real, root] = await Promise.all([realpath(resolve(path)), realpath(workspace)]);
    if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
      throw new InputError("image-url", `'${path}' is outside the workspace (${root}, GITHUB_WORKSPACE) once its links are followed; only files inside it are read`);
    }
    const s = await stat(real);
    if (!s.isFile()) throw new InputError("image-url", `'${path}' is not a regular file`);
    size = s.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError("image-url", fileProblem(path, err));
  }
  if (size > MAX_IMAGE_BYTES) throw new InputError("image-url", `'${path}' is ${size} bytes, more than the ${MAX_IMAGE_BYTES} this action uploads`);
}

/** The controller:// address of a file on the primary Controller (the one whose admin hostname is controller-url's host). */
function controllerFileUrl(fleet: readonly FleetAppliance[], host: string, fileName: string): { url: string; problem?: undefined } | { url?: undefined; problem: string } {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  const primary = fleet.find((a) => isController(a) && a.info.adminHostname?.toLowerCase() === h);
  if (!primary?.info.peerHostname) {
    return { problem: `image-url: a local image is uploaded to the primary Controller, but controller-url's host '${h}' is not the admin hostname of any Controller` };
  }
  return { url: `controller://${primary.info.peerHostname}:${primary.info.peerPort ?? 443}/${encodeURIComponent(fileName)}` };
}

/** Uploads the image unless the Controller holds a file of that name already. */
async function uploadOnce(client: AppgateClient, path: string, workspace: string, fileName: string, ctx: OperationContext): Promise<void> {
  const held = await client.files.list({ retry: "idempotent" });
  if (held.some((f) => f.name === fileName && f.status !== "Failed")) {
    ctx.logger.info(`The Controller holds ${fileName} already; not uploading it again`);
    return;
  }
  const content = await readWorkspaceFile(path, { workspace, maxBytes: MAX_IMAGE_BYTES });
  ctx.logger.info(`Uploading ${fileName} (${content.length} bytes) to the Controller`);
  await client.files.upload(fileName, content, { timeoutMs: 30 * 60_000 });
}
