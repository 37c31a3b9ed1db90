/**
 * The Files API (file.yml): files held by the Controller that answers (not synced between
 * Controllers), e.g. an upgrade image uploaded once and prepared from `controller://…`.
 */
import { randomBytes } from "node:crypto";
import type { ControllerSession, RequestOptions } from "./session.ts";

export interface ControllerFile {
  name: string;
  /** InProgress, Ready or Failed. */
  status: string;
  failureReason?: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});

export class FileEndpoints {
  private readonly session: ControllerSession;

  constructor(session: ControllerSession) {
    this.session = session;
  }

  /** GET /files. */
  async list(o: RequestOptions = {}): Promise<ControllerFile[]> {
    const body = obj(await this.session.call("GET", "/files", { ...o, what: "listing the Controller's files (GET /files)" }));
    const data = Array.isArray(body.data) ? body.data : [];
    return data.map(obj).flatMap((f) => {
      if (typeof f.name !== "string") return [];
      const file: ControllerFile = { name: f.name, status: typeof f.status === "string" ? f.status : "" };
      if (typeof f.failureReason === "string") file.failureReason = f.failureReason;
      return [file];
    });
  }

  /** PUT /files: a multipart upload of one file under `name`. */
  async upload(name: string, content: Buffer, o: RequestOptions = {}): Promise<void> {
    const boundary = `----appgate-upload-${randomBytes(12).toString("hex")}`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name.replace(/["\r\n\\]/g, "_")}"\r\n` +
        "Content-Type: application/octet-stream\r\n\r\n",
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    await this.session.call("PUT", "/files", {
      ...o,
      raw: { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat([head, content, tail]) },
      what: `uploading ${name} to the Controller (PUT /files)`,
    });
  }

  /** DELETE /files/{filename}. */
  async remove(name: string, o: RequestOptions = {}): Promise<void> {
    await this.session.call("DELETE", `/files/${encodeURIComponent(name)}`, { ...o, what: `deleting ${name} from the Controller` });
  }
}
