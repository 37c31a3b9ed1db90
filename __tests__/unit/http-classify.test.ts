import { describe, expect, it } from "vitest";
import { classifyHttp, describeHttpFailure } from "../../src/http/classify.ts";
import { makeResponse } from "../../src/http/client.ts";
import { TransportError } from "../../src/http/retry.ts";

describe("classifyHttp", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  const res = (status: number, headers: Record<string, string> = {}, body = "") =>
    makeResponse(status, headers, Buffer.from(body));

  it("makes a transient status a retry, with Retry-After and the rate-limited flag", () => {
    expect(classifyHttp(res(429, { "retry-after": "3" }, '{"error":"slow down"}'), now)).toEqual({
      kind: "retry",
      reason: 'HTTP 429: {"error":"slow down"}',
      status: 429,
      retryAfterMs: 3000,
      rateLimited: true,
      mayHaveActed: false,
    });
    expect(classifyHttp(res(503, { "retry-after": "Wed, 01 Jan 2025 00:00:07 GMT" }), now)).toEqual({
      kind: "retry",
      reason: "HTTP 503",
      status: 503,
      retryAfterMs: 7000,
      rateLimited: false,
      mayHaveActed: false,
    });
  });

  it("leaves other answers to the operation", () => {
    expect(classifyHttp(res(200), now)).toBeUndefined();
    expect(classifyHttp(res(404), now)).toBeUndefined();
    expect(classifyHttp(res(501), now)).toBeUndefined();
    expect(classifyHttp(new Error("what"), now)).toBeUndefined();
    expect(classifyHttp(undefined, now)).toBeUndefined();
  });

  it("retries transient network errors as far as the call allows", () => {
    const reset = new TransportError("connection dropped", "ECONNRESET", false, true);
    const notFound = new TransportError("host not found", "ENOTFOUND", false, false);
    expect(classifyHttp(reset, now)).toEqual({ kind: "retry", reason: "connection dropped", code: "ECONNRESET", mayHaveActed: true });
    expect(classifyHttp(notFound, now)).toBeUndefined();
    expect(classifyHttp(reset, now, "unsent-only")).toBeUndefined();
    expect(classifyHttp(res(503), now, "unsent-only")).toBeUndefined();
    expect(classifyHttp(res(429), now, "unsent-only")).toMatchObject({ kind: "retry", rateLimited: true });
  });

  it("says when the server may have acted on a failed try", () => {
    expect(classifyHttp(res(500), now)).toMatchObject({ mayHaveActed: true });
    expect(classifyHttp(res(502), now)).toMatchObject({ mayHaveActed: true });
    expect(classifyHttp(res(504), now)).toMatchObject({ mayHaveActed: true });
    expect(classifyHttp(new TransportError("connection refused", "ECONNREFUSED", true, true), now)).toMatchObject({ mayHaveActed: false });
  });

  it("describes a failed answer with the start of its body", () => {
    expect(describeHttpFailure(res(404, {}, "  no\n such   instance "))).toBe("HTTP 404: no such instance");
    expect(describeHttpFailure(res(500, {}, "x".repeat(300)), 10)).toBe(`HTTP 500: ${"x".repeat(10)}…`);
  });
});
