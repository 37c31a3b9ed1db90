import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildConfig, knownInputs } from "../../src/config/config.ts";
import { InputError } from "../../src/config/inputs.ts";
import { closest, didYouMean, editDistance } from "../../src/config/suggest.ts";
import { loadCodeBundle } from "../../src/statebacked/code-bundle.ts";

const KEY = { "api-key-id": "sbk_abc", "api-key-secret": "sbsec_xyz", machine: "m" };
const VER = "ver_AAAAAAAAAAAAAAAAAAAAAA";

async function errorOf(inputs: Record<string, string>, inputNames?: string[]): Promise<InputError> {
  const run = { sha: "abc", repository: "acme/x", workspace: process.cwd(), ...(inputNames ? { inputNames } : {}) };
  const err = await buildConfig((n) => inputs[n] ?? "", run).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

describe("did you mean", () => {
  it("measures edits and picks a plausible slip only", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(closest("set-desired-versions", ["publish-version", "set-desired-version"])).toBe("set-desired-version");
    expect(closest("versoin-file", knownInputs())).toBe("version-file");
    expect(closest("to_version", knownInputs())).toBe("to-version");
    expect(closest("version-desired-set", ["set-desired-version"])).toBe("set-desired-version");
    expect(closest("colour", knownInputs())).toBeUndefined();
    expect(didYouMean("xyz", ["publish-version"])).toBe("");
  });

  it("suggests the operation meant", async () => {
    const e = await errorOf({ operation: "set-desired-versions", ...KEY });
    expect(e.input).toBe("operation");
    expect(e.message).toContain("'set-desired-versions' is not valid. Did you mean 'set-desired-version'?");
  });

  it("refuses an input the action does not read, naming the closest one", async () => {
    const inputs = { operation: "set-desired-version", ...KEY, "to-versions": VER, instances: "a" };
    const e = await errorOf(inputs, Object.keys(inputs));
    expect(e.input).toBe("to-versions");
    expect(e.message).toBe(
      "Input 'to-versions': is not an input of this action, so it would be ignored. Did you mean 'to-version'? Rename or remove it in the step's 'with:'.",
    );
    const far = await errorOf({ operation: "publish-version", ...KEY }, ["operation", "colour"]);
    expect(far.message).not.toContain("Did you mean");
  });

  it("accepts every input declared for the action", async () => {
    const inputs = { operation: "set-desired-version", ...KEY, "to-version": VER, instances: "a", "dry-run": "false", "api-url": "https://api.statebacked.dev" };
    await expect(buildConfig((n) => (inputs as Record<string, string>)[n] ?? "", { sha: "a", repository: "r", workspace: process.cwd(), inputNames: Object.keys(inputs) })).resolves.toMatchObject({
      operation: "set-desired-version",
    });
  });
});

describe("error wording says what to change", () => {
  it("hints label: for a bare label, and says what a version id looks like", async () => {
    const e = await errorOf({ operation: "set-desired-version", ...KEY, "to-version": "v1.1.0", instances: "a" });
    expect(e.message).toContain("to name the version labelled 'v1.1.0', write 'label:v1.1.0'");
    const id = await errorOf({ operation: "set-desired-version", ...KEY, "to-version": "ver_abc", instances: "a" });
    expect(id.message).toContain("'ver_abc' is not a version id (ver_ followed by 22 characters)");
  });

  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("says a missing file's path is relative to the workspace, in plain words", async () => {
    const e = await errorOf({ operation: "set-desired-version", ...KEY, "to-version": VER, "instances-file": "ops/instances.txt" });
    expect(e.message).toBe(
      `Input 'instances-file': cannot read 'ops/instances.txt': there is no such file; relative paths start from the workspace (${process.cwd()}, ` +
        "where actions/checkout puts the repository). Check the path, and that an earlier step (actions/checkout, your build) created the file",
    );
    expect(e.message).not.toContain("ENOENT");
  });

  it("says a folder is not a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wording-"));
    dirs.push(dir);
    writeFileSync(join(dir, "x.js"), "x");
    await expect(loadCodeBundle("version-file", relative(process.cwd(), dir), tmpdir())).rejects.toThrow(/it is a folder, not a file; relative paths start from the workspace/);
    await expect(loadCodeBundle("version-file", dir, tmpdir())).rejects.toThrow(new RegExp(`^Input 'version-file': cannot read '${dir}': it is a folder, not a file$`));
  });

  it("tells how to sign in to the Controller", async () => {
    const e = await errorOf({ operation: "complete-appliance-upgrade", "controller-url": "https://c.example.com" });
    expect(e.message).toBe(
      "Input 'username': is required: set 'username' and 'password' (an admin API user), or 'token', so the action can sign in to the Controller",
    );
  });
});
