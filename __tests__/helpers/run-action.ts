import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";

export const DIST = resolve(import.meta.dirname, "../../dist/index.js");

/** The defaults action.yml declares, which the runner passes for inputs a step does not set. */
const ACTION_DEFAULTS: Record<string, string> = Object.fromEntries(
  Object.entries((parse(readFileSync(resolve(import.meta.dirname, "../../action.yml"), "utf8")) as { inputs: Record<string, { default?: string }> }).inputs)
    .filter(([, i]) => i.default !== undefined)
    .map(([name, i]) => [name, i.default!]),
);

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Parsed from the GITHUB_OUTPUT file (name<<delimiter blocks). */
  outputs: Record<string, string>;
  /** The GITHUB_STEP_SUMMARY file's content. */
  summary: string;
  tempDir: string;
  /** Milliseconds from the signal (when one was sent) to exit. */
  exitAfterSignalMs?: number;
}

export interface RunOptions {
  /** Extra variables; undefined removes one the runner would set (e.g. GITHUB_STEP_SUMMARY on an old GHES). */
  env?: Record<string, string | undefined>;
  /** Send this signal once `when(stdout)` is true (e.g. a progress line appeared). */
  signal?: { name: NodeJS.Signals; when: (stdout: string) => boolean };
  timeoutMs?: number;
}

/**
 * Runs the built dist/index.js exactly as the runner does: inputs as INPUT_<NAME> with the
 * name upper-cased and hyphens kept, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, RUNNER_TEMP.
 */
export async function runAction(inputs: Record<string, string>, opts: RunOptions = {}): Promise<ActionRun> {
  const dir = await mkdtemp(join(tmpdir(), "action-run-"));
  const outputFile = join(dir, "output.txt");
  const summaryFile = join(dir, "summary.md");
  const runnerTemp = join(dir, "runner-temp");
  await writeFile(outputFile, "");
  await writeFile(summaryFile, "");
  const { mkdir } = await import("node:fs/promises");
  await mkdir(runnerTemp);

  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? dir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: runnerTemp,
    GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
    GITHUB_REPOSITORY: "acme/backend",
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_RUN_ID: "4242",
    GITHUB_ACTIONS: "true",
    // File inputs are read only inside the workspace; tests write theirs under the temp folder.
    GITHUB_WORKSPACE: tmpdir(),
    ...opts.env,
  };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  // As the runner does: every input with a default in action.yml is set, then the step's own.
  for (const [name, value] of Object.entries({ ...ACTION_DEFAULTS, ...inputs })) env[`INPUT_${name.toUpperCase()}`] = value;

  const child = spawn(process.execPath, [DIST], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let signalledAt: number | undefined;
  const maybeSignal = (): void => {
    if (opts.signal && signalledAt === undefined && opts.signal.when(stdout)) {
      signalledAt = Date.now();
      child.kill(opts.signal.name);
    }
  };
  // The condition may watch the fake server's state as well as stdout: check it often.
  const watcher = opts.signal ? setInterval(maybeSignal, 5) : undefined;
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    maybeSignal();
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const timeout = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
  const code = await new Promise<number | null>((res) => child.on("close", (c) => res(c)));
  const exitedAt = Date.now();
  clearTimeout(timeout);
  if (watcher) clearInterval(watcher);

  const outputs = parseOutputFile(await readFile(outputFile, "utf8"));
  const summary = await readFile(summaryFile, "utf8");
  return {
    code,
    stdout,
    stderr,
    outputs,
    summary,
    tempDir: runnerTemp,
    ...(signalledAt !== undefined ? { exitAfterSignalMs: exitedAt - signalledAt } : {}),
  };
}

/** Everything a person or a later step can see: logs (less the runner's own ::add-mask:: commands), summary, outputs. */
export function visibleText(run: ActionRun): string {
  const logs = (run.stdout + run.stderr)
    .split("\n")
    .filter((l) => !l.startsWith("::add-mask::"))
    .join("\n");
  return `${logs}\n${run.summary}\n${JSON.stringify(run.outputs)}`;
}

/** Parses the GITHUB_OUTPUT format written by @actions/core (name<<DELIM\nvalue\nDELIM). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (m) {
      const [, name, delim] = m;
      const value: string[] = [];
      i++;
      while (i < lines.length && lines[i] !== delim) value.push(lines[i++]!);
      out[name!] = value.join("\n");
    } else {
      const eq = /^([^=]+)=(.*)$/.exec(lines[i]!);
      if (eq) out[eq[1]!] = eq[2]!;
    }
  }
  return out;
}
