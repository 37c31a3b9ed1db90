/**
 * Which HTTP failures are transient and what a call may repeat: the HTTP half of the retry
 * policy (the timing half, backoff and attempt limits, is runtime/retry-policy.ts). The retry
 * loop in client.ts and the bulk classification in classify.ts both use these functions.
 */
import { formatDuration } from "../runtime/duration.ts";
import { ExpectedError } from "../runtime/errors.ts";

/**
 * What a call may safely repeat:
 * - `idempotent`: the call can be repeated with the same effect (GET, PUT of a desired value,
 *   DELETE): retry on 429, 5xx, timeouts and dropped connections.
 * - `unsent-only`: repeating a processed call would act twice (a POST that creates something),
 *   so retry only when the server provably did not act: 429 (refused before processing) and
 *   connections that failed before the request was written.
 * - `none`: one attempt.
 */
export type Retryability = "idempotent" | "unsent-only" | "none";

/**
 * After this failed attempt, may the server have carried the request out? A dropped connection
 * or a 500/502/504 can come after the work was done; a 429, a 503 or a refused connection cannot.
 */
export function mayHaveActed(outcome: { status: number } | TransportError): boolean {
  if (outcome instanceof TransportError) return !outcome.unsent;
  return outcome.status === 500 || outcome.status === 502 || outcome.status === 504;
}

/** Statuses that mean "try again later" for an idempotent call. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** A network failure: the request got no HTTP answer. */
export class TransportError extends ExpectedError {
  readonly code: string;
  /** True when the request surely never reached the server (refused, connect timeout, DNS retry). */
  readonly unsent: boolean;
  /** True when trying again may help. */
  readonly transient: boolean;
  constructor(message: string, code: string, unsent: boolean, transient: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TransportError";
    this.code = code;
    this.unsent = unsent;
    this.transient = transient;
  }
}

const UNSENT_CODES = new Set(["ECONNREFUSED", "UND_ERR_CONNECT_TIMEOUT", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
const SENT_TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** Turns whatever undici or the socket threw into a TransportError with a readable message. */
export function toTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = String(e?.code ?? e?.cause?.code ?? "UNKNOWN");
  const unsent = UNSENT_CODES.has(code);
  const transient = unsent || SENT_TRANSIENT_CODES.has(code);
  const base = typeof e?.message === "string" ? e.message : String(err);
  return new TransportError(`${describeCode(code)} (${base})`, code, unsent, transient, { cause: err });
}

function describeCode(code: string): string {
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connect timed out";
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
    case "ETIMEDOUT":
      return "request timed out";
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
    case "EPIPE":
      return "connection dropped";
    case "ENOTFOUND":
      return "host not found";
    default:
      return "network error";
  }
}

/** Should a failed attempt be retried, by the kind of call (attempt limits aside)? */
export function shouldRetry(retry: Retryability, outcome: { status: number } | TransportError): boolean {
  if (retry === "none") return false;
  if (outcome instanceof TransportError) {
    return retry === "idempotent" ? outcome.transient : outcome.unsent;
  }
  if (retry === "unsent-only") return outcome.status === 429;
  return isTransientStatus(outcome.status);
}

/**
 * Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds from now.
 * Returns undefined when absent or unparseable; never negative.
 */
export function parseRetryAfter(value: string | undefined | null, nowMs: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value.trim();
  if (v === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** The same network failure, its message starting with the step it happened in. */
export function withStep(err: TransportError, step: string | undefined): TransportError {
  if (!step || err.message.startsWith(`${step}: `)) return err;
  return new TransportError(`${step}: ${err.message}`, err.code, err.unsent, err.transient, { cause: err.cause ?? err });
}

/**
 * A request ended because the server asked to wait (Retry-After) past the request's bound:
 * max-attempts x request-timeout-seconds for its attempts and waits together.
 */
export class RequestBoundError extends ExpectedError {
  readonly status: number;
  readonly retryAfterMs: number;
  constructor(step: string | undefined, status: number, retryAfter: string, retryAfterMs: number, boundMs: number) {
    super(
      `${step ? `${step}: ` : ""}HTTP ${status} with Retry-After: ${retryAfter.trim()} (${formatDuration(retryAfterMs)}); waiting that long would pass this request's bound of ` +
        `${formatDuration(boundMs)} (max-attempts x request-timeout-seconds), so it ends here; try again later`,
    );
    this.name = "RequestBoundError";
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}
