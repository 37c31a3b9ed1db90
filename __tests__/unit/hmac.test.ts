import { describe, expect, it } from "vitest";
import { instanceDeletionHmac } from "../../src/statebacked/hmac.ts";

describe("instance deletion HMAC", () => {
  it.each([
    ["machine", "instance", "hCmnZsGVeQ1cogGobOqEYzI8jQuDYy5y4HCteWUHryo"],
    ["my-machine", "user-1234", "OMrbCLyRO_ngkHnzeEnEm-l0GpFV9KC9jiMZsgeQEWo"],
  ])("matches the published vector for (%s, %s)", (machine, instance, expected) => {
    expect(instanceDeletionHmac(machine, instance)).toBe(expected);
  });

  it("is keyed by the machine, not the instance (order matters), and unpadded base64url", () => {
    const v = instanceDeletionHmac("instance", "machine");
    expect(v).not.toBe("hCmnZsGVeQ1cogGobOqEYzI8jQuDYy5y4HCteWUHryo");
    expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
