import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Vitest global setup: every temp folder the tests make (runAction's, the fakes' files, the
 * e2e version files) goes under one folder of this test run, removed when the run ends, so a
 * run leaves nothing in the system's temp folder. The workers inherit TMPDIR.
 */
export const TEMP_ROOT_PREFIX = "vitest-run-";

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), TEMP_ROOT_PREFIX));
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
