import { createHmac, timingSafeEqual } from "node:crypto";

/** Verifies a State Backed key-signed JWT as the API does: HS256 with the key's secret, audience, expiry. */
export interface KeyRecord {
  keyId: string;
  secret: string;
  scopes: string[];
  orgId: string;
}

export type VerifyResult = { ok: true; key: KeyRecord; claims: Record<string, unknown> } | { ok: false; why: string };

export function verifyKeyToken(token: string, keys: ReadonlyMap<string, KeyRecord>, nowSeconds: number): VerifyResult {
  const segments = token.split(".");
  if (segments.length !== 3) return { ok: false, why: "not a JWT" };
  const [h, p, s] = segments as [string, string, string];
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return { ok: false, why: "undecodable JWT" };
  }
  if (header.alg !== "HS256") return { ok: false, why: "unsupported alg" };
  const key = typeof header.kid === "string" ? keys.get(header.kid) : undefined;
  if (!key) return { ok: false, why: "unknown key" };
  const expected = createHmac("sha256", Buffer.from(key.secret, "utf8")).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, why: "bad signature" };
  const aud = claims.aud;
  if (!(aud === "https://api.statebacked.dev/" || (Array.isArray(aud) && aud.includes("https://api.statebacked.dev/")))) {
    return { ok: false, why: "wrong audience" };
  }
  if (typeof claims.exp !== "number" || claims.exp <= nowSeconds) return { ok: false, why: "expired" };
  if (typeof claims.iat === "number" && claims.iat > nowSeconds + 60) return { ok: false, why: "issued in the future" };
  if (typeof claims.iss !== "string" || !/^https:\/\//.test(claims.iss)) return { ok: false, why: "bad issuer" };
  if (!claims.act || typeof claims.act !== "object") return { ok: false, why: "no act claim" };
  return { ok: true, key, claims };
}
