import { tmpdir } from "node:os";
import { basename, dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { TEMP_ROOT_PREFIX } from "../helpers/temp-root.ts";

describe("the tests' temp folders", () => {
  it("are under the run's own root, which the global setup removes at the end", () => {
    expect(basename(tmpdir()).startsWith(TEMP_ROOT_PREFIX)).toBe(true);
    expect(basename(dirname(tmpdir())).startsWith(TEMP_ROOT_PREFIX)).toBe(false);
  });
});
