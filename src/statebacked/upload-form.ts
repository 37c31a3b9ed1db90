import { randomBytes } from "node:crypto";

/**
 * The code upload, shaped like an S3 presigned POST. The order matters to the server: every
 * field it handed out, in its order; then `content-type`; then `content-encoding` (only for gzip);
 * then the `file` part last. The body is built whole so it goes out with a Content-Length (the
 * upload server refuses chunked bodies) and with no authorization header.
 */
export interface UploadForm {
  body: Buffer;
  contentType: string;
}

export function buildUploadForm(
  fields: Readonly<Record<string, string>>,
  file: { name: string; content: Buffer; gzipped: boolean },
  boundary = `----release-action-${randomBytes(12).toString("hex")}`,
): UploadForm {
  const parts: Buffer[] = [];
  const field = (name: string, value: string): void => {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`, "utf8"));
  };
  for (const [name, value] of Object.entries(fields)) {
    if (name === "content-type" || name === "content-encoding" || name === "file") continue;
    field(name, value);
  }
  field("content-type", "application/javascript");
  if (file.gzipped) field("content-encoding", "gzip");
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quote(file.name)}"\r\nContent-Type: application/javascript\r\n\r\n`,
      "utf8",
    ),
    file.content,
    Buffer.from(`\r\n--${boundary}--\r\n`, "utf8"),
  );
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

function quote(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, "%22").replace(/\r|\n/g, " ");
}
