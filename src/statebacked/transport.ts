import type { HttpClient, HttpRequest, HttpResponse } from "../http/client.ts";
import type { Logger } from "../runtime/logger.ts";
import { PageGuard } from "../runtime/pager.ts";
import type { Endpoint } from "./endpoints.ts";
import { ApiError, parseErrorBody } from "./errors.ts";
import type { TokenSource } from "./token.ts";

export interface StateBackedApiOptions {
  http: HttpClient;
  baseUrl: URL;
  tokens: TokenSource;
  orgId?: string;
  userAgent?: string;
  /** For progress lines while listing. */
  logger?: Logger;
}

/** One call of an endpoint: its arguments (path parameters), query, body. */
export interface Call<A extends readonly string[]> {
  args: A;
  query?: Record<string, string | undefined>;
  body?: unknown;
  signal?: AbortSignal;
}

/**
 * How a State Backed request is made: the URL under the base, the headers (a fresh token for each
 * attempt, the org header), the JSON body; a non-2xx answer becomes an ApiError naming the step
 * and the endpoint's scope.
 */
export class StateBackedTransport {
  readonly opts: StateBackedApiOptions;
  /** The base URL without its trailing slashes, computed once. */
  private readonly base: string;
  constructor(opts: StateBackedApiOptions) {
    this.opts = opts;
    this.base = opts.baseUrl.href.replace(/\/+$/, "");
  }

  url(path: string, query?: Record<string, string | undefined>, flag?: string): URL {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    if (flag) url.search = url.search ? `${url.search}&${flag}` : `?${flag}`;
    return url;
  }

  headers(withBody: boolean): Record<string, string> {
    return {
      authorization: `Bearer ${this.opts.tokens.token()}`,
      accept: "application/json",
      "user-agent": this.opts.userAgent ?? "statebacked-release-action",
      ...(withBody ? { "content-type": "application/json" } : {}),
      ...(this.opts.orgId ? { "x-statebacked-org-id": this.opts.orgId } : {}),
    };
  }

  /** One request; one attempt, whatever the status (the bulk engine retries). */
  send<A extends readonly string[]>(ep: Endpoint<A>, call: Call<A>): Promise<HttpResponse> {
    return this.opts.http.send(this.toRequest(ep, call));
  }

  /** A call with the HTTP layer's retries; a non-2xx answer becomes an ApiError. */
  async call<T, A extends readonly string[]>(ep: Endpoint<A>, call: Call<A>): Promise<T> {
    const { response: res, mayHaveActed } = await this.opts.http.retrying(this.toRequest(ep, call));
    const step = ep.step(...call.args);
    if (res.status < 200 || res.status >= 300) throw this.errorOf(ep, step, res, mayHaveActed);
    let value: unknown;
    try {
      value = res.json();
    } catch {
      throw new ApiError(step, res.status, { error: "the answer was not JSON" }, ep.scope);
    }
    if (!value || typeof value !== "object") throw new ApiError(step, res.status, { error: "the answer was not a JSON object" }, ep.scope);
    answered.set(value, res.status);
    return value as T;
  }

  /** Every page of a cursor-paged list; a cursor handed out twice is an error, not a loop. */
  async *pages<R extends { cursor?: string | undefined }, T, A extends readonly string[]>(
    ep: Endpoint<A>,
    call: Call<A>,
    items: (r: R) => T[],
  ): AsyncGenerator<T[]> {
    const step = ep.step(...call.args);
    const http = this.opts.http;
    const logger = this.opts.logger;
    const guard = new PageGuard(step, { now: () => http.clock.now(), ...(logger ? { progress: (line: string) => logger.info(line) } : {}) });
    let cursor: string | undefined;
    do {
      const page: R = await this.call<R, A>(ep, { ...call, query: { ...call.query, cursor } });
      const list = items(page);
      if (!Array.isArray(list)) throw malformed(step, "the list", page);
      cursor = page.cursor || undefined;
      guard.page(list.length, cursor);
      yield list;
    } while (cursor !== undefined);
  }

  /** `mayHaveActed`: an earlier attempt of this call may have been carried out (its answer was lost). */
  errorOf<A extends readonly string[]>(ep: Endpoint<A>, step: string, res: HttpResponse, mayHaveActed = false): ApiError {
    return new ApiError(step, res.status, parseErrorBody(res.text()), ep.scope, ep.method !== "GET" && mayHaveActed);
  }

  private toRequest<A extends readonly string[]>(ep: Endpoint<A>, call: Call<A>): HttpRequest {
    const hasBody = call.body !== undefined;
    return {
      method: ep.method,
      url: this.url(ep.path(...call.args), call.query, ep.flag),
      // Made for each attempt, so a retry long after the first try still carries a valid token.
      headers: () => this.headers(hasBody),
      ...(hasBody ? { body: JSON.stringify(call.body) } : {}),
      retry: ep.retry,
      step: ep.step(...call.args),
      ...(call.signal ? { signal: call.signal } : {}),
    };
  }
}

/** The status each parsed answer came with, so an error about its content names the real one (a 201, a 204). */
const answered = new WeakMap<object, number>();

/** An answer without what it must hold; `answer` (as call() returned it) gives the real status. */
export function malformed(step: string, what: string, answer?: object): ApiError {
  return new ApiError(step, (answer && answered.get(answer)) ?? 200, { error: `the answer has no valid ${what}` }, undefined);
}
