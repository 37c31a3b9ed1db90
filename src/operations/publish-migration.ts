import type { PublishMigrationConfig } from "../config/config.ts";
import { code, facts, formatBytes } from "../report/markdown.ts";
import { formatDuration } from "../runtime/duration.ts";
import { runFactRows } from "../report/run-facts.ts";
import { loadCodeBundle } from "../statebacked/code-bundle.ts";
import { describeVersionRef, resolveVersionRef } from "../statebacked/version-ref.ts";
import { versionText } from "../report/verdict.ts";
import type { OperationContext } from "./context.ts";
import { fixOf } from "./failure-fix.ts";
import { stateBackedApiFor } from "./statebacked-api.ts";

/**
 * publish-migration: resolve both version references, gzip the bundle, provisionally create the
 * migration, upload, finalize. Outputs: migration-id, from-version-id, to-version-id.
 */
export async function publishMigration(config: PublishMigrationConfig, ctx: OperationContext): Promise<void> {
  const started = ctx.clock.now();
  const { report, logger } = ctx;
  const bundle = await loadCodeBundle("migration-file", config.migrationFile, config.workspace);
  const api = stateBackedApiFor(config.statebacked, ctx);
  const rows: [string, string][] = [
    ["Machine", code(config.machine)],
    ["Code", `${code(config.migrationFile)}: ${formatBytes(bundle.raw.length)} raw, ${formatBytes(bundle.gzipped.length)} gzipped`],
  ];
  let title = `Publishing a migration of ${code(config.machine)} did not finish`;
  let fromText = code(describeVersionRef(config.from));
  let toText = code(describeVersionRef(config.to));
  const of = `of ${code(config.machine)}`;
  try {
    const from = await resolveVersionRef(api, config.machine, "from-version", config.from);
    const to = await resolveVersionRef(api, config.machine, "to-version", config.to);
    report.setOutput("from-version-id", from.id);
    report.setOutput("to-version-id", to.id);
    rows.push(
      ["From", `${code(from.id)}${describeRefSuffix(config.from, from.clientInfo)}`],
      ["To", `${code(to.id)}${describeRefSuffix(config.to, to.clientInfo)}`],
    );
    fromText = versionText(from.id, from.clientInfo);
    toText = versionText(to.id, to.clientInfo);
    if (from.id === to.id) {
      throw new Error(`Inputs 'from-version' and 'to-version' both resolve to ${from.id}; a migration needs two different versions`);
    }
    if (config.dryRun) {
      title = `Dry run: would publish a migration of ${code(config.machine)}`;
      report.setVerdict({ level: "ok", sentence: `Dry run: would publish a migration ${of} from ${fromText} to ${toText}; nothing was sent` });
      report.setOutput("migration-id", "");
      logger.info(`Dry run: would create a migration ${from.id} → ${to.id} of ${config.machine}; nothing sent.`);
      return;
    }
    logger.info(`Creating migration ${from.id} → ${to.id} of ${config.machine}…`);
    const provisional = await api.createProvisionalMigration(config.machine, from.id, to.id);
    await api.uploadCode("uploading the migration's code", provisional, `${config.machine}_${from.id}_to_${to.id}.js`, bundle.gzipped);
    const migrationId = await api.finalizeMigration(config.machine, provisional.signedId);
    report.setOutput("migration-id", migrationId);
    rows.push(["Migration", code(migrationId)]);
    title = `Published migration of ${code(config.machine)}`;
    report.setVerdict({ level: "ok", sentence: `Published a migration ${of} from ${fromText} to ${toText} (${code(migrationId)})` });
    logger.info(`Published migration ${migrationId} (${from.id} → ${to.id}) of ${config.machine}.`);
  } catch (err) {
    const fix = fixOf(err);
    report.setVerdict({ level: "fail", sentence: `Publishing the migration ${of} from ${fromText} to ${toText} did not finish; nothing was published`, ...(fix ? { fix } : {}) });
    throw err;
  } finally {
    rows.push(["Time", formatDuration(ctx.clock.now() - started)], ...runFactRows(ctx.env));
    report.addSummary(`#### ${title}\n\n${facts(rows)}`);
  }
}

function describeRefSuffix(ref: PublishMigrationConfig["from"], clientInfo: string | undefined): string {
  const parts = [];
  if (ref.kind !== "id") parts.push(`from ${code(describeVersionRef(ref))}`);
  if (clientInfo !== undefined) parts.push(`label ${code(clientInfo)}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}
