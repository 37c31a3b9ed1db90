import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/config.ts";
import { InputError } from "../../src/config/inputs.ts";

const RUN = { sha: "abc123", repository: "acme/backend", workspace: tmpdir() };
const KEY = { "api-key-id": "sbk_abc", "api-key-secret": "sbsec_xyz", machine: "my-machine" };
const VER = "ver_AAAAAAAAAAAAAAAAAAAAAA";

function build(inputs: Record<string, string>) {
  return buildConfig((name) => inputs[name] ?? "", RUN);
}

async function inputError(inputs: Record<string, string>): Promise<InputError> {
  const err = await build(inputs).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

describe("config: operation and common inputs", () => {
  it("requires an operation and lists the valid ones for an unknown one", async () => {
    expect((await inputError({})).input).toBe("operation");
    const e = await inputError({ operation: "publish" });
    expect(e.message).toContain("publish-version, publish-migration, set-desired-version, delete-instances, fleet-status, complete-appliance-upgrade");
  });

  it("builds a publish-version config with defaults", async () => {
    const c = await build({ operation: "publish-version", ...KEY, "version-file": "m.js" });
    expect(c).toMatchObject({
      operation: "publish-version",
      machine: "my-machine",
      versionFile: "m.js",
      versionLabel: "abc123",
      makeCurrent: false,
      skipIfExists: false,
      dryRun: false,
      http: { maxAttempts: 5, requestTimeoutMs: 30_000 },
      statebacked: { auth: { kind: "api-key", keyId: "sbk_abc", secret: "sbsec_xyz" } },
    });
    expect(c.secrets).toEqual(["sbsec_xyz"]);
    expect(Object.isFrozen(c)).toBe(true);
    if (c.operation === "publish-version") expect(c.statebacked.apiUrl.href).toBe("https://api.statebacked.dev/");
  });

  const cases: [string, Record<string, string>, string, RegExp][] = [
    ["no auth", { operation: "publish-version", machine: "m", "version-file": "f" }, "api-key-id", /api-key-id.*token/],
    ["key id without secret", { operation: "publish-version", machine: "m", "version-file": "f", "api-key-id": "sbk_a" }, "api-key-secret", /required/],
    ["secret without key id", { operation: "publish-version", machine: "m", "version-file": "f", "api-key-secret": "sbsec_a" }, "api-key-id", /required/],
    ["both auth ways", { operation: "publish-version", ...KEY, "version-file": "f", token: "t" }, "token", /not both/],
    ["key id shape", { operation: "publish-version", ...KEY, "api-key-id": "abc", "version-file": "f" }, "api-key-id", /sbk_/],
    ["secret shape", { operation: "publish-version", ...KEY, "api-key-secret": "abc", "version-file": "f" }, "api-key-secret", /sbsec_/],
    ["bad org", { operation: "publish-version", ...KEY, "org-id": "acme", "version-file": "f" }, "org-id", /org_/],
    ["missing machine", { operation: "publish-version", ...KEY, machine: "", "version-file": "f" }, "machine", /required/],
    ["bad machine", { operation: "publish-version", ...KEY, machine: "my machine", "version-file": "f" }, "machine", /letters, digits/],
    ["http to a remote host", { operation: "publish-version", ...KEY, "api-url": "http://api.example.com", "version-file": "f" }, "api-url", /loopback/],
    ["not a url", { operation: "publish-version", ...KEY, "api-url": "nope", "version-file": "f" }, "api-url", /not a URL/],
    ["ftp url", { operation: "publish-version", ...KEY, "api-url": "ftp://x", "version-file": "f" }, "api-url", /https/],
    ["bad dry-run", { operation: "publish-version", ...KEY, "version-file": "f", "dry-run": "yes" }, "dry-run", /'true' or 'false'/],
    ["bad max-attempts", { operation: "publish-version", ...KEY, "version-file": "f", "max-attempts": "0" }, "max-attempts", /1 to 20|from 1/],
    ["bad timeout", { operation: "publish-version", ...KEY, "version-file": "f", "request-timeout-seconds": "1.5" }, "request-timeout-seconds", /whole number/],
    ["missing version-file", { operation: "publish-version", ...KEY }, "version-file", /required/],
    ["bad make-current", { operation: "publish-version", ...KEY, "version-file": "f", "make-current": "1" }, "make-current", /'true' or 'false'/],
    ["index selectors not JSON", { operation: "publish-version", ...KEY, "version-file": "f", "index-selectors": "{" }, "index-selectors", /not valid JSON/],
    ["index selectors array", { operation: "publish-version", ...KEY, "version-file": "f", "index-selectors": "[]" }, "index-selectors", /JSON object/],
    ["index selector value", { operation: "publish-version", ...KEY, "version-file": "f", "index-selectors": '{"a":1}' }, "index-selectors", /non-empty string/],
    ["foreign input", { operation: "publish-version", ...KEY, "version-file": "f", "from-version": VER }, "from-version", /does not apply to operation 'publish-version'/],
    ["missing migration-file", { operation: "publish-migration", ...KEY, "from-version": VER, "to-version": "current" }, "migration-file", /required/],
    ["bad version ref", { operation: "publish-migration", ...KEY, "migration-file": "f", "from-version": "v1", "to-version": "current" }, "from-version", /label:<clientInfo>/],
    ["empty label", { operation: "publish-migration", ...KEY, "migration-file": "f", "from-version": "label:", "to-version": "current" }, "from-version", /needs a label/],
    ["no selection", { operation: "set-desired-version", ...KEY, "to-version": VER }, "instances", /instances-file|all-instances/],
    ["two selections", { operation: "set-desired-version", ...KEY, "to-version": VER, instances: "a", "all-instances": "true" }, "instances", /not 'instances' and 'all-instances: true'/],
    ["empty list", { operation: "set-desired-version", ...KEY, "to-version": VER, instances: " , \n" }, "instances", /names no instance/],
    ["bad shard", { operation: "set-desired-version", ...KEY, "to-version": VER, instances: "a", shard: "9/8" }, "shard", /./],
    ["bad concurrency", { operation: "set-desired-version", ...KEY, "to-version": VER, instances: "a", concurrency: "257" }, "concurrency", /1 to 256|from 1 to 256/],
    ["missing file", { operation: "set-desired-version", ...KEY, "to-version": VER, "instances-file": "/nonexistent/list.txt" }, "instances-file", /cannot read/],
    ["delete without danger", { operation: "delete-instances", ...KEY, instances: "a" }, "danger-data-will-be-deleted-forever", /forever/],
    ["delete with danger false", { operation: "delete-instances", ...KEY, instances: "a", "danger-data-will-be-deleted-forever": "yes" }, "danger-data-will-be-deleted-forever", /got 'yes'/],
    ["delete all-instances", { operation: "delete-instances", ...KEY, "all-instances": "true", "danger-data-will-be-deleted-forever": "true" }, "all-instances", /refused/],
    ["delete nothing named", { operation: "delete-instances", ...KEY, "danger-data-will-be-deleted-forever": "true" }, "instances", /name the instances to delete/],
    ["appgate with a State Backed input", { operation: "complete-appliance-upgrade", "controller-url": "https://c.example.com:8443", token: "t", machine: "m" }, "machine", /does not apply/],
    ["appgate with max-attempts", { operation: "complete-appliance-upgrade", "controller-url": "https://c.example.com:8443", token: "t", "max-attempts": "3" }, "max-attempts", /does not apply/],
    ["a URL with credentials, not echoed", { operation: "publish-version", ...KEY, "api-url": "https://user:s3cr3t@api.example.com", "version-file": "f" }, "api-url", /^(?!.*s3cr3t).*credentials/],
  ];
  it.each(cases)("rejects %s, naming the input", async (_name, inputs, input, message) => {
    const e = await inputError(inputs);
    expect(e.input).toBe(input);
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(`Input '${input}'`)).toBe(true);
  });
});

describe("config: a URL input that does not parse", () => {
  it("is echoed without its credentials, even when they hold '/' or '@'", async () => {
    for (const url of ["https://admin:hunt/er2@ctrl example", "https://admin:hu@nter2@ctrl example", "https://admin:hunter2@ctrl example"]) {
      const e = await inputError({ operation: "publish-version", ...KEY, "api-url": url, "version-file": "f" });
      expect(e.input).toBe("api-url");
      expect(e.message).toContain("is not a URL");
      expect(e.message).not.toMatch(/hunt|nter2/);
    }
  });
});

describe("config: per operation", () => {
  it("parses publish-migration references", async () => {
    const c = await build({ operation: "publish-migration", ...KEY, "migration-file": "mig.js", "from-version": "label:v1", "to-version": VER });
    expect(c).toMatchObject({ from: { kind: "label", label: "v1" }, to: { kind: "id", id: VER } });
  });

  it("accepts a token and an org id, and masks the token", async () => {
    const c = await build({ operation: "publish-version", machine: "m", token: "tok123", "org-id": "org_1", "version-file": "f", "version-label": "v1" });
    expect(c).toMatchObject({ statebacked: { auth: { kind: "token", token: "tok123" }, orgId: "org_1" }, versionLabel: "v1" });
    expect(c.secrets).toEqual(["tok123"]);
  });

  it("accepts http to loopback for tests", async () => {
    const c = await build({ operation: "publish-version", ...KEY, "api-url": "http://127.0.0.1:9999", "version-file": "f" });
    if (c.operation !== "publish-version") throw new Error("wrong operation");
    expect(c.statebacked.apiUrl.host).toBe("127.0.0.1:9999");
  });

  it("parses set-desired-version with a file, shard, concurrency and from-version", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    const file = join(dir, "list.txt");
    writeFileSync(file, "# fleet\na\n\nb\n  c  \n");
    const c = await build({
      operation: "set-desired-version",
      ...KEY,
      "to-version": "current",
      "from-version": VER,
      "instances-file": file,
      shard: "2/8",
      concurrency: "64",
      "fail-on-error": "false",
    });
    expect(c).toMatchObject({
      selection: { kind: "list", input: "instances-file", names: ["a", "b", "c"] },
      shard: { index: 2, count: 8 },
      concurrency: 64,
      failOnError: false,
      to: { kind: "current" },
      from: { kind: "id", id: VER },
    });
  });

  it("accepts all-instances: false for delete-instances, and keeps an index named __proto__", async () => {
    const d = await build({ operation: "delete-instances", ...KEY, instances: "a", "all-instances": "false", "danger-data-will-be-deleted-forever": "true" });
    expect(d).toMatchObject({ selection: { kind: "list", names: ["a"] } });
    const p = await build({ operation: "publish-version", ...KEY, "version-file": "f", "index-selectors": '{"__proto__":"$.a","email":"$.b"}' });
    if (p.operation !== "publish-version") throw new Error("wrong operation");
    expect(Object.keys(p.indexSelectors!)).toEqual(["__proto__", "email"]);
  });

  it("defaults concurrency to 32 for set-desired-version and 4 for delete-instances", async () => {
    const a = await build({ operation: "set-desired-version", ...KEY, "to-version": VER, "all-instances": "true" });
    const d = await build({ operation: "delete-instances", ...KEY, instances: "a,b", "danger-data-will-be-deleted-forever": "true" });
    expect(a).toMatchObject({ concurrency: 32, selection: { kind: "all" } });
    expect(d).toMatchObject({ concurrency: 4, selection: { kind: "list", names: ["a", "b"] } });
  });
});

describe("config: a long value in an error", () => {
  const big = `${"x".repeat(1_000_000)}::error::`;
  const AG = { operation: "complete-appliance-upgrade", "controller-url": "https://ctrl.example.com:8443", username: "api", password: "pw" };
  it.each([
    ["a boolean", { operation: "set-desired-version", ...KEY, "all-instances": big }, "all-instances"],
    ["a number", { operation: "set-desired-version", ...KEY, "all-instances": "true", concurrency: `1${big}` }, "concurrency"],
    ["a machine name", { operation: "publish-version", ...KEY, machine: big }, "machine"],
    ["an Appgate api-version", { ...AG, "api-version": big }, "api-version"],
    ["an Appgate device-id", { ...AG, "device-id": big }, "device-id"],
  ])("echoes %s cut to 80 characters and an ellipsis", async (_, inputs, input) => {
    const e = await inputError(inputs as Record<string, string>);
    expect(e.input).toBe(input);
    expect(e.message).toMatch(/'[^']{80}…'/);
    expect(e.message).not.toContain("x".repeat(81));
    expect(e.message.length).toBeLessThan(500);
  });
});
