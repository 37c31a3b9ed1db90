import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { OPERATIONS, inputsFor, knownInputs } from "../../src/config/config.ts";
import { OPERATION_ENDPOINTS, REQUIRED, describeFor, operationsNamed, renderOperationPage, splitDefault } from "../../scripts/action-docs.ts";

const root = resolve(import.meta.dirname, "../..");
const actionYml = readFileSync(resolve(root, "action.yml"), "utf8");
const read = (p: string): string => readFileSync(resolve(root, p), "utf8");

describe("docs/ stays in step with action.yml and the code", () => {
  it.each(OPERATIONS)("docs/operations/%s.md has the generated tables of today's action.yml (run `npm run docs`)", (op) => {
    const page = read(`docs/operations/${op}.md`);
    expect(page).toBe(renderOperationPage(page, actionYml, op));
    expect(page.startsWith(`# \`operation: ${op}\``)).toBe(true);
    expect(read("docs/operations/README.md")).toContain(`(${op}.md)`);
  });

  it("the action reads exactly the inputs action.yml declares", () => {
    const declared = Object.keys((parse(actionYml) as { inputs: object }).inputs).sort();
    expect(knownInputs().sort()).toEqual(declared);
  });

  it("every State Backed operation lists its key scopes; every required input is one the operation reads", () => {
    for (const op of OPERATIONS) {
      const appgate = inputsFor(op).includes("controller-url");
      expect(OPERATION_ENDPOINTS[op] === undefined, op).toBe(appgate);
      for (const name of Object.keys(REQUIRED[op] ?? {})) expect(inputsFor(op), `${op}: ${name}`).toContain(name);
    }
  });

  it("the troubleshooting page covers every API code the action gives a hint for, and the pages it links exist", () => {
    const errors = read("src/statebacked/errors.ts");
    const codes = [...errors.matchAll(/case "([a-z-]+)":/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(4);
    const page = read("docs/troubleshooting.md");
    for (const code of codes) expect(page, code).toContain(`\`${code}\``);
    for (const doc of ["docs/troubleshooting.md", "docs/permissions.md", "docs/operations/README.md", ...OPERATIONS.map((o) => `docs/operations/${o}.md`)]) {
      for (const m of read(doc).matchAll(/\]\(([^)#:]+\.md)(?:#[^)]*)?\)/g)) expect(existsSync(resolve(root, doc, "..", m[1]!)), `${doc} → ${m[1]}`).toBe(true);
    }
  });

  it("the permissions note says the workflow token needs only contents: read", () => {
    expect(read("docs/permissions.md")).toContain("contents: read");
  });
});

describe("description helpers", () => {
  it("takes the default out of a description", () => {
    expect(splitDefault("Timeout of one request, in seconds. Default 30.")).toEqual({ text: "Timeout of one request, in seconds.", defaultValue: "`30`" });
    expect(splitDefault("the label. Default: the commit SHA of the run.")).toEqual({ text: "the label.", defaultValue: "the commit SHA of the run" });
    expect(splitDefault("x", "false")).toEqual({ text: "x", defaultValue: "`false`" });
  });

  it("keeps the part of a description about one operation", () => {
    const d = "publish-migration: the version migrated from. set-desired-version: only instances on this version. A version id.";
    expect(describeFor(d, "set-desired-version")).toBe("only instances on this version. A version id.");
    expect(describeFor(d, "publish-migration")).toBe("the version migrated from.");
    expect(describeFor("set-desired-version, delete-instances: names.", "delete-instances")).toBe("names.");
    expect(describeFor("Appgate operations: the address.", "complete-appliance-upgrade")).toBe("the address.");
  });

  it("reads which operations a description is about", () => {
    expect(operationsNamed("fleet-status with to-version: instances on it.")).toEqual(["fleet-status"]);
    expect(operationsNamed("Appgate operations: names.")).toEqual(["complete-appliance-upgrade", "prepare-appliance-upgrade", "cancel-appliance-upgrade"]);
    expect(operationsNamed("Path of the report file.")).toBeUndefined();
  });
});
