import type { Exchange } from "../http-fake.ts";
import { type KeyRecord, verifyKeyToken } from "./jwt.ts";
import type { FakeOptions } from "./model.ts";

/**
 * Who is calling, as the API decides it: a bearer token that is either a user's (orgs and the
 * org header) or signed with an API key (HS256, audience, expiry). Answers the refusal and
 * returns undefined, or returns the caller's scopes.
 */
export function authenticate(ex: Exchange, opts: FakeOptions, keys: ReadonlyMap<string, KeyRecord>, nowMs: number): string[] | undefined {
  const m = /^Bearer (.+)$/.exec(ex.headers.authorization ?? "");
  if (!m) return void ex.send(401, { error: "missing bearer token" });
  const token = m[1]!;
  const user = opts.userTokens?.[token];
  if (user) {
    const org = ex.headers["x-statebacked-org-id"];
    if (user.orgs.length > 1 && !org) return void ex.send(400, { error: "you belong to several orgs: pass x-statebacked-org-id", code: "specify-org" });
    if (org && !user.orgs.includes(String(org))) return void ex.send(403, { error: "not a member of that org", code: "missing-org" });
    return user.scopes;
  }
  const v = verifyKeyToken(token, keys, Math.floor(nowMs / 1000));
  if (!v.ok) return void ex.send(opts.badTokenStatus ?? 401, { error: `invalid token: ${v.why}` });
  return v.key.scopes;
}

/** The JSON object body (undefined when there is none), or "refused" once a 400 was answered. */
export function jsonBody(ex: Exchange): Record<string, unknown> | undefined | "refused" {
  if (ex.body.length === 0) return undefined;
  if (!/^application\/json\b/i.test(ex.headers["content-type"] ?? "")) {
    ex.send(400, { error: "expected an application/json body", code: "invalid-parameter", parameter: "body" });
    return "refused";
  }
  try {
    const parsed = JSON.parse(ex.body.toString("utf8")) as unknown;
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    return parsed as Record<string, unknown>;
  } catch {
    ex.send(400, { error: "invalid JSON body", code: "invalid-parameter", parameter: "body" });
    return "refused";
  }
}
