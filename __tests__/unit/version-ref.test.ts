import { describe, expect, it } from "vitest";
import { versionRefInput } from "../../src/config/config.ts";
import { InputError } from "../../src/config/inputs.ts";
import { describeVersionRef, parseVersionRef } from "../../src/statebacked/version-ref.ts";

describe("version references", () => {
  it.each([
    ["ver_AAAAAAAAAAAAAAAAAAAAAA", { kind: "id", id: "ver_AAAAAAAAAAAAAAAAAAAAAA" }],
    ["ver_abc-DEF_12345678901234", { kind: "id", id: "ver_abc-DEF_12345678901234" }],
    ["current", { kind: "current" }],
    ["label:v1.2.3", { kind: "label", label: "v1.2.3" }],
    ["label:release 2026/11 (rc:1)", { kind: "label", label: "release 2026/11 (rc:1)" }],
  ])("parses %s", (value, ref) => {
    expect(parseVersionRef(value)).toEqual(ref);
    expect(versionRefInput("to-version", value)).toEqual(ref);
    expect(describeVersionRef(versionRefInput("to-version", value))).toBe(value);
  });

  it.each(["ver_short", "ver_AAAAAAAAAAAAAAAAAAAAAAA", "v1.2.3", "Current", "label:", "ver_AAAAAAAAAAAAAAAAAAAA+/"])("refuses %s naming the input", (value) => {
    const err = (() => {
      try {
        versionRefInput("from-version", value);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe("from-version");
    expect(parseVersionRef(value)).toHaveProperty("problem");
  });
});
