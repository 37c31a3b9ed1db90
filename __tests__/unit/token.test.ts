import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { ApiKeyTokens, TOKEN_LIFETIME_SECONDS, signApiKeyToken } from "../../src/statebacked/token.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const KEY = { keyId: "sbk_key1", secret: "sbsec_secret1" };

describe("State Backed API-key tokens", () => {
  it("signs an HS256 JWT that an independent verifier accepts, with the documented claims", async () => {
    const now = 1_800_000_000;
    const token = signApiKeyToken(KEY, { sub: "github-actions" }, now);
    const { payload, protectedHeader } = await jwtVerify(token, Buffer.from(KEY.secret, "utf8"), {
      audience: "https://api.statebacked.dev/",
      currentDate: new Date(now * 1000),
    });
    expect(protectedHeader).toEqual({ alg: "HS256", kid: "sbk_key1" });
    expect(payload).toEqual({
      act: { sub: "github-actions" },
      aud: "https://api.statebacked.dev/",
      iss: "https://sbk_key1.client.statebacked.dev/",
      iat: now,
      exp: now + TOKEN_LIFETIME_SECONDS,
    });
  });

  it("is keyed by the whole secret string, sbsec_ prefix included", async () => {
    const token = signApiKeyToken(KEY, {}, 1_800_000_000);
    await expect(
      jwtVerify(token, Buffer.from("secret1", "utf8"), { currentDate: new Date(1_800_000_000_000) }),
    ).rejects.toThrow();
  });

  it("reuses a token while it is fresh and mints again before it expires, masking each one", async () => {
    const clock = new FakeClock(1_800_000_000_000);
    const masked: string[] = [];
    const tokens = new ApiKeyTokens(KEY, clock, (t) => masked.push(t));
    const first = tokens.token();
    await clock.advance(60_000);
    expect(tokens.token()).toBe(first);
    await clock.advance((TOKEN_LIFETIME_SECONDS - 4 * 60) * 1000); // less than 5 minutes left
    const second = tokens.token();
    expect(second).not.toBe(first);
    expect(masked).toEqual([first, second]);
    const { payload } = await jwtVerify(second, Buffer.from(KEY.secret), { currentDate: new Date(clock.now()) });
    expect(payload.exp! * 1000).toBeGreaterThan(clock.now() + 10 * 60_000);
  });
});
