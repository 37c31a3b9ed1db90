import { createHmac } from "node:crypto";
import type { Clock } from "../runtime/clock.ts";

/**
 * State Backed bearer tokens. With an API key the action signs its own short-lived HS256 JWT
 * (header {alg, kid}; claims {act, aud, iss, iat, exp}; HMAC key = the UTF-8 bytes of the whole
 * `sbsec_…` secret) and signs a fresh one well before the old one expires, so runs of any length
 * keep working.
 */

export const TOKEN_AUDIENCE = "https://api.statebacked.dev/";
/** Lifetime of a minted token. */
export const TOKEN_LIFETIME_SECONDS = 15 * 60;
/** Mint again when less than this is left. */
export const TOKEN_REFRESH_MARGIN_SECONDS = 5 * 60;

export interface ApiKey {
  keyId: string;
  secret: string;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** Signs a JWT for `key` valid from `nowSeconds` for `lifetimeSeconds`. */
export function signApiKeyToken(key: ApiKey, act: Record<string, unknown>, nowSeconds: number, lifetimeSeconds = TOKEN_LIFETIME_SECONDS): string {
  const header = b64url(JSON.stringify({ alg: "HS256", kid: key.keyId }));
  const payload = b64url(
    JSON.stringify({
      act,
      aud: TOKEN_AUDIENCE,
      iss: `https://${key.keyId}.client.statebacked.dev/`,
      iat: nowSeconds,
      exp: nowSeconds + lifetimeSeconds,
    }),
  );
  const signature = createHmac("sha256", Buffer.from(key.secret, "utf8")).update(`${header}.${payload}`).digest();
  return `${header}.${payload}.${b64url(signature)}`;
}

/** Hands out a valid bearer token for each request. */
export interface TokenSource {
  token(): string;
}

/** A ready-made token given by the user: used as it is. */
export class StaticToken implements TokenSource {
  private readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  token(): string {
    return this.value;
  }
}

/** Mints from an API key and mints again before expiry. `onMint` lets the caller mask each new token. */
export class ApiKeyTokens implements TokenSource {
  private current: { value: string; exp: number } | undefined;
  mints = 0;
  private readonly key: ApiKey;
  private readonly clock: Clock;
  private readonly onMint: (token: string) => void;
  private readonly act: Record<string, unknown>;
  constructor(key: ApiKey, clock: Clock, onMint: (token: string) => void = () => {}, act: Record<string, unknown> = { sub: "github-actions" }) {
    this.key = key;
    this.clock = clock;
    this.onMint = onMint;
    this.act = act;
  }

  token(): string {
    const now = Math.floor(this.clock.now() / 1000);
    if (!this.current || this.current.exp - now < TOKEN_REFRESH_MARGIN_SECONDS) {
      const value = signApiKeyToken(this.key, this.act, now);
      this.current = { value, exp: now + TOKEN_LIFETIME_SECONDS };
      this.mints++;
      this.onMint(value);
    }
    return this.current.value;
  }
}
