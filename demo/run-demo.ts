import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
 * Prints each step's outputs and job summary.
 */
const KEY = { keyId: "sbk_demo", secret: "sbsec_demo_secret", orgId: "org_demo", scopes: [...SCOPES_ALL] };
const fake = await startFakeStateBacked({ keys: [KEY], latencyMs: 2 });
const dir = mkdtempSync(join(tmpdir(), "demo-"));

fake.addMachine("checkout");
const v1 = fake.addVersion("checkout", "v1.0.0", { current: true });
const instances = Array.from({ length: 1000 }, (_, i) => `customer-${i + 1}`);
fake.addInstances("checkout", instances, v1.id);
for (let i = 0; i < 20; i++) fake.faults.push({ method: "PUT", path: new RegExp(`/i/customer-${i * 37 + 1}/v$`), action: { status: 503 } });
fake.faults.push({ method: "PUT", path: /\/i\/customer-500\/v$/, action: { status: 429, retryAfter: "1" } });

const versionFile = join(dir, "machine.js");
writeFileSync(versionFile, `import { createMachine } from "xstate";\nexport default createMachine({ id: "checkout", initial: "cart", states: { cart: {}, paid: {} } });\nexport const allowRead = () => true;\nexport const allowWrite = () => true;\n`);
const migrationFile = join(dir, "migration.js");
writeFileSync(migrationFile, "export const upgradeState = (s) => s;\nexport const upgradeContext = (_o, _n, c) => c;\n");

const common = { "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "checkout" };

function show(title: string, inputs: Record<string, string>, run: ActionRun): void {
  const line = "─".repeat(78);
  console.log(`\n${line}\n▶ ${title}\n${line}`);
  console.log("with:");
  for (const [k, v] of Object.entries(inputs)) {
    const shown = k === "api-key-secret" || k === "password" ? "***" : v.includes("\n") ? JSON.stringify(v) : v.length > 60 ? `${v.slice(0, 57)}…` : v;
    console.log(`  ${k}: ${shown}`);
  }
  console.log(`\nexit code ${run.code}\n\nlog:`);
  const log = run.stdout.split("\n").filter((l) => l && !l.startsWith("::add-mask::") && !l.startsWith("::debug::"));
  for (const l of log.slice(-8)) console.log(`  ${l}`);
  console.log("\noutputs:");
  for (const [k, v] of Object.entries(run.outputs)) console.log(`  ${k} = ${v.includes("\n") ? JSON.stringify(v) : v}`);
  console.log("\njob summary:\n");
  console.log(run.summary.replace(/^/gm, "  "));
  // The run's own folder (outputs, summary, RUNNER_TEMP): the demo leaves no temp folder behind.
  rmSync(dirname(run.tempDir), { recursive: true, force: true });
}

try {
  const publish = { operation: "publish-version", ...common, "version-file": versionFile, "version-label": "v1.1.0", "make-current": "true" };
  const v = await runAction(publish);
  show("publish-version (make-current)", publish, v);

  const migrate = {
    operation: "publish-migration",
    ...common,
    "migration-file": migrationFile,
    "from-version": v.outputs["previous-version-id"] ?? "",
    "to-version": v.outputs["version-id"] ?? "",
  };
  show("publish-migration from previous-version-id", migrate, await runAction(migrate));

  const bump = { operation: "set-desired-version", ...common, "all-instances": "true", "to-version": "current" };
  show("set-desired-version for every instance (20 injected 503s, one 429)", bump, await runAction(bump));

  const del = {
    operation: "delete-instances",
    ...common,
    instances: "customer-998\ncustomer-999\ncustomer-1000",
    "danger-data-will-be-deleted-forever": "true",
    "dry-run": "true",
  };
  show("delete-instances, dry run", del, await runAction(del));
} finally {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
}

const controller = await startFakeController({ appliances: standardFleet({}), installMs: 300, rebootMs: 200, readyLagMs: 50 });
try {
  const upgrade = { operation: "complete-appliance-upgrade", "controller-url": controller.url, username: FAKE_USERNAME, password: FAKE_PASSWORD };
  show("complete-appliance-upgrade, dry run (the plan)", { ...upgrade, "dry-run": "true" }, await runAction({ ...upgrade, "dry-run": "true" }));
  show("complete-appliance-upgrade", upgrade, await runAction(upgrade));
} finally {
  await controller.close();
}
