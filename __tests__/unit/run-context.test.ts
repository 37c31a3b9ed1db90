import { describe, expect, it } from "vitest";
import { AppgateApiError, AuthError, MisroutedError } from "../../src/appgate/api/errors.ts";
import { PollTimeoutError } from "../../src/appgate/run/poll.ts";
import { InputError } from "../../src/config/inputs.ts";
import { TransportError } from "../../src/http/retry.ts";
import { createRunContext } from "../../src/operations/context.ts";
import { CancelledError } from "../../src/runtime/clock.ts";
import { isExpectedError } from "../../src/runtime/errors.ts";
import { MemoryLogger } from "../../src/runtime/logger.ts";
import { UploadError } from "../../src/statebacked/api.ts";
import { CodeBundleError } from "../../src/statebacked/code-bundle.ts";
import { ApiError } from "../../src/statebacked/errors.ts";
import { VersionResolutionError } from "../../src/statebacked/version-ref.ts";
import { InstantClock } from "../helpers/instant-clock.ts";

describe("expected errors share one base class", () => {
  it("counts the errors whose message says it all, and nothing else", () => {
    const expected = [
      new InputError("machine", "is required"),
      new TransportError("connection refused", "ECONNREFUSED", true, true),
      new ApiError("reading machine 'm'", 404, { error: "not found" }, "machines.read"),
      new UploadError("upload failed", 500, ""),
      new CodeBundleError("bad bundle"),
      new VersionResolutionError("no such label"),
      new AppgateApiError("reading", 500, undefined, undefined),
      new MisroutedError("reading"),
      new AuthError("refused"),
      new PollTimeoutError("waiting", 1000, undefined),
    ];
    for (const err of expected) expect([err.name, isExpectedError(err)]).toEqual([err.name, true]);
    for (const err of [new Error("bug"), new TypeError("x is undefined"), new CancelledError(), "text"]) expect(isExpectedError(err)).toBe(false);
  });
});

describe("createRunContext", () => {
  const env = { sha: "", repository: "", serverUrl: "https://github.com", runUrl: "", tempDir: "/tmp" };

  it("wires one HttpClient with the policy asked for over the defaults, and the run's signal", () => {
    const controller = new AbortController();
    const { ctx } = createRunContext({ clock: new InstantClock(), logger: new MemoryLogger(), env, mask: () => undefined, controller, http: { policy: { maxAttempts: 2 } } });
    expect(ctx.http.policy).toMatchObject({ maxAttempts: 2, baseDelayMs: 200 });
    expect(ctx.signal).toBe(controller.signal);
    expect(ctx.http.signal).toBe(controller.signal);
    expect(ctx.env).toBe(env);
  });
});
