/**
 * Issue 9, item 7: file inputs are read only when they are regular files inside the workspace
 * (links followed), with a size cap counted while reading; a FIFO or a device never hangs the
 * run or fills memory; bad names from instances-file are reported cut short and escaped.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildConfig, MAX_INSTANCES_FILE_BYTES, type PublishVersionConfig, type SetDesiredVersionConfig } from "../../src/config/config.ts";
import { InputError } from "../../src/config/inputs.ts";
import { publishVersion } from "../../src/operations/publish-version.ts";
import { setDesiredVersion } from "../../src/operations/set-desired-version.ts";
import { readWorkspaceFile } from "../../src/runtime/workspace-file.ts";
import { type FakeStateBacked, SCOPES_ALL, startFakeStateBacked } from "../fakes/statebacked/server.ts";
import { makeContext } from "../helpers/context.ts";

const KEY = { keyId: "sbk_ws", secret: "sbsec_ws_secret", orgId: "org_w", scopes: [...SCOPES_ALL] };
let fake: FakeStateBacked;
/** The workspace, and a folder outside it. */
let ws: string;
let outside: string;

beforeEach(async () => {
  fake = await startFakeStateBacked({ keys: [KEY] });
  fake.addMachine("app");
  const v1 = fake.addVersion("app", "v1");
  const v2 = fake.addVersion("app", "v2", { current: true });
  fake.addMigration("app", v1.id, v2.id);
  fake.addInstances("app", ["a", "b"], v1.id);
  ws = mkdtempSync(join(tmpdir(), "ws-"));
  outside = mkdtempSync(join(tmpdir(), "outside-"));
});
afterEach(() => fake.close());

function build<T>(inputs: Record<string, string>, workspace = ws): Promise<T> {
  const all: Record<string, string> = { "api-url": fake.url, "api-key-id": KEY.keyId, "api-key-secret": KEY.secret, machine: "app", ...inputs };
  return buildConfig((n) => all[n] ?? "", { sha: "s", repository: "r", workspace }) as Promise<T>;
}

async function publishError(versionFile: string, workspace = ws): Promise<string> {
  const cfg = await build<PublishVersionConfig>({ operation: "publish-version", "version-file": versionFile }, workspace);
  const err = await publishVersion(cfg, makeContext().ctx).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err, "the publish should have been refused").toBeInstanceOf(Error);
  expect(fake.requests, "nothing is sent").toHaveLength(0);
  return err!.message;
}

async function instancesFileError(file: string, workspace = ws): Promise<InputError> {
  const err = await build({ operation: "set-desired-version", "to-version": "current", "instances-file": file }, workspace).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).input).toBe("instances-file");
  return err as InputError;
}

function fifo(path: string): string {
  execFileSync("mkfifo", [path]);
  return path;
}

describe("version-file", () => {
  it("a link inside the workspace to a file outside it is refused", async () => {
    writeFileSync(join(outside, "secret.txt"), "not for upload");
    symlinkSync(join(outside, "secret.txt"), join(ws, "bundle.js"));
    expect(await publishError(join(ws, "bundle.js"))).toMatch(/^Input 'version-file': '.*bundle\.js' is outside the workspace \(.*\) once its links are followed/);
  });

  it("a file outside the workspace is refused; a link to a file inside it is followed", async () => {
    writeFileSync(join(outside, "b.js"), "export default {};");
    expect(await publishError(join(outside, "b.js"))).toMatch(/outside the workspace/);
    mkdirSync(join(ws, "dist"));
    writeFileSync(join(ws, "dist", "real.js"), "export default {};");
    symlinkSync(join(ws, "dist", "real.js"), join(ws, "link.js"));
    const t = makeContext();
    await publishVersion(await build<PublishVersionConfig>({ operation: "publish-version", "version-file": join(ws, "link.js") }), t.ctx);
    expect(t.report.outputs.get("created")).toBe("true");
  });

  it("/dev/zero is refused at once, inside or outside the workspace", async () => {
    expect(await publishError("/dev/zero")).toMatch(/outside the workspace/);
    expect(await publishError("/dev/zero", "/")).toMatch(/'\/dev\/zero' is not a regular file \(a character device\)/);
  });

  it("a FIFO is refused without waiting for a writer", async () => {
    expect(await publishError(fifo(join(ws, "pipe.js")))).toMatch(/is not a regular file \(a FIFO\)/);
  });

  it("a directory is refused", async () => {
    expect(await publishError(ws)).toMatch(/it is a folder, not a file/);
  });

  it("a missing file says so", async () => {
    expect(await publishError(join(ws, "nope.js"))).toMatch(/'.*nope\.js': there is no such file/);
  });

  it("a file over 10 MB is refused (the State Backed limit)", async () => {
    const big = join(ws, "big.js");
    writeFileSync(big, "");
    truncateSync(big, 10_000_001);
    expect(await publishError(big)).toMatch(/is larger than 10000000 bytes/);
  });
});

describe("instances-file", () => {
  it("a FIFO, a device, a link outside the workspace and an oversized file are refused with an input error", async () => {
    expect((await instancesFileError(fifo(join(ws, "names.fifo")))).message).toMatch(/a FIFO/);
    expect((await instancesFileError("/dev/zero", "/")).message).toMatch(/a character device/);
    writeFileSync(join(outside, "names.txt"), "a\nb\n");
    symlinkSync(join(outside, "names.txt"), join(ws, "names.txt"));
    expect((await instancesFileError(join(ws, "names.txt"))).message).toMatch(/outside the workspace/);
    const big = join(ws, "big.txt");
    writeFileSync(big, "");
    truncateSync(big, MAX_INSTANCES_FILE_BYTES + 1);
    expect((await instancesFileError(big)).message).toMatch(new RegExp(`larger than ${MAX_INSTANCES_FILE_BYTES} bytes`));
    expect(fake.requests).toHaveLength(0);
  });

  it("a path with a control character is refused as an input, without echoing it", async () => {
    const err = await instancesFileError(join(ws, "x\n::error::y"));
    expect(err.message).toMatch(/single line without control characters \(found U\+000A\)$/);
  });

  it("bad names are reported cut short and escaped: outputs, report file, summary", async () => {
    const long = "n".repeat(10_000);
    const file = join(ws, "names.txt");
    writeFileSync(file, `a\n${long}\nbad\u001b[31mname\n::error::injected\n`);
    const t = makeContext();
    await setDesiredVersion(await build<SetDesiredVersionConfig>({ operation: "set-desired-version", "to-version": "current", "instances-file": file }), t.ctx);
    const failed = t.report.outputs.get("failed-instances")!.split("\n");
    expect(failed).toHaveLength(3);
    expect(failed).toContain("::error::injected");
    expect(failed).toContain(`${"n".repeat(160)}…`);
    expect(failed).toContain("bad\\u001b[31mname");
    const written = [...t.report.outputs.values(), ...t.report.summary, readFileSync(t.report.outputs.get("report-file")!, "utf8")].join("\n");
    expect(written).not.toContain("\u001b");
    expect(written).not.toContain("n".repeat(161));
    expect(t.report.outputs.get("succeeded-count")).toBe("1");
  });
});

describe("readWorkspaceFile", () => {
  it("counts the cap while reading: a file that says it is empty (/proc) but is not", async () => {
    if (!existsSync("/proc/self/maps")) return;
    await expect(readWorkspaceFile("/proc/self/maps", { workspace: "/", maxBytes: 64 })).rejects.toThrow(/larger than 64 bytes/);
  });

  it("reads a regular file inside the workspace up to the cap exactly", async () => {
    writeFileSync(join(ws, "f"), "x".repeat(100));
    expect((await readWorkspaceFile(join(ws, "f"), { workspace: ws, maxBytes: 100 })).toString()).toBe("x".repeat(100));
    await expect(readWorkspaceFile(join(ws, "f"), { workspace: ws, maxBytes: 99 })).rejects.toThrow(/larger than 99 bytes/);
  });
});
