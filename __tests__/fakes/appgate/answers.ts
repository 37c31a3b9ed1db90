/** How the fake Controller answers: vendor JSON, `{id, message}` errors, strict JSON bodies. */
import type { Exchange } from "../http-fake.ts";

/** JSON in the vendor type of `peer` (or `contentType`); a string is sent as text/html (a proxy's error page). */
export function reply(ex: Exchange, peer: number, status: number, body?: unknown, contentType = `application/vnd.appgate.peer-v${peer}+json`): number {
  if (body === undefined) return ex.send(status);
  return ex.send(status, body, { "content-type": typeof body === "string" ? "text/html" : contentType });
}

/** An error body as the Controller sends it: `{id, message}` (422 adds errors[]). */
export function fail(ex: Exchange, status: number, id: string, message: string, extra: object = {}): number {
  return ex.send(status, { id, message, ...extra }, { "content-type": "application/json" });
}

/** The JSON object body; answers 400 (and returns undefined) when it is not one or not sent as application/json. */
export function jsonBody(ex: Exchange): Record<string, unknown> | undefined {
  if (!/^application\/json\b/.test(ex.headers["content-type"] ?? "")) {
    fail(ex, 400, "bad_request", "Content-Type must be application/json");
    return undefined;
  }
  try {
    const v: unknown = JSON.parse(ex.body.toString("utf8"));
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  fail(ex, 400, "bad_request", "body is not a JSON object");
  return undefined;
}
