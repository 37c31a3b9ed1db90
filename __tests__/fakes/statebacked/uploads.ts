import type { Exchange } from "../http-fake.ts";
import { type Provisional, UPLOAD_POLICY_LIFETIME_MS, type UploadRecord } from "./model.ts";
import { boundaryOf, parseMultipart } from "./multipart.ts";
import type { Signer } from "./signed-ids.ts";

/**
 * The S3-like presigned upload: the form fields handed out with a provisional id (policy-bound,
 * signed), and the bucket endpoint that takes them back strictly: no Authorization header,
 * Content-Length, the handed-out fields unchanged and in order, content-type (and
 * content-encoding after ?gzip), `file` last, size limits, an expiring policy.
 */

export function presign(signer: Signer, signedId: string, gzip: boolean, nowMs: number): Record<string, string> {
  const key = `code/${signer.hex(signedId).slice(0, 24)}`;
  const conditions = [
    { bucket: "code-bucket" },
    { key },
    { "content-type": "application/javascript" },
    ...(gzip ? [{ "content-encoding": "gzip" }] : []),
    ["content-length-range", 0, 1_000_000],
  ];
  const policy = Buffer.from(JSON.stringify({ expiration: new Date(nowMs + UPLOAD_POLICY_LIFETIME_MS).toISOString(), conditions })).toString("base64");
  const fields: Record<string, string> = {
    bucket: "code-bucket",
    key,
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Credential": "FAKEKEY/20261122/us-east-1/s3/aws4_request",
    "X-Amz-Date": "20261122T000000Z",
    Policy: policy,
  };
  fields["X-Amz-Signature"] = signer.hex(...Object.entries(fields).map(([k, v]) => `${k}=${v}\n`));
  return fields;
}

export interface UploadState {
  provisionals: ReadonlyMap<string, Provisional>;
  uploads: UploadRecord[];
  now(): number;
}

export function handleUpload(ex: Exchange, state: UploadState): void {
  const { req, body } = ex;
  const send = (code: number, payload?: string): void => void ex.send(code, payload, payload === undefined ? {} : { "content-type": "application/xml" });
  const xml = (code: string, message: string): string =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  if (req.method !== "POST") return send(405, xml("MethodNotAllowed", "The specified method is not allowed against this resource."));
  // Checked before anything is stored: a refused upload must leave nothing to finalize.
  if (req.headers.authorization !== undefined) {
    return send(400, xml("InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm form field is supported"));
  }
  if (req.headers["transfer-encoding"] || req.headers["content-length"] === undefined) {
    return send(411, xml("MissingContentLength", "You must provide the Content-Length HTTP header."));
  }
  const boundary = boundaryOf(req.headers["content-type"]);
  if (!boundary) return send(412, xml("PreconditionFailed", "Bucket POST must be of the enclosure-type multipart/form-data"));
  const parts = parseMultipart(body, boundary);
  if (typeof parts === "string") return send(400, xml("MalformedPOSTRequest", `The body of your POST request is not well-formed multipart/form-data: ${parts}`));
  const fileIndex = parts.findIndex((p) => p.name === "file");
  if (fileIndex < 0) return send(400, xml("InvalidArgument", "POST requires exactly one file upload per request."));
  if (fileIndex !== parts.length - 1) return send(400, xml("InvalidArgument", "The file must be the last field in the form."));
  const fields = new Map<string, string>();
  for (const p of parts.slice(0, -1)) {
    if (fields.has(p.name)) return send(400, xml("InvalidArgument", `Field ${p.name} appears more than once.`));
    fields.set(p.name, p.data.toString("utf8"));
  }
  const signedEntry = [...state.provisionals.entries()].find(([, p]) => p.fields.key === fields.get("key"));
  if (!signedEntry) return send(403, xml("AccessDenied", "Invalid according to Policy: Policy Condition failed: key"));
  const [signedId, prov] = signedEntry;
  // Every field handed out must come back unchanged; anything else must be covered by the policy.
  for (const [k, v] of Object.entries(prov.fields)) {
    if (!fields.has(k)) return send(403, xml("AccessDenied", `Invalid according to Policy: Policy Condition failed: missing ${k}`));
    if (fields.get(k) !== v) return send(403, xml("SignatureDoesNotMatch", `The request signature we calculated does not match (field ${k} altered).`));
  }
  const allowed = new Set([...Object.keys(prov.fields), "content-type", ...(prov.gzip ? ["content-encoding"] : [])]);
  for (const k of fields.keys()) {
    if (!allowed.has(k)) return send(403, xml("AccessDenied", `Invalid according to Policy: Extra input fields: ${k}`));
  }
  if (fields.get("content-type") !== "application/javascript") {
    return send(403, xml("AccessDenied", "Invalid according to Policy: Policy Condition failed: content-type"));
  }
  if (prov.gzip && fields.get("content-encoding") !== "gzip") {
    return send(403, xml("AccessDenied", "Invalid according to Policy: Policy Condition failed: content-encoding"));
  }
  // The order the wire notes give: handed-out fields in order, content-type, content-encoding, file.
  const expectedOrder = [...Object.keys(prov.fields), "content-type", ...(prov.gzip ? ["content-encoding"] : [])];
  const order = [...fields.keys()];
  if (order.join("\n") !== expectedOrder.join("\n")) {
    return send(400, xml("InvalidArgument", `Form fields out of order: got ${order.join(",")}, expected ${expectedOrder.join(",")}`));
  }
  const file = parts[fileIndex]!;
  if (file.data.length > 1_000_000) return send(400, xml("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"));
  if (state.now() > prov.expiresAt) return send(403, xml("AccessDenied", "Invalid according to Policy: Policy expired."));
  prov.upload = { file: Buffer.from(file.data), filename: file.filename, contentEncoding: fields.get("content-encoding") };
  state.uploads.push({ provisionalId: signedId, fieldOrder: [...order, "file"], filename: file.filename, hadAuthorization: false });
  return send(204);
}
