import type { Exchange } from "../http-fake.ts";
import { parseIsoTimestamp } from "./logs.ts";
import type { FakeState } from "./model.ts";
import { SLUG } from "./model.ts";

/** Routes outside `/machines/{machine}`: one row each, as in routes.ts, without a machine. */
export interface TopRoute {
  method: string;
  path: string;
  scope: string;
  handle(c: { fake: FakeState; ex: Exchange; send(status: number, payload?: unknown): void }): void;
}

const PARAMS = ["from", "to", "machine", "instance", "version"];

export const TOP_ROUTES: TopRoute[] = [
  {
    // `from` required; timestamps ISO-8601; filters checked as the path parameters are.
    method: "GET",
    path: "/logs",
    scope: "logs.read",
    handle: ({ fake, ex, send }) => {
      const q = ex.url.searchParams;
      const invalid = (parameter: string, error: string): void => send(400, { error, code: "invalid-parameter", parameter });
      for (const k of q.keys()) if (!PARAMS.includes(k)) return invalid(k, `unknown parameter ${k}`);
      if (!q.has("from")) return invalid("from", "from is required");
      const from = parseIsoTimestamp(q.get("from"));
      if (from === undefined) return invalid("from", "from must be an ISO-8601 timestamp");
      const to = q.has("to") ? parseIsoTimestamp(q.get("to")) : undefined;
      if (q.has("to") && to === undefined) return invalid("to", "to must be an ISO-8601 timestamp");
      for (const k of ["machine", "instance"]) {
        const v = q.get(k);
        if (v !== null && !SLUG.test(v)) return invalid(k, `invalid ${k} name`);
      }
      const version = q.get("version");
      if (version !== null && !/^ver_[A-Za-z0-9_-]{1,64}$/.test(version)) return invalid("version", "invalid version id");
      const machine = q.get("machine");
      const instance = q.get("instance");
      send(200, fake.logs.page({ from, ...(to !== undefined ? { to } : {}), ...(machine ? { machine } : {}), ...(instance ? { instance } : {}), ...(version ? { version } : {}) }, fake.now()));
    },
  },
];
