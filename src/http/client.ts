import { Agent, type Dispatcher } from "undici";
import { type Clock, abortReason, isCancelled } from "../runtime/clock.ts";
import type { Logger } from "../runtime/logger.ts";
import { ProxyRouter, type ProxySettings } from "./proxy.ts";
import { type RetryPolicy, delayBeforeRetry } from "../runtime/retry-policy.ts";
import { AbortWatch, exchange } from "./exchange.ts";
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
  text(): string;
  json<T = unknown>(): T;
}

/** What the retry loop learnt: the last answer, and how it got there. */
export interface Retried {
  response: HttpResponse;
  /** Attempts made, this answer's included. */
  attempts: number;
  /**
   * An earlier attempt failed in a way the server may have carried out (its answer was lost, or
   * it was a 500/502/504): a 404 or 409 now may be that attempt's doing.
   */
  mayHaveActed: boolean;
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
  /** Proxies from the environment (proxySettingsFromEnv); none when absent. */
  proxy?: ProxySettings;
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
  private readonly watch = new AbortWatch();

  constructor(opts: HttpClientOptions) {
    this.policy = opts.policy;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.signal = opts.signal;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.random = opts.random ?? Math.random;
    this.ownsDispatcher = !opts.dispatcher;
    const agentOptions: Agent.Options = {
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
      headersTimeout: this.requestTimeoutMs,
      bodyTimeout: this.requestTimeoutMs,
    };
    this.dispatcher =
      opts.dispatcher ??
      (opts.proxy?.http || opts.proxy?.https
        ? new ProxyRouter(opts.proxy, agentOptions, opts.ca)
        : new Agent({ ...agentOptions, ...(opts.ca ? { connect: { ca: opts.ca } } : {}) }));
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

  /** One exchange, its answer wrapped as an HttpResponse. */
  private async dispatchOnce(req: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
    const url = typeof req.url === "string" ? new URL(req.url) : req.url;
    const signals = [this.signal, req.signal !== this.signal ? req.signal : undefined].filter((x): x is AbortSignal => x !== undefined);
    const raw = await exchange(
      this.dispatcher,
      {
        origin: url.origin,
        path: url.pathname + url.search,
        method: req.method,
        headers: typeof req.headers === "function" ? req.headers() : (req.headers ?? {}),
        body: req.body ?? null,
        timeoutMs,
        signals,
      },
      this.watch,
    );
    return makeResponse(raw.status, raw.headers, raw.body);
  }

  /** Sends with retries as `req.retry` allows: the last answer, whatever its status (see retrying()). */
  async request(req: HttpRequest): Promise<HttpResponse> {
    return (await this.retrying(req)).response;
  }

  /**
   * The retry loop: sends with retries as `req.retry` allows. Returns the last answer (whatever
   * its status) with what the loop learnt on the way, or throws the last TransportError once the
   * attempts are spent.
   */
  async retrying(req: HttpRequest): Promise<Retried> {
    let uncertain = false;
    for (let attempt = 1; ; attempt++) {
      let outcome: HttpResponse | TransportError;
      try {
        outcome = await this.send(req);
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        outcome = err;
      }
      const failed = outcome instanceof TransportError || outcome.status >= 400;
      if (!failed || attempt >= this.policy.maxAttempts || !shouldRetry(req.retry, outcome)) {
        if (outcome instanceof TransportError) throw outcome;
        return { response: outcome, attempts: attempt, mayHaveActed: uncertain };
      }
      const retryAfterMs =
        outcome instanceof TransportError ? undefined : parseRetryAfter(outcome.headers["retry-after"], this.clock.now());
      const delay = delayBeforeRetry(attempt, this.policy, retryAfterMs, this.random);
      if (delay === undefined) {
        if (outcome instanceof TransportError) throw outcome;
        return { response: outcome, attempts: attempt, mayHaveActed: uncertain };
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

export function makeResponse(status: number, headers: Record<string, string>, body: Buffer): HttpResponse {
  return {
    status,
    headers,
    body,
    text: () => body.toString("utf8"),
    json: <T>() => JSON.parse(body.toString("utf8")) as T,
  };
}
