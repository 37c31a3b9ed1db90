import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { OPERATIONS } from "../../src/config/config.ts";
import { renderReadme } from "../../scripts/action-docs.ts";

const root = resolve(import.meta.dirname, "../..");
const actionYml = readFileSync(resolve(root, "action.yml"), "utf8");
const readme = readFileSync(resolve(root, "README.md"), "utf8");
const src = (p: string) => readFileSync(resolve(root, "src", p), "utf8");

describe("README and action.yml stay in step", () => {
  it("the README's input and output tables are the ones generated from action.yml (run `npm run docs`)", () => {
    expect(readme).toBe(renderReadme(readme, actionYml));
  });

  it("every input the code reads is declared in action.yml, and every declared input is read", () => {
    const declared = Object.keys((parse(actionYml) as { inputs: object }).inputs).sort();
    const code = ["config/config.ts", "config/appgate.ts", "config/rollout.ts"].map(src).join("\n");
    const read = new Set<string>();
    for (const m of code.matchAll(/(?:optional|required|raw|bool|int|oneOf)\(\s*"([a-z-]+)"/g)) read.add(m[1]!);
    for (const m of code.matchAll(/"([a-z]+(?:-[a-z]+)+)"/g)) if (declared.includes(m[1]!)) read.add(m[1]!);
    for (const name of declared) expect(read.has(name) || code.includes(`"${name}"`), `input ${name} is not read`).toBe(true);
    for (const name of read) if (!OPERATIONS.includes(name as never)) expect(declared, `input ${name} is not in action.yml`).toContain(name);
  });

  it("every output the operations set is declared in action.yml", () => {
    const declared = Object.keys((parse(actionYml) as { outputs: object }).outputs);
    const files = ["operations/publish-version.ts", "operations/publish-migration.ts", "operations/instance-bulk.ts", "operations/bulk-summary.ts", "operations/rollout.ts", "operations/set-desired-version.ts", "operations/complete-appliance-upgrade.ts"];
    const set = new Set<string>();
    for (const f of files) for (const m of src(f).matchAll(/setOutput\("([a-z-]+)"/g)) set.add(m[1]!);
    expect(set.size).toBeGreaterThan(10);
    for (const o of set) expect(declared).toContain(o);
  });

  it("runs on node24 and every operation is documented", () => {
    const a = parse(actionYml) as { runs: { using: string; main: string } };
    expect(a.runs).toEqual({ using: "node24", main: "dist/index.js" });
    for (const op of OPERATIONS) expect(readme).toContain(`operation: ${op}`);
  });
});
