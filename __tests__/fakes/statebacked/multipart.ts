/** A strict multipart/form-data reader for the fake upload server: parts in order, with their headers. */
export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export function boundaryOf(contentType: string | undefined): string | undefined {
  const m = /^multipart\/form-data;\s*boundary=("?)([^";]+)\1\s*$/i.exec(contentType ?? "");
  return m?.[2];
}

/** Returns the parts, or a string saying why the body is malformed. */
export function parseMultipart(body: Buffer, boundary: string): Part[] | string {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delimiter);
  if (pos !== 0) return "body does not start with the boundary";
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === "--") return parts; // closing delimiter
    if (body.subarray(pos, pos + 2).toString() !== "\r\n") return "malformed boundary line";
    pos += 2;
    const headerEnd = body.indexOf("\r\n\r\n", pos);
    if (headerEnd < 0) return "part without a header end";
    const headers = body.subarray(pos, headerEnd).toString("utf8").split("\r\n");
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delimiter]), headerEnd + 4);
    if (next < 0) return "part without a closing boundary";
    const data = body.subarray(headerEnd + 4, next);
    let name: string | undefined;
    let filename: string | undefined;
    let contentType: string | undefined;
    for (const h of headers) {
      const [key, ...rest] = h.split(":");
      const value = rest.join(":").trim();
      if (key!.toLowerCase() === "content-disposition") {
        name = /\bname="([^"]*)"/.exec(value)?.[1];
        filename = /\bfilename="([^"]*)"/.exec(value)?.[1];
      } else if (key!.toLowerCase() === "content-type") {
        contentType = value;
      }
    }
    if (name === undefined) return "part without a name";
    parts.push({ name, data, ...(filename !== undefined ? { filename } : {}), ...(contentType !== undefined ? { contentType } : {}) });
    pos = next + 2;
  }
}
