/**
 * The fake Controller's routes as a table: method, path pattern (under /admin), handler. Calls
 * under /appliances/{id} find their appliance first (404 when there is none). A new endpoint is
 * one row.
 */
import type { Exchange } from "../http-fake.ts";
import { fail } from "./answers.ts";
import type { ControllerState } from "./controller-state.ts";
import type { ApplianceState } from "./fake-appliance.ts";

export interface RouteCall {
  ex: Exchange;
  st: ControllerState;
  /** The path's captures after the appliance id (or all of them for collection routes). */
  params: string[];
  t: number;
}

export interface ApplianceCall extends RouteCall {
  s: ApplianceState;
}

export interface Route {
  method: string;
  /** Matched against the path after /admin. */
  path: RegExp;
  handle: (c: RouteCall) => void | Promise<void>;
  /** The route answers binary (Accept …+gpg, as a backup download); every other route wants …+json. */
  gpg?: boolean;
}

/** A route on the collection (GET /appliances, /appliances/status, …). */
export function route(method: string, path: RegExp, handle: (c: RouteCall) => void | Promise<void>): Route {
  return { method, path, handle };
}

/** A route under /appliances/{id}: `sub` is the rest of the path (e.g. /upgrade/complete). */
export function applianceRoute(method: string, sub: string, handle: (c: ApplianceCall) => void | Promise<void>, opts: { gpg?: boolean } = {}): Route {
  const pattern = sub.replace(/\{[a-zA-Z]+\}/g, "([^/]+)");
  return {
    method,
    ...opts,
    path: new RegExp(`^/appliances/([^/]+)${pattern}$`),
    handle: (c) => {
      const [id, ...rest] = c.params;
      const s = c.st.byId(decodeURIComponent(id!));
      if (!s) {
        fail(c.ex, 404, "not_found", `no such resource: ${c.ex.method} ${c.ex.path.slice("/admin".length)}`);
        return;
      }
      return handle({ ...c, s, params: rest });
    },
  };
}

/** Finds the route for a call and runs it; 404 when none matches. */
export async function dispatch(routes: readonly Route[], ex: Exchange, st: ControllerState, path: string, t: number): Promise<void> {
  for (const r of routes) {
    if (r.method !== ex.method) continue;
    const m = r.path.exec(path);
    if (m) {
      const gpg = /\+gpg$/.test(ex.headers.accept ?? "");
      if (gpg !== (r.gpg === true)) {
        st.refusals.notAcceptable++;
        fail(ex, 406, "not_acceptable", `${ex.method} ${path} wants Accept application/vnd.appgate.peer-v<N>+${r.gpg ? "gpg" : "json"}`);
        return;
      }
      await r.handle({ ex, st, params: m.slice(1), t });
      return;
    }
  }
  fail(ex, 404, "not_found", `no such resource: ${ex.method} ${path}`);
}
