/**
 * What every call meets before its route, as the real Controller (and what stands in front of
 * it) does: a load balancer gone wrong (503), the primary Controller installing (502) or
 * rebooting (no answer), GET /version, the versioned Accept header (406), POST /login, the
 * Bearer token (401), and a Controller in maintenance mode refusing writes (503) other than
 * maintenance-mode requests themselves.
 */
import type { Exchange } from "../http-fake.ts";
import { fail, jsonBody, reply } from "./answers.ts";
import type { ControllerState } from "./controller-state.ts";
import { lagging } from "./fake-appliance.ts";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const WRITES = new Set(["POST", "PUT", "DELETE", "PATCH"]);
const MAINTENANCE = /^\/appliances\/[^/]+\/maintenance$/;

/** Answers the call when the gate stops it (or it is /version or /login); false lets it through to its route. */
export function gate(ex: Exchange, st: ControllerState, path: string, t: number): boolean {
  const primary = st.primary;
  if (st.misrouted) {
    fail(ex, 503, "service_unavailable", "Service Temporarily Unavailable: Controller in maintenance mode");
    return true;
  }
  // The primary Controller itself installing (services stopped, unless a lag hides it) or rebooting (no answer at all).
  if (primary && primary.phase.kind === "installing" && !lagging(primary)) {
    reply(ex, st.peer, 502, "<html><head><title>502 Bad Gateway</title></head></html>");
    return true;
  }
  if (primary && primary.phase.kind === "rebooting") {
    ex.drop();
    return true;
  }
  if (path === "/version") {
    version(ex, st);
    return true;
  }
  const m = /^application\/vnd\.appgate\.peer-v(\d+)\+(?:json|gpg)$/.exec(ex.headers.accept ?? "");
  const asked = m ? Number(m[1]) : undefined;
  if (asked === undefined || asked < st.lowest || asked > st.peer) {
    st.refusals.notAcceptable++;
    fail(ex, 406, "not_acceptable", `Accept must be application/vnd.appgate.peer-v<${st.lowest}..${st.peer}>+json`, {
      minSupportedVersion: st.lowest,
      maxSupportedVersion: st.peer,
    });
    return true;
  }
  if (path === "/login") {
    login(ex, st, t);
    return true;
  }
  const auth = /^Bearer (.+)$/.exec(ex.headers.authorization ?? "");
  const exp = auth ? st.tokens.get(auth[1]!) : undefined;
  if (exp === undefined || t >= exp) {
    st.refusals.unauthorized++;
    fail(ex, 401, "unauthorized", exp === undefined ? "Invalid token" : "Token expired");
    return true;
  }
  // A Controller in maintenance mode refuses writes: the primary's refuses every write sent through it,
  // except a maintenance-mode request (else nothing could ever turn it off again).
  if (WRITES.has(ex.method) && primary?.maintenance && !MAINTENANCE.test(path)) {
    st.events.push({ at: t, type: "refused", detail: `${ex.method} ${path}: the primary Controller is in maintenance mode` });
    fail(ex, 503, "service_unavailable", "Controller in maintenance mode");
    return true;
  }
  return false;
}

function version(ex: Exchange, st: ControllerState): void {
  if (ex.method !== "GET") {
    fail(ex, 405, "method_not_allowed", "GET only");
  } else if (ex.headers.accept !== "application/json") {
    st.refusals.notAcceptable++;
    fail(ex, 406, "not_acceptable", "/version expects Accept: application/json");
  } else {
    reply(ex, st.peer, 200, { peerVersion: st.peer, lowestPeerVersionSupported: st.lowest }, "application/json");
  }
}

function login(ex: Exchange, st: ControllerState, t: number): void {
  if (ex.method !== "POST") {
    fail(ex, 405, "method_not_allowed", "POST only");
    return;
  }
  const body = jsonBody(ex);
  if (!body) return;
  const errors: { field: string; message: string }[] = [];
  if (typeof body.providerName !== "string") errors.push({ field: "providerName", message: "may not be null" });
  if (typeof body.deviceId !== "string" || !UUID_RE.test(body.deviceId)) errors.push({ field: "deviceId", message: "must be a UUID" });
  if (errors.length > 0) {
    fail(ex, 422, "validation_error", "Request validation failed", { errors });
    return;
  }
  if (body.providerName !== st.providerName || body.username !== st.username || body.password !== st.password) {
    st.events.push({ at: t, type: "refused", detail: "login" });
    fail(ex, 401, "unauthorized", "Login failed", { reason: "Invalid username or password." });
    return;
  }
  const token = st.issueToken(t);
  st.logins.push({ username: st.username, providerName: st.providerName, deviceId: body.deviceId as string });
  st.events.push({ at: t, type: "login" });
  reply(ex, st.peer, 200, { token, expires: new Date(t + st.ttl).toISOString(), user: { name: st.username, needTwoFactorAuth: false } });
}
