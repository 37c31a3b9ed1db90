import { describe, expect, it } from "vitest";
import { ApiError, parseErrorBody } from "../../src/statebacked/errors.ts";

describe("API error lines", () => {
  it("say the step, status, code, parameter, message and a hint in one line", () => {
    const e = new ApiError("finalizing the version", 400, { error: "bad value", code: "invalid-parameter", parameter: "indexSelectors" }, "machine-versions.write");
    expect(e.message).toBe("finalizing the version failed: HTTP 400, code invalid-parameter, parameter 'indexSelectors' — bad value");
    expect(e.message).not.toContain("\n");
  });

  it.each([
    [400, "specify-org", "machines.read", /set the 'org-id' input/],
    [403, "missing-scope", "instances.admin", /'instances\.admin' scope/],
    [403, "missing-scope", "machine-versions.write", /'machine-versions\.write' scope/],
    [401, undefined, "machines.read", /check 'api-key-id' and 'api-key-secret'/],
    [403, undefined, "machines.read", /check 'api-key-id'/],
    [400, "no-migration-path", "instances.write", /publish a migration/],
    [404, undefined, "machines.read", /check the 'machine' name/],
  ])("hint for HTTP %s %s", (status, code, scope, hint) => {
    const e = new ApiError("doing it", status, code ? { code } : {}, scope);
    expect(e.hint).toMatch(hint);
    expect(e.message).toContain("(hint: ");
  });

  it("reads JSON error bodies and keeps the start of anything else", () => {
    expect(parseErrorBody('{"error":"x","code":"y","parameter":"z"}')).toEqual({ error: "x", code: "y", parameter: "z" });
    expect(parseErrorBody("<html>bad gateway</html>")).toEqual({ error: "<html>bad gateway</html>" });
    expect(parseErrorBody("")).toEqual({});
  });
});
