import { describe, expect, it } from "vitest";
import {
  compareVersions,
  formatVersion,
  isMajorOrMinorUpgrade,
  parseVersion,
  sameVersion,
  versionFromImageName,
} from "../../src/appgate/plan/version.ts";

describe("appliance versions", () => {
  it.each([
    ["appgate-6.2.1-29983-release.img.zip", { major: 6, minor: 2, patch: 1, build: 29983 }],
    ["appgate-5.5.1.img.zip", { major: 5, minor: 5, patch: 1 }],
    ["appgate-6.5.0-beta-123.img.zip", { major: 6, minor: 5, patch: 0 }],
    ["https://cdn.example.com/images/appgate-6.3.2-31234-release.img.zip", { major: 6, minor: 3, patch: 2, build: 31234 }],
    ["6.2.2-12345", { major: 6, minor: 2, patch: 2, build: 12345 }],
    ["6.3.0", { major: 6, minor: 3, patch: 0 }],
    ["6.3", { major: 6, minor: 3, patch: 0 }],
  ])("reads %s", (text, expected) => {
    expect(parseVersion(text)).toEqual(expected);
    expect(versionFromImageName(text)).toEqual(expected);
  });

  it.each(["a reboot is required for the Upgrade to go into effect", "", "appgate.img.zip", "v6"])("finds no version in %j", (text) => {
    expect(parseVersion(text)).toBeUndefined();
  });

  it("compares major, minor, patch, then the build when both have one", () => {
    const v = (s: string) => parseVersion(s)!;
    expect(compareVersions(v("6.2.1"), v("6.2.2"))).toBe(-1);
    expect(compareVersions(v("6.10.0"), v("6.9.9"))).toBe(1);
    expect(compareVersions(v("6.2.1-100"), v("6.2.1-99"))).toBe(1);
    expect(compareVersions(v("6.2.1-100"), v("6.2.1"))).toBe(0);
    expect(sameVersion(v("appgate-6.5.0-32000-release.img.zip"), v("6.5.0-32000"))).toBe(true);
    expect(sameVersion(v("appgate-6.5.0-32000-release.img.zip"), v("6.5.0-32001"))).toBe(false);
    expect(sameVersion(undefined, v("6.5.0"))).toBe(false);
  });

  it("tells a major/minor upgrade from a patch", () => {
    const v = (s: string) => parseVersion(s)!;
    expect(isMajorOrMinorUpgrade(v("6.4.2"), v("6.5.0"))).toBe(true);
    expect(isMajorOrMinorUpgrade(v("6.4.2"), v("7.0.0"))).toBe(true);
    expect(isMajorOrMinorUpgrade(v("6.4.2"), v("6.4.3"))).toBe(false);
    expect(isMajorOrMinorUpgrade(v("6.4.2-1"), v("6.4.2-2"))).toBe(false);
  });

  it("formats back", () => {
    expect(formatVersion(parseVersion("appgate-6.2.1-29983-release.img.zip"))).toBe("6.2.1-29983");
    expect(formatVersion(parseVersion("6.3"))).toBe("6.3.0");
    expect(formatVersion(undefined)).toBe("");
  });
});
