import type { PublishVersionConfig } from "../config/config.ts";
import { code, facts, formatBytes } from "../report/markdown.ts";
import { formatDuration } from "../runtime/duration.ts";
import { runFactRows } from "../report/run-facts.ts";
import type { VersionInfo } from "../statebacked/api.ts";
import { loadCodeBundle } from "../statebacked/code-bundle.ts";
import { findVersionsByLabel } from "../statebacked/version-ref.ts";
import { escapeInline, versionText } from "../report/verdict.ts";
import type { OperationContext } from "./context.ts";
import { fixOf } from "./failure-fix.ts";
import { stateBackedApiFor } from "./statebacked-api.ts";

/**
 * publish-version: gzip the bundle, provisionally create a version, upload the code to the
 * presigned form, finalize with the label (clientInfo), make-current and index selectors.
 * Outputs: version-id, previous-version-id, created.
 */
export async function publishVersion(config: PublishVersionConfig, ctx: OperationContext): Promise<void> {
  const started = ctx.clock.now();
  const { report, logger } = ctx;
  const bundle = await loadCodeBundle("version-file", config.versionFile, config.workspace);
  const api = stateBackedApiFor(config.statebacked, ctx);
  const rows: [string, string][] = [
    ["Machine", code(config.machine)],
    ["Label (clientInfo)", code(config.versionLabel)],
    ["Code", `${code(config.versionFile)}: ${formatBytes(bundle.raw.length)} raw, ${formatBytes(bundle.gzipped.length)} gzipped`],
  ];
  let title = `Publishing version of ${code(config.machine)} did not finish`;
  const label = `**${escapeInline(config.versionLabel)}**`;
  const of = `of ${code(config.machine)}`;
  report.setOutput("created", false);
  try {
    const previous = await api.getCurrentVersion(config.machine);
    report.setOutput("previous-version-id", previous?.id ?? "");
    rows.push(["Previous current version", previous ? `${code(previous.id)} (${code(previous.clientInfo)})` : "none"]);

    let existing: VersionInfo | undefined;
    if (config.skipIfExists) {
      const { matches } = await findVersionsByLabel(api, config.machine, config.versionLabel);
      existing = matches.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
      if (matches.length > 1) logger.warning(`${matches.length} versions are labelled '${config.versionLabel}'; reusing the newest, ${existing!.id}`);
    }

    if (existing) {
      report.setOutput("version-id", existing.id);
      rows.push(["Version", `${code(existing.id)}: exists already (skip-if-exists), nothing created`]);
      title = `Version ${code(config.versionLabel)} of ${code(config.machine)} exists already`;
      report.setVerdict({ level: "ok", sentence: `${versionText(existing.id, config.versionLabel)} ${of} exists already; nothing was created (skip-if-exists)` });
      if (config.makeCurrent && previous?.id !== existing.id) {
        const msg = `version ${existing.id} ('${config.versionLabel}') exists but is not the current version; the API can only make a version current while creating it`;
        logger.warning(msg);
        rows.push(["Current version", `unchanged: ${msg}`]);
        report.setVerdict({
          level: "warn",
          sentence: `${versionText(existing.id, config.versionLabel)} ${of} exists already but is not the current version`,
          fix: "The API makes a version current only while creating it: publish under a new `version-label` with `make-current: true`.",
        });
      }
      logger.info(`Version '${config.versionLabel}' of ${config.machine} exists already as ${existing.id}; nothing created.`);
      return;
    }

    if (config.dryRun) {
      title = `Dry run: would publish a version of ${code(config.machine)}`;
      report.setVerdict({
        level: "ok",
        sentence: `Dry run: would publish ${label} ${of}${config.makeCurrent ? " and make it current" : ""}; nothing was sent`,
      });
      rows.push(["Plan", `create version ${code(config.versionLabel)}${config.makeCurrent ? " and make it current" : ""}`]);
      if (config.indexSelectors) rows.push(["Index selectors", code(JSON.stringify(config.indexSelectors))]);
      report.setOutput("version-id", "");
      logger.info(`Dry run: would create version '${config.versionLabel}' of ${config.machine} (${bundle.gzipped.length} bytes gzipped); nothing sent.`);
      return;
    }

    logger.info(`Creating version '${config.versionLabel}' of ${config.machine}…`);
    const provisional = await api.createProvisionalVersion(config.machine);
    await api.uploadCode("uploading the version's code", provisional, `${config.machine}.js`, bundle.gzipped);
    const versionId = await api.finalizeVersion(config.machine, provisional.signedId, {
      clientInfo: config.versionLabel,
      makeCurrent: config.makeCurrent,
      ...(config.indexSelectors ? { indexSelectors: config.indexSelectors } : {}),
    });
    report.setOutput("version-id", versionId);
    report.setOutput("created", true);
    rows.push(["Version", `${code(versionId)}${config.makeCurrent ? " (now current)" : ""}`]);
    title = `Published version ${code(config.versionLabel)} of ${code(config.machine)}`;
    report.setVerdict({
      level: "ok",
      sentence:
        `Published ${versionText(versionId, config.versionLabel)} ${of}` +
        (config.makeCurrent ? `; it is now the current version${previous ? ` (was ${versionText(previous.id, previous.clientInfo)})` : ""}` : ""),
    });
    logger.info(`Published version ${versionId} of ${config.machine}${config.makeCurrent ? " and made it current" : ""}.`);
  } catch (err) {
    const fix = fixOf(err);
    report.setVerdict({ level: "fail", sentence: `Publishing ${label} ${of} did not finish; the new version was not created`, ...(fix ? { fix } : {}) });
    throw err;
  } finally {
    rows.push(["Time", formatDuration(ctx.clock.now() - started)], ...runFactRows(ctx.env));
    report.addSummary(`#### ${title}\n\n${facts(rows)}`);
  }
}
