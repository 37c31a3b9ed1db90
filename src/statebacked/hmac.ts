import { createHmac } from "node:crypto";

/**
 * The deletion guard State Backed requires: base64url (no padding) of HMAC-SHA256 keyed by the
 * UTF-8 machine name over the UTF-8 instance name.
 */
export function instanceDeletionHmac(machine: string, instance: string): string {
  return createHmac("sha256", Buffer.from(machine, "utf8")).update(Buffer.from(instance, "utf8")).digest("base64url");
}
