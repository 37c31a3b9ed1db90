import { Agent, type Dispatcher } from "undici";
import { type Clock, abortReason, isCancelled } from "../runtime/clock.ts";
import type { Logger } from "../runtime/logger.ts";
import { type RetryPolicy, delayBeforeRetry } from "../runtime/retry-policy.ts";
import { type Retryability, TransportError, mayHaveActed, parseRetryAfter, shouldRetry, toTransportError } from "./retry.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

export interface HttpRequest {
  method: HttpMethod;
  url: string | URL;
  /** Headers, or a function that makes them for each attempt (so a retry carries a fresh token). */
  headers?: Record<string, string> | (() => Record<string, string>);
  /** Always a whole body (string or Buffer), so Content-Length is known and nothing is chunked. */
  body?: string | Buffer;
  /** What may be repeated; see Retryability. */
  retry: Retryability;
  /** Overrides the client's per-request timeout (headers and body each). */
  timeoutMs?: number;
  /** Aborts this request only; the client's own signal always applies too. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Attempts made for this answer (set by request(); 1 for send()). */
  attempts: number;
  /** True when an earlier attempt failed in a way that the server may have acted on (its answer was lost). */
  afterUncertainAttempt: boolean;
  text(): string;
  json<T = unknown>(): T;
}

export interface HttpClientOptions {
  clock: Clock;
  logger: Logger;
  policy: RetryPolicy;
  /** Aborts every request of the run (workflow cancellation). */
  signal?: AbortSignal;
  /** Per-request headers and body timeout. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Extra PEM certificate authority to trust (TLS checks stay on). */
  ca?: string;
  random?: () => number;
  /** For tests: a dispatcher of their own instead of the keep-alive Agent. */
  dispatcher?: Dispatcher;
}

/**
 * The one HTTP layer of the action: a single keep-alive undici dispatcher for the run, timeouts,
 * cancellation, and the retry loop of retry.ts. Non-2xx answers are returned, not thrown: the
 * API clients above turn them into errors that say what the step was doing.
 */
export class HttpClient {
  readonly policy: RetryPolicy;
  readonly clock: Clock;
  readonly signal: AbortSignal | undefined;
  private readonly logger: Logger;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly requestTimeoutMs: number;
  private readonly random: () => number;
  /**
   * For each signal that exchanges in flight depend on (the run's, the bulk pool's), the abort
   * functions of those exchanges. Each signal gets one listener for its whole life instead of an
   * add and a remove per request: at 10,000 requests a second that churn costs CPU and memory.
   */
  private readonly watched = new WeakMap<AbortSignal, Set<(reason: Error) => void>>();

  constructor(opts: HttpClientOptions) {
    this.policy = opts.policy;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.signal = opts.signal;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.random = opts.random ?? Math.random;
    this.ownsDispatcher = !opts.dispatcher;
    this.dispatcher =
      opts.dispatcher ??
      new Agent({
        keepAliveTimeout: 10_000,
        keepAliveMaxTimeout: 60_000,
        connectTimeout: opts.connectTimeoutMs ?? 10_000,
        headersTimeout: this.requestTimeoutMs,
        bodyTimeout: this.requestTimeoutMs,
        ...(opts.ca ? { connect: { ca: opts.ca } } : {}),
      });
  }

  /** One attempt. Throws TransportError on a network failure, the abort reason on cancellation. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const aborted = (): AbortSignal | undefined => (this.signal?.aborted ? this.signal : req.signal?.aborted ? req.signal : undefined);
    const early = aborted();
    if (early) throw abortReason(early);
    try {
      return await this.dispatchOnce(req, req.timeoutMs ?? this.requestTimeoutMs);
    } catch (err) {
      const by = aborted();
      if (by) throw abortReason(by);
      if (isCancelled(err)) throw err;
      throw toTransportError(err);
    }
  }

  /** The set of abort functions to call when `signal` aborts (listening to it once). */
  private abortersOf(signal: AbortSignal): Set<(reason: Error) => void> {
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

  /**
   * One exchange through undici's dispatch API with a minimal handler: no stream per response,
   * which keeps garbage (and so memory) low at 10,000 requests a second.
   */
  private dispatchOnce(req: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
    const signals = [this.signal, req.signal !== this.signal ? req.signal : undefined].filter((x): x is AbortSignal => x !== undefined);
    const url = typeof req.url === "string" ? new URL(req.url) : req.url;
    return new Promise<HttpResponse>((resolve, reject) => {
      let controller: Dispatcher.DispatchController | undefined;
      let pendingAbort: Error | undefined;
      let settled = false;
      let status = 0;
      let headers: Record<string, string> = {};
      const chunks: Buffer[] = [];
      // Ends the exchange at once, whatever phase it is in; before undici hands over a controller
      // (still connecting), the promise settles now and the request is aborted when it starts.
      const abort = (reason: Error): void => {
        if (controller) controller.abort(reason);
        else {
          pendingAbort = reason;
          settle(() => reject(reason));
        }
      };
      // The timeout bounds the whole exchange: connect, TLS, headers and body.
      const timer = setTimeout(() => abort(timeoutError(controller === undefined, timeoutMs)), timeoutMs);
      const sets = signals.map((sig) => this.abortersOf(sig));
      for (const set of sets) set.add(abort);
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        for (const set of sets) set.delete(abort);
        fn();
      };
      this.dispatcher.dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: req.method,
          headers: typeof req.headers === "function" ? req.headers() : (req.headers ?? {}),
          body: req.body ?? null,
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
          onResponseStart(_c, statusCode, h) {
            status = statusCode;
            headers = flattenHeaders(h);
          },
          onResponseData(_c, chunk) {
            chunks.push(chunk);
          },
          onResponseEnd() {
            settle(() => resolve(makeResponse(status, headers, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))));
          },
          onResponseError(_c, err) {
            settle(() => reject(err));
          },
        },
      );
    });
  }

  /**
   * Sends with retries as `req.retry` allows. Returns the last answer (whatever its status) or
   * throws the last TransportError once the attempts are spent.
   */
  async request(req: HttpRequest): Promise<HttpResponse> {
    let uncertain = false;
    for (let attempt = 1; ; attempt++) {
      let outcome: HttpResponse | TransportError;
      try {
        outcome = await this.send(req);
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        outcome = err;
      }
      if (!(outcome instanceof TransportError)) {
        outcome.attempts = attempt;
        outcome.afterUncertainAttempt = uncertain;
      }
      const failed = outcome instanceof TransportError || outcome.status >= 400;
      if (!failed || attempt >= this.policy.maxAttempts || !shouldRetry(req.retry, outcome)) {
        if (outcome instanceof TransportError) throw outcome;
        return outcome;
      }
      const retryAfterMs =
        outcome instanceof TransportError ? undefined : parseRetryAfter(outcome.headers["retry-after"], this.clock.now());
      const delay = delayBeforeRetry(attempt, this.policy, retryAfterMs, this.random);
      if (delay === undefined) {
        if (outcome instanceof TransportError) throw outcome;
        return outcome;
      }
      uncertain ||= mayHaveActed(outcome);
      const what = outcome instanceof TransportError ? outcome.message : `HTTP ${outcome.status}`;
      this.logger.info(
        `${req.method} ${pathOf(req.url)}: ${what}; retrying in ${(delay / 1000).toFixed(1)}s (attempt ${attempt + 1} of ${this.policy.maxAttempts})`,
      );
      const link = linkSignals(this.signal, req.signal);
      try {
        await this.clock.sleep(delay, link.signal);
      } finally {
        link.unlink();
      }
    }
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close().catch(() => undefined);
  }

  /** Closes at once, aborting requests still in flight. */
  async destroy(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.destroy().catch(() => undefined);
  }
}

/** The error of a request that ran out of time; before the request started it surely was not sent. */
function timeoutError(beforeStart: boolean, ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms} ms`), { code: beforeStart ? "UND_ERR_CONNECT_TIMEOUT" : "ETIMEDOUT" });
}

/**
 * One signal that aborts when either does. Unlike AbortSignal.any, the link is undone after the
 * request, so 100,000 requests against one long-lived run signal leave nothing behind.
 */
function linkSignals(a: AbortSignal | undefined, b: AbortSignal | undefined): { signal: AbortSignal | undefined; unlink: () => void } {
  if (!a || !b || a === b) return { signal: a ?? b, unlink: () => {} };
  if (a.aborted || b.aborted) return { signal: a.aborted ? a : b, unlink: () => {} };
  const ctl = new AbortController();
  const onA = (): void => ctl.abort(a.reason);
  const onB = (): void => ctl.abort(b.reason);
  a.addEventListener("abort", onA, { once: true });
  b.addEventListener("abort", onB, { once: true });
  return {
    signal: ctl.signal,
    unlink: () => {
      a.removeEventListener("abort", onA);
      b.removeEventListener("abort", onB);
    },
  };
}

function pathOf(url: string | URL): string {
  const u = typeof url === "string" ? new URL(url) : url;
  return u.pathname;
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

export function makeResponse(status: number, headers: Record<string, string>, body: Buffer): HttpResponse {
  return {
    status,
    headers,
    body,
    attempts: 1,
    afterUncertainAttempt: false,
    text: () => body.toString("utf8"),
    json: <T>() => JSON.parse(body.toString("utf8")) as T,
  };
}
