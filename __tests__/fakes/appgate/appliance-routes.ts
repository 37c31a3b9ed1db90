/**
 * The collective's routes: the appliance list, the live status list (with the spec's filterBy),
 * maintenance mode (Controllers only; a change that ends after a time and a number of reads),
 * and following a change.
 */
import { fail, jsonBody, reply } from "./answers.ts";
import type { ControllerState } from "./controller-state.ts";
import { applianceJson, statusJson } from "./appliance-json.ts";
import { isDown } from "./fake-appliance.ts";
import { applianceRoute, type Route, route } from "./routes.ts";

/** The status list, filtered as the spec's filterBy does (`?name=…`, `?id=…`, by inclusion). */
function statusList(st: ControllerState, url: URL, t: number): unknown {
  const filters = (["name", "id"] as const).flatMap((f) => url.searchParams.getAll(f).map((v) => ({ f, v })));
  const chosen = st.states.filter((s) => filters.every(({ f, v }) => (f === "name" ? s.spec.name : s.id).includes(v)));
  const data = chosen.map((s) => statusJson(s, t, () => st.events.push({ at: t, type: "not-busy", appliance: s.spec.name })));
  return { range: `0-${data.length}/${data.length}`, filterBy: filters.map(({ f, v }) => ({ name: f, value: v })), data };
}

export const applianceRoutes: Route[] = [
  route("GET", /^\/appliances$/, ({ ex, st }) => {
    const data = st.states.map((s, i) => applianceJson(s, i, st.peer, st.primaryHost));
    reply(ex, st.peer, 200, { range: `0-${data.length}/${data.length}`, orderBy: "name", descending: false, queries: [], totalCount: data.length, filterBy: [], data });
  }),

  route("GET", /^\/appliances\/status$/, async ({ ex, st, t }) => {
    if (st.hangLeft > 0) {
      st.hangLeft--;
      await ex.hold();
      return;
    }
    reply(ex, st.peer, 200, statusList(st, ex.url, t));
  }),

  applianceRoute("POST", "/maintenance", ({ ex, st, s, t }) => {
    const body = jsonBody(ex);
    if (!body) return;
    if (typeof body.enabled !== "boolean") {
      fail(ex, 422, "validation_error", "Request validation failed", { errors: [{ field: "enabled", message: "may not be null" }] });
      return;
    }
    if (!s.spec.roles.includes("controller")) return void fail(ex, 412, "appliance_state_error", "maintenance mode is for Controllers");
    if (isDown(s)) return void fail(ex, 502, "bad_gateway", `${s.spec.name} does not answer`);
    const enabled = body.enabled;
    const refusal = enabled ? s.spec.refuseMaintenanceOn : undefined;
    if (refusal !== undefined) return void fail(ex, refusal, refusal >= 500 ? "internal_error" : "forbidden", "maintenance mode could not be changed");
    st.events.push({ at: t, type: "maintenance", appliance: s.spec.name, detail: enabled ? "on" : "off" });
    const id = st.newChange(s.id, t + st.changeMs, st.o.changeReads ?? 0, (at) => {
      s.maintenance = enabled;
      st.events.push({ at, type: "maintenance-done", appliance: s.spec.name, detail: enabled ? "on" : "off" });
      if (!enabled) {
        s.busyUntil = at + st.busyMs;
        s.busyReads = st.o.busyReads ?? 0;
        s.leavingBusy = true;
      }
    });
    st.o.hooks?.afterMaintenance?.(s.spec.name, enabled, st.api);
    reply(ex, st.peer, 202, { id }, "appliance/json");
  }),

  applianceRoute("GET", "/change/{changeId}", ({ ex, st, s, t, params }) => {
    const c = st.changes.get(decodeURIComponent(params[0]!));
    if (!c || c.applianceId !== s.id) return void fail(ex, 404, "not_found", "no such change");
    if (c.reads > 0) c.reads--;
    else st.advanceChanges(t);
    reply(ex, st.peer, 200, { id: c.id, status: c.applied ? "completed" : "running", result: c.applied ? "success" : "", details: "" });
  }),
];
