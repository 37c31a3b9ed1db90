/**
 * The Files API (file.yml): files held by this Controller only. PUT /files takes one multipart
 * part whose Content-Disposition names the file (409 if it exists), GET lists or shows one,
 * DELETE removes one.
 */
import { fail, reply } from "./answers.ts";
import { type Route, route } from "./routes.ts";

function fileJson(name: string, content: Buffer): unknown {
  return { name, status: "Ready", creationTime: new Date(0).toISOString(), lastModifiedTime: new Date(0).toISOString(), size: content.length };
}

/** The one file part of a multipart body, or a reason it is not one. */
export function parseUpload(contentType: string, body: Buffer): { name: string; content: Buffer } | string {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!/^multipart\/form-data\b/.test(contentType) || !boundary) return "Content-Type must be multipart/form-data with a boundary";
  const open = Buffer.from(`--${boundary}\r\n`);
  const close = Buffer.from(`\r\n--${boundary}--`);
  if (!body.subarray(0, open.length).equals(open)) return "the body does not start with the boundary";
  const headEnd = body.indexOf("\r\n\r\n", open.length);
  const end = body.lastIndexOf(close);
  if (headEnd < 0 || end < headEnd) return "the part is not closed";
  const head = body.subarray(open.length, headEnd).toString("utf8");
  const name = /content-disposition:\s*form-data;[^\r\n]*\bfilename="([^"]+)"/i.exec(head)?.[1];
  if (!name || !/\bname="file"/i.test(head)) return 'the part must be named "file" and carry a filename';
  return { name, content: body.subarray(headEnd + 4, end) };
}

export const fileRoutes: Route[] = [
  route("GET", /^\/files$/, ({ ex, st }) => {
    reply(ex, st.peer, 200, { data: [...st.files].map(([n, c]) => fileJson(n, c)) });
  }),
  route("PUT", /^\/files$/, ({ ex, st, t }) => {
    const up = parseUpload(String(ex.headers["content-type"] ?? ""), ex.body);
    if (typeof up === "string") return void fail(ex, 422, "validation_error", up);
    if (st.files.has(up.name)) return void fail(ex, 409, "conflict", `${up.name} exists already`);
    st.files.set(up.name, up.content);
    st.events.push({ at: t, type: "file-upload", detail: up.name });
    ex.send(204);
  }),
  route("GET", /^\/files\/([^/]+)$/, ({ ex, st, params }) => {
    const name = decodeURIComponent(params[0]!);
    const c = st.files.get(name);
    if (!c) return void fail(ex, 404, "not_found", `no file ${name}`);
    reply(ex, st.peer, 200, fileJson(name, c));
  }),
  route("DELETE", /^\/files\/([^/]+)$/, ({ ex, st, t, params }) => {
    const name = decodeURIComponent(params[0]!);
    if (!st.files.delete(name)) return void fail(ex, 404, "not_found", `no file ${name}`);
    st.events.push({ at: t, type: "file-delete", detail: name });
    ex.send(204);
  }),
];
