import { spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseOutputFile, runAction } from "../helpers/run-action.ts";

/**
 * Runs the `action` job of .github/workflows/ci.yml here, step by step, as the runner would: its
 * shell steps with bash (the fake started in the background as written), its `uses: ./` steps as
 * dist/index.js with their `with:` evaluated, the outputs carried from step to step. So the job
 * that CI runs is known to pass before it is pushed.
 */
const root = resolve(import.meta.dirname, "../..");

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
}

function bash(script: string, env: Record<string, string>, cwd: string): Promise<{ code: number | null; out: string; pid: number }> {
  // Its own process group, so whatever it leaves in the background is ended with it.
  const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((res) => child.on("close", (code) => res({ code, out, pid: child.pid! })));
}

describe(".github/workflows/ci.yml, job `action`", () => {
  it("passes here: the action from the checkout against the embedded fake, outputs checked by the job's own step", async () => {
    const job = (parse(await readFile(join(root, ".github/workflows/ci.yml"), "utf8")) as { jobs: { action: { steps: Step[] } } }).jobs.action;
    const runnerTemp = await mkdtemp(join(tmpdir(), "ci-job-"));
    const outputs: Record<string, Record<string, string>> = {};
    const evaluate = (value: string): string =>
      value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
        const m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr);
        if (m) return outputs[m[1]!]?.[m[2]!] ?? "";
        if (expr === "runner.temp") return runnerTemp;
        if (expr === "github.run_id") return "4242";
        throw new Error(`expression not handled by this test: ${expr}`);
      });
    const groups: number[] = [];
    const ran: string[] = [];
    try {
      for (const step of job.steps) {
        const label = step.name ?? step.uses ?? step.run ?? "";
        if (step.uses?.startsWith("actions/") || step.run?.startsWith("npm ci") || step.if === "always()") continue;
        if (step.uses === "./") {
          const inputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, evaluate(String(v))]));
          const run = await runAction(inputs);
          expect(run.code, `${label}\n${run.stdout}${run.stderr}`).toBe(0);
          if (step.id) outputs[step.id] = run.outputs;
        } else if (step.run) {
          const outputFile = join(runnerTemp, `output-${ran.length}`);
          await writeFile(outputFile, "");
          const env = { RUNNER_TEMP: runnerTemp, GITHUB_OUTPUT: outputFile, ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, evaluate(v)])) };
          const r = await bash(step.run, env, root);
          groups.push(r.pid);
          expect(r.code, `${label}\n${r.out}`).toBe(0);
          if (step.id) outputs[step.id] = parseOutputFile(await readFile(outputFile, "utf8"));
          if (label === "Check the outputs") expect(r.out).toContain("outputs as expected");
        } else {
          throw new Error(`step not handled by this test: ${label}`);
        }
        ran.push(label);
      }
    } finally {
      for (const pgid of groups) {
        try {
          process.kill(-pgid, "SIGTERM");
        } catch {
          // already gone
        }
      }
    }
    expect(ran).toEqual([
      "Start the fake State Backed API (machine checkout, 200 instances on v1.0.0)",
      "Write a machine and a migration to publish",
      "publish-version",
      "publish-migration",
      "set-desired-version",
      "Check the outputs",
    ]);
    expect(outputs.fake!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
