import { type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";

/**
 * The small HTTP base both fakes stand on: a listener on 127.0.0.1, port 0 (HTTP or HTTPS), the
 * body read with a bound, answers in JSON (or text), a request log, injected faults, and the two
 * ways an answer goes missing: a connection dropped before any work, and work carried out whose
 * answer is lost in transit. The service logic lives in the fake's own `handle`.
 */

/** What a fault rule does to a matching request. */
export type FaultAction =
  | { status: number; retryAfter?: string; body?: unknown }
  | { drop: true }
  | { delayMs: number }
  /** Held until the promise settles, then served as usual (a test decides when). */
  | { until: Promise<unknown> }
  /** Carry the request out, then drop the connection instead of answering: an answer lost in transit. */
  | { dropAfterProcessing: true };

export interface FaultRule {
  method?: string;
  /** Matches the path (without query). */
  path?: RegExp;
  /** How many matching requests it applies to (default 1). */
  times?: number;
  action: FaultAction;
}

/** One request, with the means to answer it. */
export interface Exchange {
  readonly method: string;
  readonly url: URL;
  /** The path without the query. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly req: IncomingMessage;
  /** The status answered; 0 while unanswered, and when the connection was dropped or held. */
  readonly status: number;
  /** Answers: no payload → empty body; a Buffer → as is; a string → text (`text/plain` unless a content-type header says); else JSON. */
  send(status: number, payload?: unknown, headers?: Record<string, string>): number;
  /** Drops the connection without an answer. */
  drop(): void;
  /** From now on, an answer is not sent: the connection is dropped instead (the work is done, the answer lost). */
  loseAnswer(): void;
  /** Holds the request unanswered until the client closes the connection. */
  hold(): Promise<void>;
}

export interface ExchangeRecord {
  /** Arrival time, on the fake's clock. */
  at: number;
  method: string;
  path: string;
  /** The raw query string ("" or "?…"), as sent. */
  query: string;
  /** What the fake decided (also when that answer was then lost); 0 = dropped before any work, or held. */
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Time spent in the fake, arrival to answer (wall clock, for benchmarks). */
  elapsedMs: number;
}

export interface HttpFakeOptions {
  handle: (ex: Exchange) => void | Promise<void>;
  /**
   * Runs after the fault's delay and before an injected status or `handle` (e.g. latency, an
   * in-flight cap); it may answer, and then `handle` is not called.
   */
  before?: (ex: Exchange) => void | Promise<void>;
  /** Consulted for every request, first match wins; may be shared by several listeners. */
  faults?: FaultRule[];
  /** Called once per request when it is over (the request log). */
  record?: (rec: ExchangeRecord) => void;
  /** Bodies longer than this are refused with 413 before `handle` (default 16 MiB). */
  maxBodyBytes?: number;
  /** Serve HTTPS with this key and certificate. */
  tls?: { key: string; cert: string };
  keepAliveTimeoutMs?: number;
  now?: () => number;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export class HttpFake {
  url = "";
  /** Requests being handled right now, and the most at once. */
  inFlight = 0;
  peakInFlight = 0;
  /** Requests held unanswered right now. */
  held = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private readonly opts: HttpFakeOptions;

  constructor(opts: HttpFakeOptions) {
    this.opts = opts;
  }

  async start(): Promise<this> {
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => void this.serve(req, res);
    const server = this.opts.tls ? createTlsServer({ key: this.opts.tls.key, cert: this.opts.tls.cert }, onRequest) : createServer(onRequest);
    server.keepAliveTimeout = this.opts.keepAliveTimeoutMs ?? 30_000;
    server.on(this.opts.tls ? "secureConnection" : "connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.url = `${this.opts.tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = (this.opts.now ?? Date.now)();
    const arrived = performance.now();
    const url = new URL(req.url ?? "/", "http://fake");
    const ex = new ExchangeImpl(req, res, url, (d) => (this.held += d));
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      const body = await readBounded(req, this.opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
      if (body === undefined) {
        ex.send(413, { error: "request body too large" });
        return;
      }
      ex.body = body;
      const fault = takeFault(this.opts.faults, ex.method, ex.path);
      if (fault && "drop" in fault) return ex.drop();
      if (fault && "delayMs" in fault) await sleep(fault.delayMs);
      if (fault && "until" in fault) await fault.until.catch(() => undefined);
      if (fault && "dropAfterProcessing" in fault) ex.loseAnswer();
      await this.opts.before?.(ex);
      if (ex.answered) return;
      if (fault && "status" in fault) {
        ex.send(fault.status, fault.body ?? { error: `injected ${fault.status}` }, fault.retryAfter !== undefined ? { "retry-after": fault.retryAfter } : {});
        return;
      }
      await this.opts.handle(ex);
    } catch (err) {
      if (!ex.answered && !res.headersSent) ex.send(500, { error: `fake crashed: ${(err as Error).message}` });
    } finally {
      this.inFlight--;
      this.opts.record?.({ at, method: ex.method, path: ex.path, query: url.search, status: ex.status, headers: req.headers, body: ex.body, elapsedMs: performance.now() - arrived });
    }
  }
}

class ExchangeImpl implements Exchange {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  body: Buffer = Buffer.alloc(0);
  status = 0;
  answered = false;
  private lose = false;
  readonly req: IncomingMessage;
  readonly url: URL;
  private readonly res: ServerResponse;
  private readonly onHeld: (delta: number) => void;

  constructor(req: IncomingMessage, res: ServerResponse, url: URL, onHeld: (delta: number) => void) {
    this.req = req;
    this.res = res;
    this.url = url;
    this.onHeld = onHeld;
    this.method = req.method ?? "GET";
    this.path = url.pathname;
    this.headers = req.headers;
  }

  send(status: number, payload?: unknown, headers: Record<string, string> = {}): number {
    if (this.answered) throw new Error(`fake: ${this.method} ${this.path} answered twice`);
    this.answered = true;
    // Recorded even when the answer is lost: the work was done with this outcome.
    this.status = status;
    if (this.lose) {
      // The work is done; the answer never arrives.
      this.req.socket.destroy();
      return status;
    }
    if (payload === undefined) {
      this.res.writeHead(status, headers).end();
    } else {
      // A Buffer goes out as is (a binary download); a string as text; anything else as JSON.
      const text = Buffer.isBuffer(payload) ? payload : typeof payload === "string" ? payload : JSON.stringify(payload);
      const hasType = Object.keys(headers).some((k) => k.toLowerCase() === "content-type");
      const type = hasType ? {} : { "content-type": Buffer.isBuffer(payload) ? "application/octet-stream" : typeof payload === "string" ? "text/plain" : "application/json" };
      this.res.writeHead(status, { ...type, "content-length": String(Buffer.byteLength(text)), ...headers }).end(text);
    }
    return status;
  }

  drop(): void {
    this.answered = true;
    this.req.socket.destroy();
  }

  loseAnswer(): void {
    this.lose = true;
  }

  hold(): Promise<void> {
    this.answered = true;
    this.onHeld(1);
    return new Promise((resolve) => {
      const done = (): void => {
        this.onHeld(-1);
        resolve();
      };
      if (this.req.socket.destroyed) done();
      else this.req.socket.once("close", done);
    });
  }
}

/** The body, or undefined when it is longer than `max` (the rest is not kept). */
async function readBounded(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > max) over = true;
    if (!over) chunks.push(c as Buffer);
  }
  return over ? undefined : Buffer.concat(chunks);
}

/** The first rule matching method and path, used up by one (removed when its `times` run out). */
export function takeFault(faults: FaultRule[] | undefined, method: string, path: string): FaultAction | undefined {
  if (!faults) return undefined;
  for (let i = 0; i < faults.length; i++) {
    const f = faults[i]!;
    if ((f.method && f.method !== method) || (f.path && !f.path.test(path))) continue;
    const left = (f.times ?? 1) - 1;
    if (left <= 0) faults.splice(i, 1);
    else f.times = left;
    return f.action;
  }
  return undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
