import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type ActionRun, runAction } from "../__tests__/helpers/run-action.ts";
import { SCOPES_ALL, startFakeStateBacked } from "../__tests__/fakes/statebacked/server.ts";
import { FAKE_PASSWORD, FAKE_USERNAME, startFakeController } from "../__tests__/fakes/appgate/fake-controller.ts";
import { standardFleet } from "../__tests__/fakes/appgate/fleet.ts";

/**
 * `npm run demo`: starts the fake State Backed API on loopback with a seeded machine, then runs the
 * built action (dist/index.js, exactly as a runner would) for a release: publish a version, publish
 * the migration from the previous version, move 1,000 instances (through some injected faults),
 * and a dry run of a deletion. Then a fake Appgate Controller with a prepared fleet (3 Controllers,
 * 6 gateways in 3 sites, 2 portals, an HA connector pair): the plan (dry run), then the upgrade.
 * Prints each step's log as the runner shows it, its outputs and its job summary (Markdown, as
 * written). With DEMO_SUMMARIES_DIR set, each summary is also saved there as <step>.md
 * (scripts/render-summaries.ts renders them as GitHub would).
 */
const SUMMARIES_DIR = process.env.DEMO_SUMMARIES_DIR;
if (SUMMARIES_DIR) mkdirSync(SUMMARIES_DIR, { recursive: true });
const KEY = { keyId: "sbk_demo", secret: "sbsec_demo_secret", orgId: "org_demo", scopes: [...SCOPES_ALL] };
const fake = await startFakeStateBacked({ keys: [KEY], latencyMs: 2 });
const dir = mkdtempSync(join(tmpdir(), "demo-"));

fake.addMachine("checkout");
const v09 = fake.addVersion("checkout", "v0.9.0");
const v1 = fake.addVersion("checkout", "v1.0.0", { current: true });
fake.addMigration("checkout", v09.id, v1.id);
const instances = Array.from({ length: 1000 }, (_, i) => `customer-${i + 1}`);
// 900 on v1.0.0, 100 still on v0.9.0 (they move through the v0.9.0 → v1.0.0 migration).
fake.addInstances("checkout", instances.slice(0, 900), v1.id);
fake.addInstances("checkout", instances.slice(900), v09.id);
// A second machine whose new version has no migration yet: a run that fails, grouped by cause.
fake.addMachine("billing");
const b1 = fake.addVersion("billing", "v3.1.0", { current: true });
fake.addVersion("billing", "v3.2.0");
fake.addInstances("billing", ["invoice-eu", "invoice-us", "invoice-apac"], b1.id);
for (let i = 0; i < 20; i++) fake.faults.push({ method: "PUT", path: new RegExp(`/i/customer-${i * 37 + 1}/v$`), action: { status: 503 } });
fake.faults.push({ method: "PUT", path: /\/i\/customer-500\/v$/, action: { status: 429, retryAfter: "1" } });

const versionFile = join(dir, "machine.js");
writeFileSync(versionFile, `import { createMachine } from "xstate";\nexport default createMachine({ id: "checkout", initial: "cart", states: { cart: {}, paid: {} } });\nexport const allowRead = () => true;\nexport const allowWrite = () => true;\n`);
const migrationFile = join(dir, "migration.js");
writeFileSync(migrationFile, "export const upgradeState = (s) => s;\nexport const upgradeContext = (_o, _n, c) => c;\n");

const common = { "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "checkout" };

/** A log line as the runner shows it: workflow commands turned into what a person sees, hidden ones left out. */
function asShown(line: string): string | undefined {
  const m = /^::(error|warning|notice)(?: [^:]*)?::(.*)$/.exec(line);
  if (m) return `${m[1]![0]!.toUpperCase()}${m[1]!.slice(1)}: ${m[2]!.replace(/%0A/g, " ").replace(/%25/g, "%")}`;
  if (/^::(add-mask|debug|set-output|save-state)::/.test(line) || line.startsWith("::")) return undefined;
  return line;
}

const LOG_LINES = 30;

function show(slug: string, title: string, inputs: Record<string, string>, run: ActionRun): void {
  const line = "─".repeat(78);
  console.log(`\n${line}\n▶ ${title}\n${line}`);
  console.log("with:");
  for (const [k, v] of Object.entries(inputs)) {
    const shown = k === "api-key-secret" || k === "password" ? "***" : v.includes("\n") ? JSON.stringify(v) : v.length > 60 ? `${v.slice(0, 57)}…` : v;
    console.log(`  ${k}: ${shown}`);
  }
  console.log(`\nexit code ${run.code}\n\nlog:`);
  const log = run.stdout.split("\n").filter(Boolean).map(asShown).filter((l): l is string => l !== undefined);
  for (const l of log.slice(0, LOG_LINES)) console.log(`  ${l}`);
  if (log.length > LOG_LINES) console.log(`  … ${log.length - LOG_LINES} more lines`);
  console.log("\noutputs:");
  for (const [k, v] of Object.entries(run.outputs)) console.log(`  ${k} = ${v.includes("\n") ? JSON.stringify(v) : v}`);
  console.log("\njob summary:\n");
  console.log(run.summary.replace(/^/gm, "  "));
  if (SUMMARIES_DIR) writeFileSync(join(SUMMARIES_DIR, `${slug}.md`), run.summary);
  // The run's own folder (outputs, summary, RUNNER_TEMP): the demo leaves no temp folder behind.
  rmSync(dirname(run.tempDir), { recursive: true, force: true });
}

try {
  const publish = { operation: "publish-version", ...common, "version-file": versionFile, "version-label": "v1.1.0", "make-current": "true" };
  const v = await runAction(publish);
  show("publish-version", "publish-version (make-current)", publish, v);

  const migrate = {
    operation: "publish-migration",
    ...common,
    "migration-file": migrationFile,
    "from-version": v.outputs["previous-version-id"] ?? "",
    "to-version": v.outputs["version-id"] ?? "",
  };
  show("publish-migration", "publish-migration from previous-version-id", migrate, await runAction(migrate));

  const bump = { operation: "set-desired-version", ...common, "all-instances": "true", "to-version": "current" };
  show("set-desired-version", "set-desired-version for every instance (20 injected 503s, one 429)", bump, await runAction(bump));

  const stuck = { operation: "set-desired-version", ...common, machine: "billing", instances: "invoice-eu\ninvoice-us\ninvoice-apac\ninvoice-latam", "to-version": "label:v3.2.0" };
  show("set-desired-version-failed", "set-desired-version with no migration published yet, and an unknown instance (fails)", stuck, await runAction(stuck));

  const status = { operation: "fleet-status", ...common, "to-version": "label:v1.1.0" };
  show("fleet-status", "fleet-status against v1.1.0", status, await runAction(status));

  const del = {
    operation: "delete-instances",
    ...common,
    instances: "customer-998\ncustomer-999\ncustomer-1000",
    "danger-data-will-be-deleted-forever": "true",
    "dry-run": "true",
  };
  show("delete-instances-dry-run", "delete-instances, dry run", del, await runAction(del));

  const typo = { operation: "set-desired-versions", ...common, "all-instances": "true", "to-version": "v1.1.0" };
  show("input-error", "a mistyped operation (fails before any request)", typo, await runAction(typo));
} finally {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
}

const controller = await startFakeController({ appliances: standardFleet({}), installMs: 300, rebootMs: 200, readyLagMs: 50 });
try {
  const upgrade = { operation: "complete-appliance-upgrade", "controller-url": controller.url, username: FAKE_USERNAME, password: FAKE_PASSWORD };
  show("complete-appliance-upgrade-plan", "complete-appliance-upgrade, dry run (the plan)", { ...upgrade, "dry-run": "true" }, await runAction({ ...upgrade, "dry-run": "true" }));
  show("complete-appliance-upgrade", "complete-appliance-upgrade", upgrade, await runAction(upgrade));
} finally {
  await controller.close();
}
