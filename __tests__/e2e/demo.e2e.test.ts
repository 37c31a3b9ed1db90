import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

/** `npm run demo` (node demo/run-demo.ts) against the built dist/index.js, in a temp folder of its own. */
const DEMO = resolve(import.meta.dirname, "../../demo/run-demo.ts");
let temp: string | undefined;

afterEach(async () => {
  if (temp) await rm(temp, { recursive: true, force: true });
});

describe("npm run demo", () => {
  it("runs every step of the demo as the runner would, and leaves no temp folder behind", async () => {
    temp = await mkdtemp(join(tmpdir(), "demo-test-"));
    const child = spawn(process.execPath, [DEMO], { env: { ...process.env, TMPDIR: temp }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
    const code = await new Promise<number | null>((res) => child.on("close", res));
    expect(code, out).toBe(0);
    // publish-version, publish-migration, set-desired-version, fleet-status, delete (dry run), Appgate plan and upgrade pass;
    // a run with no migration published and a mistyped operation fail, as they should.
    expect(out.match(/^exit code 0$/gm), out).toHaveLength(7);
    expect(out.match(/^exit code 1$/gm), out).toHaveLength(2);
    // The log as the runner shows it: no workflow command is printed raw.
    expect(out).not.toMatch(/^ {2}::/m);
    expect(out).toContain("  Error: Input 'operation': 'set-desired-versions' is not valid. Did you mean 'set-desired-version'?");
    expect(await readdir(temp)).toEqual([]);
  }, 240_000);
});
