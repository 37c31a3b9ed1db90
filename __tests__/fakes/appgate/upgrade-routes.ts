/**
 * One appliance's upgrade routes (appliance_upgrade.yml): the status, cancel (refused while
 * installing), complete (only when `ready`), switch-partition (only when `success`). A complete
 * can be told to lose its answer (the work done, the connection dropped).
 */
import { fail, jsonBody, reply } from "./answers.ts";
import { isDown, readUpgradeStatus, startLag, startReboot } from "./fake-appliance.ts";
import { startPrepare } from "./prepare-lifecycle.ts";
import { applianceRoute, type Route } from "./routes.ts";

const notAnswering = (name: string): [number, string, string] => [502, "bad_gateway", `${name} does not answer`];

export const upgradeRoutes: Route[] = [
  applianceRoute("GET", "/upgrade", ({ ex, st, s, t }) => {
    if (isDown(s)) return void fail(ex, ...notAnswering(s.spec.name));
    const answer = readUpgradeStatus(s, t);
    st.o.hooks?.afterStatusRead?.(s.spec.name, answer.status, st.api);
    reply(ex, st.peer, 200, answer);
  }),

  applianceRoute("DELETE", "/upgrade", ({ ex, st, s, t }) => {
    if (s.upgradeStatus === "installing") return void fail(ex, 412, "appliance_state_error", "cannot cancel while installing");
    s.upgradeStatus = "idle";
    s.upgradeDetails = "";
    st.events.push({ at: t, type: "cancel", appliance: s.spec.name });
    reply(ex, st.peer, 202, { id: st.newChange(s.id, t) }, "appliance/json");
  }),

  applianceRoute("POST", "/upgrade/complete", ({ ex, st, s, t }) => {
    const body = jsonBody(ex);
    if (!body) return;
    if (body.switchPartition !== undefined && typeof body.switchPartition !== "boolean") {
      return void fail(ex, 400, "bad_request", "switchPartition must be a boolean");
    }
    st.o.hooks?.beforeComplete?.(s.spec.name, st.api);
    st.advanceOne(s);
    if (isDown(s)) return void fail(ex, ...notAnswering(s.spec.name));
    if (s.upgradeStatus !== "ready") {
      return void fail(ex, 412, "appliance_state_error", `upgrade status is ${s.upgradeStatus}; complete needs ready`);
    }
    const sp = body.switchPartition === true;
    const before = { status: s.upgradeStatus, details: s.upgradeDetails };
    st.install(s, t, sp);
    startLag(s, before);
    st.events.push({ at: t, type: "complete", appliance: s.spec.name, detail: `switchPartition=${sp}` });
    if (s === st.primary && st.o.misrouteAfterPrimaryComplete) st.misrouted = true;
    st.o.hooks?.afterComplete?.(s.spec.name, st.api);
    if (st.dropAnswer.delete(s.spec.name)) return ex.drop();
    reply(ex, st.peer, 202, { id: st.newChange(s.id, t + s.installMs) }, "appliance/json");
  }),

  applianceRoute("POST", "/upgrade/switch-partition", ({ ex, st, s, t }) => {
    if (isDown(s)) return void fail(ex, ...notAnswering(s.spec.name));
    if (s.upgradeStatus !== "success") {
      return void fail(ex, 412, "appliance_state_error", `upgrade status is ${s.upgradeStatus}; switch-partition needs success`);
    }
    const before = { status: s.upgradeStatus, details: s.upgradeDetails };
    startReboot(s, t);
    startLag(s, before);
    st.events.push({ at: t, type: "switch-partition", appliance: s.spec.name });
    reply(ex, st.peer, 202, { id: st.newChange(s.id, t + s.rebootMs) }, "appliance/json");
  }),

  applianceRoute("POST", "/upgrade/prepare", ({ ex, st, s, t }) => {
    const body = jsonBody(ex);
    if (!body) return;
    if (typeof body.imageUrl !== "string" || body.imageUrl === "") {
      return void fail(ex, 422, "validation_error", "Request validation failed", { errors: [{ field: "imageUrl", message: "may not be null" }] });
    }
    if (isDown(s)) return void fail(ex, ...notAnswering(s.spec.name));
    if (s.upgradeStatus !== "idle" && s.upgradeStatus !== "failed") {
      return void fail(ex, 412, "appliance_state_error", `upgrade status is ${s.upgradeStatus}; prepare needs idle or failed`);
    }
    const url = new URL(body.imageUrl);
    const image = decodeURIComponent(url.pathname.split("/").pop() ?? "");
    if (!["http:", "https:", "controller:"].includes(url.protocol) || image === "") {
      return void fail(ex, 422, "validation_error", "imageUrl must be an http(s):// or controller:// URL naming a file");
    }
    if (url.protocol === "controller:") {
      const primary = st.primary;
      const expected = primary ? `${primary.spec.name}.example.test:443` : "";
      if (url.host !== expected || !st.files.has(image)) {
        return void fail(ex, 422, "validation_error", `imageUrl ${body.imageUrl}: no such file on the Controller (${expected})`);
      }
    }
    st.prepareWindows.push(startPrepare(s, t, st.o.prepareMs ?? 100, image));
    st.events.push({ at: t, type: "prepare", appliance: s.spec.name, detail: body.imageUrl });
    reply(ex, st.peer, 202, { id: st.newChange(s.id, t) }, "appliance/json");
  }),
];
