import { gzipSync } from "node:zlib";
import { fileProblem } from "../runtime/file-problem.ts";
import { quoteUntrusted } from "../runtime/escape.ts";
import { readWorkspaceFile, WorkspaceFileError } from "../runtime/workspace-file.ts";
import { ExpectedError } from "../runtime/errors.ts";

/** State Backed's limits on uploaded code. */
export const MAX_GZIPPED_BYTES = 1_000_000;
export const MAX_RAW_BYTES = 10_000_000;

export interface CodeBundle {
  path: string;
  raw: Buffer;
  gzipped: Buffer;
}

export class CodeBundleError extends ExpectedError {
  constructor(message: string) {
    super(message);
    this.name = "CodeBundleError";
  }
}

/**
 * Reads (a regular file inside the workspace, at most MAX_RAW_BYTES read) and gzips (level 9) a
 * JS bundle, refusing one over the limits before any request.
 */
export async function loadCodeBundle(input: string, path: string, workspace: string): Promise<CodeBundle> {
  let raw: Buffer;
  try {
    raw = await readWorkspaceFile(path, { workspace, maxBytes: MAX_RAW_BYTES });
  } catch (err) {
    throw new CodeBundleError(`Input '${input}': ${err instanceof WorkspaceFileError ? `'${quoteUntrusted(path)}' ${err.message}` : fileProblem(path, err)}`);
  }
  if (raw.length === 0) throw new CodeBundleError(`Input '${input}': '${path}' is empty`);
  const gzipped = gzipSync(raw, { level: 9 });
  checkLimits(input, path, raw.length, gzipped.length);
  return { path, raw, gzipped };
}

export function checkLimits(input: string, path: string, rawBytes: number, gzippedBytes: number): void {
  if (rawBytes > MAX_RAW_BYTES || gzippedBytes > MAX_GZIPPED_BYTES) {
    throw new CodeBundleError(
      `Input '${input}': '${path}' is too large for State Backed: ${rawBytes} bytes raw (limit ${MAX_RAW_BYTES}), ` +
        `${gzippedBytes} bytes gzipped (limit ${MAX_GZIPPED_BYTES})`,
    );
  }
}
