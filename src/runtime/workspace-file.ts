import { constants, type Stats } from "node:fs";
import { open, realpath, stat } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { ExpectedError } from "./errors.ts";

/**
 * Reading a file named by an input, as an attacker-minded reviewer wants it read: only a regular
 * file, only inside the workspace (GITHUB_WORKSPACE) once every link is followed, and never more
 * than a cap, counted while reading (a file may say it is small and not be: /proc). A FIFO, a
 * device (/dev/zero) or a directory is refused before it is opened, and the file is opened
 * non-blocking and without following a last-moment link, so nothing can make the read hang.
 */
export class WorkspaceFileError extends ExpectedError {
  constructor(message: string) {
    super(message);
    this.name = "WorkspaceFileError";
  }
}

export interface WorkspaceFileOptions {
  /** The folder files must be inside (GITHUB_WORKSPACE). */
  workspace: string;
  /** The most bytes read; one more is an error. */
  maxBytes: number;
}

const CHUNK = 64 * 1024;

/**
 * The file's bytes. Throws a WorkspaceFileError (its message completes "'<path>' …") for what
 * this module refuses, and the file system's own error (ENOENT…) otherwise.
 */
export async function readWorkspaceFile(path: string, opts: WorkspaceFileOptions): Promise<Buffer> {
  const real = await insideWorkspace(path, opts.workspace);
  const before = await stat(real).catch((err: unknown) => fail(err));
  if (before.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
  if (!before.isFile()) throw new WorkspaceFileError(`is not a regular file (${kindOf(before)}); only regular files are read`);
  if (before.size > opts.maxBytes) throw tooLarge(opts.maxBytes);
  const flags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
  const handle = await open(real, flags).catch((err: unknown) => fail(err));
  try {
    const now = await handle.stat();
    if (!now.isFile() || now.ino !== before.ino || now.dev !== before.dev) throw new WorkspaceFileError("changed while it was being opened");
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(CHUNK, opts.maxBytes + 1 - total);
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(want), 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
      if (total > opts.maxBytes) throw tooLarge(opts.maxBytes);
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

/** The real path of `path` (links followed), refused unless it is inside the workspace's real path. */
async function insideWorkspace(path: string, workspace: string): Promise<string> {
  const root = await realpath(workspace).catch(() => {
    throw new WorkspaceFileError(`cannot be checked: the workspace '${workspace}' (GITHUB_WORKSPACE) does not exist`);
  });
  const real = await realpath(resolve(path)).catch((err: unknown) => fail(err));
  if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new WorkspaceFileError(`is outside the workspace (${root}, GITHUB_WORKSPACE)${real !== resolve(path) ? " once its links are followed" : ""}; only files inside it are read`);
  }
  return real;
}

function tooLarge(max: number): WorkspaceFileError {
  return new WorkspaceFileError(`is larger than ${max} bytes, the most that is read`);
}

function kindOf(s: Stats): string {
  if (s.isFIFO()) return "a FIFO";
  if (s.isCharacterDevice()) return "a character device";
  if (s.isBlockDevice()) return "a block device";
  if (s.isSocket()) return "a socket";
  return "not a file";
}

/** A file-system error is passed on as it is (its code says what happened, see file-problem.ts). */
function fail(err: unknown): never {
  throw err;
}
