import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse, stringify } from "yaml";

/** A ```yaml block of a Markdown file, as a whole workflow that actionlint can check. */
export interface Snippet {
  /** `README.md:137` (the line of the opening fence). */
  where: string;
  source: string;
  /** The block as a whole workflow (a list of steps or a job becomes one job of a workflow). */
  workflow: string;
}

export interface WorkflowStep {
  id?: string;
  uses?: string;
  with?: Record<string, unknown>;
}

/** Markdown files to check: the README and everything under docs/. */
export function markdownFiles(root: string): string[] {
  const files = [join(root, "README.md")];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith(".md")) files.push(p);
    }
  };
  walk(join(root, "docs"));
  return files;
}

export function yamlSnippets(root: string, file: string): Snippet[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ya?ml\s*$/.test(lines[i]!)) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const source = dedent(body).join("\n");
    out.push({ where: `${relative(root, file)}:${start + 1}`, source, workflow: asWorkflow(source) });
  }
  return out;
}

function dedent(lines: string[]): string[] {
  const indents = lines.filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)![0].length);
  const cut = Math.min(...indents);
  return lines.map((l) => l.slice(cut));
}

type Job = Record<string, unknown> & { steps?: unknown[] };

/** A workflow as is; a list of steps, a job body or a map of jobs inside a minimal workflow. */
export function asWorkflow(source: string): string {
  const doc = parse(source) as unknown;
  if (isRecord(doc) && "jobs" in doc) return source;
  let jobs: Record<string, Job>;
  if (Array.isArray(doc)) jobs = { snippet: { "runs-on": "ubuntu-latest", steps: doc } };
  else if (isRecord(doc) && ("steps" in doc || "strategy" in doc || "runs-on" in doc)) jobs = { snippet: { "runs-on": "ubuntu-latest", ...doc } };
  else if (isRecord(doc) && Object.values(doc).every(isRecord)) jobs = doc as Record<string, Job>;
  else throw new Error(`not a workflow, a job or a list of steps:\n${source}`);
  // Steps a fragment refers to but does not show (e.g. `steps.version` of the quick start) become stubs.
  for (const job of Object.values(jobs)) {
    const steps = (job.steps ?? []) as WorkflowStep[];
    const defined = new Set(steps.map((s) => s.id));
    const referred = new Set([...source.matchAll(/steps\.([A-Za-z_][\w-]*)\./g)].map((m) => m[1]!));
    const stubs = [...referred].filter((id) => !defined.has(id)).map((id) => ({ id, run: "echo stub" }));
    job.steps = [...stubs, ...steps];
  }
  return stringify({ on: "workflow_dispatch", jobs });
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** Every step of a workflow, in every job. */
export function stepsOf(workflow: string): WorkflowStep[] {
  const doc = parse(workflow) as { jobs?: Record<string, { steps?: WorkflowStep[] }> };
  return Object.values(doc.jobs ?? {}).flatMap((j) => j.steps ?? []);
}

/** Whether a step runs this action (a pinned reference to it, or `./` from a checkout of it). */
export function isThisAction(step: WorkflowStep): boolean {
  return step.uses !== undefined && (/^\.\/?$/.test(step.uses) || /\/statebacked-release-action@/.test(step.uses));
}
