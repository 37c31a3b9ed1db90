import { gunzipSync } from "node:zlib";
import { UPLOAD_POLICY_LIFETIME_MS, type VersionRec } from "./model.ts";
import type { Route, RouteContext } from "./routes.ts";
import { presign } from "./uploads.ts";

/**
 * Publishing: the provisional create (a signed id and a presigned upload form) and the finalize
 * that turns an uploaded provisional into a version or a migration, once.
 */

const invalid = (c: RouteContext, error: string, parameter: string): void => c.send(400, { error, code: "invalid-parameter", parameter });

/** `?gzip` (bare, as the official client sends it) or `?gzip=true` mean gzip; absent means plain. */
function parseGzipFlag(url: URL): boolean | "invalid" {
  if (!url.searchParams.has("gzip")) return false;
  const v = url.searchParams.get("gzip");
  if (v === "" || v === "true") return true;
  if (v === "false") return false;
  return "invalid";
}

function createProvisional(kind: "version" | "migration") {
  return (c: RouteContext): void => {
    const { fake, machine } = c;
    const gzip = parseGzipFlag(c.ex.url);
    if (gzip === "invalid") return invalid(c, "invalid gzip parameter", "gzip");
    let from: string | undefined;
    let to: string | undefined;
    if (kind === "migration") {
      from = c.json?.fromMachineVersionId as string | undefined;
      to = c.json?.toMachineVersionId as string | undefined;
      for (const [p, id] of [["fromMachineVersionId", from], ["toMachineVersionId", to]] as const) {
        if (typeof id !== "string" || !machine.versions.some((v) => v.id === id)) return invalid(c, `${p} is not a version of this machine`, p);
      }
      if (from === to) return invalid(c, "from and to are the same version", "toMachineVersionId");
    }
    const id = fake.newId(kind === "version" ? "ver_" : "vmig_");
    const signedId = c.signer.sign({ kind, machine: machine.name, id });
    const fields = presign(c.signer, signedId, gzip, fake.now());
    fake.provisionals.set(signedId, {
      kind,
      machine: machine.name,
      id,
      gzip,
      fields,
      expiresAt: fake.now() + UPLOAD_POLICY_LIFETIME_MS,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
    });
    c.send(200, {
      [kind === "version" ? "machineVersionId" : "machineVersionMigrationId"]: signedId,
      codeUploadUrl: `${fake.uploadOrigin}/code-bucket`,
      codeUploadFields: fields,
    });
  };
}

function finalize(kind: "version" | "migration") {
  return (c: RouteContext): void => {
    const { fake, machine, json } = c;
    const migrationIdKey = fake.opts.migrationIdKey ?? "machineVersionMigrationId";
    const signedId = c.params.signedId!;
    const p = fake.provisionals.get(signedId);
    const param = kind === "version" ? "signedMachineVersionId" : "signedMachineVersionMigrationId";
    if (!p || !c.signer.verify(signedId) || p.kind !== kind || p.machine !== machine.name) return invalid(c, "invalid signed id", param);
    if (p.finalized) {
      if ((fake.opts.repeatedFinalize ?? "refuse") === "refuse") return invalid(c, "this id was finalized already", param);
      return c.send(200, kind === "version" ? { machineVersionId: p.finalized } : { [migrationIdKey]: p.finalized });
    }
    if (!p.upload) return invalid(c, "no code was uploaded for this id", param);
    let code: Buffer;
    try {
      code = p.gzip ? gunzipSync(p.upload.file) : p.upload.file;
    } catch {
      return invalid(c, "uploaded code is not valid gzip", "code");
    }
    if (code.length > 10_000_000) return invalid(c, "code too large", "code");
    if (kind === "migration") {
      // The request body is an (empty) object in the spec; a body that is not an object was refused already.
      machine.migrations.push({ id: p.id, from: p.from!, to: p.to!, code });
      p.finalized = p.id;
      return c.send(200, { [migrationIdKey]: p.id });
    }
    if (json?.clientInfo !== undefined && typeof json.clientInfo !== "string") return invalid(c, "clientInfo must be a string", "clientInfo");
    if (json?.makeCurrent !== undefined && typeof json.makeCurrent !== "boolean") return invalid(c, "makeCurrent must be a boolean", "makeCurrent");
    const sel = json?.indexSelectors as Record<string, unknown> | undefined;
    if (sel !== undefined) {
      for (const [k, v] of Object.entries(sel)) {
        if (!machine.indexes.includes(k) || typeof v !== "string") return invalid(c, `unknown index ${k}`, "indexSelectors");
      }
    }
    const v: VersionRec = {
      id: p.id,
      createdAt: fake.stamp(),
      clientInfo: (json?.clientInfo as string | undefined) ?? "",
      code,
      ...(sel ? { indexSelectors: sel as Record<string, string> } : {}),
    };
    machine.versions.push(v);
    if (json?.makeCurrent === true) machine.currentVersionId = v.id;
    p.finalized = v.id;
    c.send(200, { machineVersionId: v.id });
  };
}

export const PUBLISH_ROUTES: Route[] = [
  { method: "POST", path: "/machines/:machine/v", scope: "machine-versions.write", handle: createProvisional("version") },
  { method: "POST", path: "/machines/:machine/migrations", scope: "machine-versions.write", handle: createProvisional("migration") },
  { method: "PUT", path: "/machines/:machine/v/:signedId", scope: "machine-versions.write", handle: finalize("version") },
  { method: "PUT", path: "/machines/:machine/migrations/:signedId", scope: "machine-versions.write", handle: finalize("migration") },
];
