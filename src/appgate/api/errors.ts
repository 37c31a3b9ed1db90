/** Errors of the Appgate client; messages say what was being done and never carry secrets. */
import { ExpectedError } from "../../runtime/errors.ts";

/** A non-2xx answer from the Controller. */
export class AppgateApiError extends ExpectedError {
  readonly status: number;
  readonly errorId: string | undefined;
  readonly detail: string | undefined;
  constructor(what: string, status: number, errorId?: string, detail?: string) {
    super(`${what}: HTTP ${status}${errorId ? ` ${errorId}` : ""}${detail ? `: ${detail}` : ""}`);
    this.name = "AppgateApiError";
    this.status = status;
    this.errorId = errorId;
    this.detail = detail;
  }
}

/**
 * A 503 from the primary Controller's address: a load balancer sent the call to another
 * Controller (one in maintenance). Nothing it says can be trusted: the run stops.
 */
export class MisroutedError extends ExpectedError {
  constructor(what: string) {
    super(
      `${what}: HTTP 503 from the primary Controller's address. A load balancer (or DNS) sent the call to another Controller; ` +
        "set controller-url to the primary Controller's own admin address and run again",
    );
    this.name = "MisroutedError";
  }
}

/** Signing in failed (bad credentials, MFA required, refused token): nothing will work. */
export class AuthError extends ExpectedError {
  constructor(message: string) {
    super(message);
    this.name = "AuthError";
  }
}

/** Errors that end the whole run at once rather than one appliance. */
export function isFatal(err: unknown): boolean {
  return err instanceof MisroutedError || err instanceof AuthError;
}

/** An error's message, with a hint when the Controller's TLS certificate was not trusted. */
export function explain(err: unknown): string {
  const code = String((err as { code?: unknown } | undefined)?.code ?? "");
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO|ERR_TLS|HOSTNAME_MISMATCH|ALTNAME/i.test(code)) {
    const detail = /\(([^;)]*)/.exec(messageOf(err))?.[1] ?? code;
    return `the Controller's TLS certificate is not trusted (${detail}). If it comes from a private CA, give that CA in ca-certificate (TLS checks are never turned off)`;
  }
  return messageOf(err);
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
