import { Agent, type Dispatcher } from "undici";
import { type Clock, abortReason, isCancelled } from "../runtime/clock.ts";
import type { Logger } from "../runtime/logger.ts";
import { ProxyRouter, type ProxySettings } from "./proxy.ts";
import { type RetryPolicy, delayBeforeRetry } from "../runtime/retry-policy.ts";
import { AbortWatch, exchange } from "./exchange.ts";
import {
  RequestBoundError,
  type Retryability,
  TransportError,
  mayHaveActed,
  parseRetryAfter,
  shouldRetry,
  toTransportError,
  withStep,
} from "./retry.ts";

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
  /** What the request does ("listing instances of 'm'"): the retry loop's errors start with it. */
  step?: string;
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
  /** The most bytes a 2xx answer may have (default 16 MiB: the APIs' largest answers are far smaller). */
  maxResponseBytes?: number;
  /** The most bytes any other answer may have (default 64 KiB). */
  maxErrorResponseBytes?: number;
}

/** A last attempt with less time than this left is not worth starting. */
const MIN_LAST_ATTEMPT_MS = 1000;

export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_ERROR_RESPONSE_BYTES = 64 * 1024;

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
  private readonly maxBodyBytes: number;
  private readonly maxErrorBodyBytes: number;

  constructor(opts: HttpClientOptions) {
    this.policy = opts.policy;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.signal = opts.signal;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.random = opts.random ?? Math.random;
    this.ownsDispatcher = !opts.dispatcher;
    this.maxBodyBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.maxErrorBodyBytes = opts.maxErrorResponseBytes ?? DEFAULT_MAX_ERROR_RESPONSE_BYTES;
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
        maxBodyBytes: this.maxBodyBytes,
        maxErrorBodyBytes: this.maxErrorBodyBytes,
      },
      this.watch,
    );
    return makeResponse(raw.status, raw.headers, raw.body);
  }

  /**
   * The most time one request may take, attempts and waits together: max-attempts x the request
   * timeout. A server cannot stretch a request past it, whatever its Retry-After says.
   */
  boundMs(timeoutMs: number = this.requestTimeoutMs): number {
    return this.policy.maxAttempts * timeoutMs;
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
    const started = this.clock.now();
    const timeoutMs = req.timeoutMs ?? this.requestTimeoutMs;
    const bound = this.boundMs(timeoutMs);
    let next: HttpRequest = req;
    for (let attempt = 1; ; attempt++) {
      let outcome: HttpResponse | TransportError;
      try {
        outcome = await this.send(next);
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        outcome = err;
      }
      const failed = outcome instanceof TransportError || outcome.status >= 400;
      if (!failed || attempt >= this.policy.maxAttempts || !shouldRetry(req.retry, outcome)) {
        if (outcome instanceof TransportError) throw withStep(outcome, req.step);
        return { response: outcome, attempts: attempt, mayHaveActed: uncertain };
      }
      const retryAfter = outcome instanceof TransportError ? undefined : outcome.headers["retry-after"];
      const retryAfterMs = parseRetryAfter(retryAfter, this.clock.now());
      const delay = delayBeforeRetry(attempt, this.policy, retryAfterMs, this.random);
      if (delay === undefined) {
        if (outcome instanceof TransportError) throw withStep(outcome, req.step);
        return { response: outcome, attempts: attempt, mayHaveActed: uncertain };
      }
      // Attempts and waits together stay within the bound: the next attempt gets what is left.
      const left = bound - (this.clock.now() - started) - delay;
      if (left < Math.min(timeoutMs, MIN_LAST_ATTEMPT_MS)) {
        if (retryAfterMs !== undefined && retryAfterMs >= delay && !(outcome instanceof TransportError)) {
          throw new RequestBoundError(req.step, outcome.status, retryAfter ?? "", retryAfterMs, bound);
        }
        if (outcome instanceof TransportError) throw withStep(outcome, req.step);
        return { response: outcome, attempts: attempt, mayHaveActed: uncertain };
      }
      next = left < timeoutMs ? { ...req, timeoutMs: left } : req;
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
