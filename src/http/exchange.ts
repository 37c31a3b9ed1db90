/**
 * One HTTP exchange through undici's dispatch API with a minimal handler: no stream per response,
 * which keeps garbage (and so memory) low at 10,000 requests a second. A timer bounds the whole
 * exchange (connect, TLS, headers and body); the run's signals abort it at once, whatever phase
 * it is in. Retries, statuses and errors with meaning are the client's (client.ts).
 */
import type { Dispatcher } from "undici";
import { abortReason } from "../runtime/clock.ts";
import { TransportError } from "./retry.ts";

export interface RawRequest {
  origin: string;
  /** Path and query. */
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string | Buffer | null;
  timeoutMs: number;
  /** Any of these aborting ends the exchange with its reason. */
  signals: readonly AbortSignal[];
  /** The most bytes a 2xx answer's body may have; more is refused (see ResponseTooLargeError). */
  maxBodyBytes: number;
  /** The same for any other answer (an error body is never worth much memory). */
  maxErrorBodyBytes: number;
}

export interface RawAnswer {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * For each signal that exchanges in flight depend on (the run's, the bulk pool's), the abort
 * functions of those exchanges. Each signal gets one listener for its whole life instead of an
 * add and a remove per request: at 10,000 requests a second that churn costs CPU and memory.
 */
export class AbortWatch {
  private readonly watched = new WeakMap<AbortSignal, Set<(reason: Error) => void>>();

  /** The set of abort functions to call when `signal` aborts (listening to it once). */
  abortersOf(signal: AbortSignal): Set<(reason: Error) => void> {
    let set = this.watched.get(signal);
    if (!set) {
      const aborters = new Set<(reason: Error) => void>();
      signal.addEventListener(
        "abort",
        () => {
          const reason = abortReason(signal);
          for (const abort of [...aborters]) abort(reason);
        },
        { once: true },
      );
      this.watched.set(signal, aborters);
      set = aborters;
    }
    return set;
  }
}

/** Sends one request and reads its whole answer. Rejects with undici's error, a timeout or the abort reason. */
export function exchange(dispatcher: Dispatcher, req: RawRequest, watch: AbortWatch): Promise<RawAnswer> {
  const { signals, timeoutMs } = req;
  return new Promise<RawAnswer>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let pendingAbort: Error | undefined;
    let settled = false;
    let status = 0;
    let headers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    let received = 0;
    let cap = req.maxBodyBytes;
    // Ends the exchange at once, whatever phase it is in; before undici hands over a controller
    // (still connecting), the promise settles now and the request is aborted when it starts.
    const abort = (reason: Error): void => {
      if (controller) controller.abort(reason);
      else {
        pendingAbort = reason;
        settle(() => reject(reason));
      }
    };
    const timer = setTimeout(() => abort(timeoutError(controller === undefined, timeoutMs)), timeoutMs);
    const sets = signals.map((sig) => watch.abortersOf(sig));
    for (const set of sets) set.add(abort);
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const set of sets) set.delete(abort);
      fn();
    };
    dispatcher.dispatch(
      {
        origin: req.origin,
        path: req.path,
        method: req.method,
        headers: req.headers,
        body: req.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      {
        onRequestStart(c) {
          controller = c;
          const gone = signals.find((sig) => sig.aborted);
          const early = pendingAbort ?? (gone ? abortReason(gone) : undefined);
          if (early) c.abort(early);
        },
        onResponseStart(c, statusCode, h) {
          status = statusCode;
          headers = flattenHeaders(h);
          cap = status >= 200 && status < 300 ? req.maxBodyBytes : req.maxErrorBodyBytes;
          const declared = Number(headers["content-length"]);
          if (Number.isFinite(declared) && declared > cap) c.abort(tooLarge(status, cap, declared));
        },
        onResponseData(c, chunk) {
          received += chunk.length;
          // Counted as it arrives: nothing past the cap is kept, whatever the headers said.
          if (received > cap) c.abort(tooLarge(status, cap));
          else chunks.push(chunk);
        },
        onResponseEnd() {
          settle(() => resolve({ status, headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
        },
        onResponseError(_c, err) {
          settle(() => reject(err));
        },
      },
    );
  });
}

/** An answer refused for its size: no retry (the server would send it again). */
function tooLarge(status: number, cap: number, declared?: number): TransportError {
  const limit = cap >= 1024 * 1024 ? `${Math.round(cap / 1024 / 1024)} MiB` : `${Math.round(cap / 1024)} KiB`;
  const kind = status >= 200 && status < 300 ? "an answer" : "an error answer";
  const size = declared !== undefined ? `${declared} bytes (its Content-Length)` : "more bytes";
  return new TransportError(`answer too large: HTTP ${status} with ${size} than the ${limit} accepted for ${kind}; refused`, "RESPONSE_TOO_LARGE", false, false);
}

/** The error of a request that ran out of time; before the request started it surely was not sent. */
function timeoutError(beforeStart: boolean, ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms} ms`), { code: beforeStart ? "UND_ERR_CONNECT_TIMEOUT" : "ETIMEDOUT" });
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}
