import { describe, expect, it } from "vitest";
import { buildUploadForm } from "../../src/statebacked/upload-form.ts";

describe("upload form", () => {
  const fields = { key: "code/abc", Policy: "cG9saWN5", "X-Amz-Signature": "sig" };
  const content = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x0d, 0x0a, 0x2d, 0x2d]);

  it("puts the given fields in order, then content-type, content-encoding, and the file last", async () => {
    const form = buildUploadForm(fields, { name: "m.js", content, gzipped: true });
    // Parse with the platform's own multipart parser, independent of ours.
    const parsed = await new Response(form.body, { headers: { "content-type": form.contentType } }).formData();
    const names = [...parsed.keys()];
    expect(names).toEqual(["key", "Policy", "X-Amz-Signature", "content-type", "content-encoding", "file"]);
    expect(parsed.get("content-type")).toBe("application/javascript");
    expect(parsed.get("content-encoding")).toBe("gzip");
    const file = parsed.get("file") as File;
    expect(file.name).toBe("m.js");
    expect(file.type).toBe("application/javascript");
    expect(Buffer.from(await file.arrayBuffer())).toEqual(content);
  });

  it("leaves out content-encoding for plain code", async () => {
    const form = buildUploadForm(fields, { name: "m.js", content: Buffer.from("x"), gzipped: false });
    const parsed = await new Response(form.body, { headers: { "content-type": form.contentType } }).formData();
    expect([...parsed.keys()]).toEqual(["key", "Policy", "X-Amz-Signature", "content-type", "file"]);
  });
});
