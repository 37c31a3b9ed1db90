import { createHmac, randomBytes } from "node:crypto";

/**
 * Values the fake hands out and must get back unchanged (provisional ids, page cursors, the
 * presigned form's signature), signed with a key of this fake's own: a forged or altered value
 * is refused as the real service refuses it.
 */
export interface SignedPayload {
  kind: string;
  machine: string;
  id: string;
}

export class Signer {
  private readonly key = randomBytes(32);

  sign(payload: SignedPayload): string {
    const p = Buffer.from(JSON.stringify(payload)).toString("base64url");
    return `${p}.${this.mac(p).digest("base64url")}`;
  }

  verify(value: string): SignedPayload | undefined {
    const [p, s] = value.split(".");
    if (!p || !s || this.mac(p).digest("base64url") !== s) return undefined;
    try {
      return JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as SignedPayload;
    } catch {
      return undefined;
    }
  }

  /** An HMAC over `data` with the fake's key, in hex (object keys, form signatures). */
  hex(...data: string[]): string {
    const mac = createHmac("sha256", this.key);
    for (const d of data) mac.update(d);
    return mac.digest("hex");
  }

  /**
   * One page of a list, or undefined for a cursor that is not one this list handed out (the
   * caller answers 400). `key` names the list in the answer and in its cursors.
   */
  page<T, W>(machine: string, key: string, items: readonly T[], cursor: string | null, size: number, toWire: (item: T) => W): Record<string, unknown> | undefined {
    let start = 0;
    if (cursor !== null) {
      const decoded = this.verify(cursor);
      if (!decoded || decoded.kind !== `cursor:${key}` || decoded.machine !== machine) return undefined;
      start = Number(decoded.id);
    }
    const slice = items.slice(start, start + size).map(toWire);
    const next = start + size < items.length ? this.sign({ kind: `cursor:${key}`, machine, id: String(start + size) }) : undefined;
    return { [key]: slice, ...(next ? { cursor: next } : {}) };
  }

  private mac(data: string) {
    return createHmac("sha256", this.key).update(data);
  }
}
