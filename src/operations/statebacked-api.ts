import type { StateBackedConnection } from "../config/config.ts";
import { StateBackedApi } from "../statebacked/api.ts";
import { ApiKeyTokens, StaticToken, type TokenSource } from "../statebacked/token.ts";
import type { OperationContext } from "./context.ts";

/** Builds the State Backed client for a run: tokens minted from the key (each one masked) or the given token. */
export function stateBackedApiFor(conn: StateBackedConnection, ctx: OperationContext): StateBackedApi {
  const tokens: TokenSource =
    conn.auth.kind === "token" ? new StaticToken(conn.auth.token) : new ApiKeyTokens({ keyId: conn.auth.keyId, secret: conn.auth.secret }, ctx.clock, (t) => ctx.mask(t));
  return new StateBackedApi({
    http: ctx.http,
    baseUrl: conn.apiUrl,
    tokens,
    logger: ctx.logger,
    ...(conn.orgId ? { orgId: conn.orgId } : {}),
  });
}
