import { SCOPES_ALL, startFakeStateBacked } from "../__tests__/fakes/statebacked/server.ts";

/**
 * For CI's `action` job (.github/workflows/ci.yml): starts the fake State Backed API on loopback
 * with a key, a machine `checkout` whose current version is v1.0.0, and `CI_FAKE_INSTANCES`
 * instances on it (default 200). Prints the API's URL on one line, then serves until SIGTERM or
 * SIGINT (the runner ends it with the job). Every request is logged to stderr.
 */
export const CI_FAKE_KEY = { keyId: "sbk_ci_fake", secret: "sbsec_ci_fake_not_a_secret", orgId: "org_ci", scopes: [...SCOPES_ALL] };

const count = Number(process.env.CI_FAKE_INSTANCES ?? "200");
if (!Number.isInteger(count) || count < 0 || count > 100_000) throw new Error("CI_FAKE_INSTANCES must be a whole number from 0 to 100000");

const fake = await startFakeStateBacked({ keys: [CI_FAKE_KEY] });
fake.addMachine("checkout");
const v1 = fake.addVersion("checkout", "v1.0.0", { current: true });
fake.addInstances("checkout", Array.from({ length: count }, (_, i) => `customer-${i + 1}`), v1.id);
process.stdout.write(`${fake.url}\n`);

const stop = (): void => {
  void fake.close().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
