import { readFileSync, writeFileSync } from "node:fs";
import { parse } from "yaml";

/**
 * The README's input and output tables are generated from action.yml, so the two never drift:
 * `npm run docs` rewrites them, and a test fails when the README is stale.
 */
interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
}

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderTables(actionYml: string): { inputs: string; outputs: string } {
  const a = parse(actionYml) as ActionYml;
  const inputs = [
    "| Input | Required | Default | Description |",
    "| --- | --- | --- | --- |",
    ...Object.entries(a.inputs).map(
      ([name, i]) => `| \`${name}\` | ${i.required ? "yes" : "no"} | ${i.default !== undefined ? `\`${i.default}\`` : ""} | ${cell(i.description)} |`,
    ),
  ].join("\n");
  const outputs = [
    "| Output | Description |",
    "| --- | --- |",
    ...Object.entries(a.outputs).map(([name, o]) => `| \`${name}\` | ${cell(o.description)} |`),
  ].join("\n");
  return { inputs, outputs };
}

export function replaceSection(readme: string, marker: string, content: string): string {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README has no ${start} … ${end} section`);
  return `${readme.slice(0, a + start.length)}\n${content}\n${readme.slice(b)}`;
}

export function renderReadme(readme: string, actionYml: string): string {
  const t = renderTables(actionYml);
  return replaceSection(replaceSection(readme, "inputs", t.inputs), "outputs", t.outputs);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const readme = readFileSync("README.md", "utf8");
  writeFileSync("README.md", renderReadme(readme, readFileSync("action.yml", "utf8")));
}
