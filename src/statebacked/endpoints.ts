import type { HttpMethod } from "../http/client.ts";
import type { Retryability } from "../http/retry.ts";

/**
 * The State Backed endpoints this action uses, one row each: method, path, the key scope it
 * needs (for the missing-scope hint and run-wide refusals), how it may be retried, and what the
 * step is doing (for error messages). The client's typed methods are the only users.
 */
export interface Endpoint<A extends readonly string[]> {
  method: HttpMethod;
  scope: string;
  retry: Retryability;
  path(...args: A): string;
  /** What the step is doing, e.g. "creating the version (provisional)". */
  step(...args: A): string;
  /** A bare query flag such as `?gzip`, as the official client sends it. */
  flag?: string;
}

const enc = encodeURIComponent;
const machinePath = (m: string): string => `/machines/${enc(m)}`;

function endpoint<A extends readonly string[]>(e: Endpoint<A>): Endpoint<A> {
  return e;
}

export const ENDPOINTS = {
  getMachine: endpoint({
    method: "GET",
    scope: "machines.read",
    retry: "idempotent",
    path: (m: string) => machinePath(m),
    step: (m: string) => `reading machine '${m}'`,
  }),
  listVersions: endpoint({
    method: "GET",
    scope: "machine-versions.read",
    retry: "idempotent",
    path: (m: string) => `${machinePath(m)}/v`,
    step: (m: string) => `listing versions of '${m}'`,
  }),
  listInstances: endpoint({
    method: "GET",
    scope: "instances.read",
    retry: "idempotent",
    path: (m: string) => `${machinePath(m)}/i`,
    step: (m: string) => `listing instances of '${m}'`,
  }),
  /** Instances whose index value compares to a value (op, value, cursor in the query). */
  queryIndex: endpoint({
    method: "GET",
    scope: "indexes.read",
    retry: "idempotent",
    path: (m: string, index: string) => `${machinePath(m)}/indexes/${enc(index)}/query`,
    step: (m: string, index: string) => `querying index '${index}' of '${m}'`,
  }),
  /**
   * Provisional creates are not idempotent (each call reserves a new provisional id) but safe to
   * repeat: an id whose upload and finalize never happen is abandoned by the API, and nothing
   * becomes a version until finalize. So they are retried like idempotent calls.
   */
  createProvisionalVersion: endpoint({
    method: "POST",
    scope: "machine-versions.write",
    retry: "idempotent",
    flag: "gzip",
    path: (m: string) => `${machinePath(m)}/v`,
    step: () => "creating the version (provisional)",
  }),
  createProvisionalMigration: endpoint({
    method: "POST",
    scope: "machine-versions.write",
    retry: "idempotent",
    flag: "gzip",
    path: (m: string) => `${machinePath(m)}/migrations`,
    step: () => "creating the migration (provisional)",
  }),
  /** Keyed by the signed id: repeating it cannot create a second version. */
  finalizeVersion: endpoint({
    method: "PUT",
    scope: "machine-versions.write",
    retry: "idempotent",
    path: (m: string, signedId: string) => `${machinePath(m)}/v/${enc(signedId)}`,
    step: () => "finalizing the version",
  }),
  finalizeMigration: endpoint({
    method: "PUT",
    scope: "machine-versions.write",
    retry: "idempotent",
    path: (m: string, signedId: string) => `${machinePath(m)}/migrations/${enc(signedId)}`,
    step: () => "finalizing the migration",
  }),
  setDesiredVersion: endpoint({
    method: "PUT",
    scope: "instances.write",
    retry: "idempotent",
    path: (m: string, instance: string) => `${machinePath(m)}/i/${enc(instance)}/v`,
    step: (_m: string, instance: string) => `setting the desired version of '${instance}'`,
  }),
  deleteInstance: endpoint({
    method: "DELETE",
    scope: "instances.admin",
    retry: "idempotent",
    path: (m: string, instance: string) => `${machinePath(m)}/i/${enc(instance)}`,
    step: (_m: string, instance: string) => `deleting '${instance}'`,
  }),
  /** `from`, filters and paging are query parameters; the machine is only for the step's wording. */
  readLogs: endpoint({
    method: "GET",
    scope: "logs.read",
    retry: "idempotent",
    path: (_m: string) => "/logs",
    step: (m: string) => `reading logs${m ? ` of '${m}'` : ""}`,
  }),
} as const;

export type EndpointName = keyof typeof ENDPOINTS;
