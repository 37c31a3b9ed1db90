import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HttpClient } from "../../src/http/client.ts";
import { TransportError } from "../../src/http/retry.ts";
import { defaultRetryPolicy } from "../../src/runtime/retry-policy.ts";
import { MemoryLogger } from "../../src/runtime/logger.ts";
import { InstantClock } from "../helpers/instant-clock.ts";

type Step = (res: import("node:http").ServerResponse, req: import("node:http").IncomingMessage) => void;

let server: Server | undefined;
async function serve(steps: Step[]): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  server = createServer((req, res) => {
    const step = steps[Math.min(hits, steps.length - 1)]!;
    hits++;
    req.resume();
    req.on("end", () => step(res, req));
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, hits: () => hits };
}
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

const ok: Step = (res) => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
const status = (s: number, headers: Record<string, string> = {}): Step => (res) => res.writeHead(s, headers).end();
const drop: Step = (res) => res.socket?.destroy();

function client(clock = new InstantClock(), extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) {
  return new HttpClient({ clock, logger: new MemoryLogger(), policy: { ...defaultRetryPolicy, maxAttempts: 4 }, ...extra });
}

describe("HttpClient retries", () => {
  it("retries 503 and a dropped connection for an idempotent call, then succeeds", async () => {
    const s = await serve([status(503), drop, ok]);
    const res = await client().request({ method: "GET", url: s.url, retry: "idempotent" });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect(s.hits()).toBe(3);
  });

  it("waits at least Retry-After (seconds and HTTP date) before the next attempt", async () => {
    // Time stands still (on a whole second) so the HTTP date's one-second resolution is exact.
    const clock = new InstantClock({ frozenAt: Date.parse("2026-01-01T00:00:00Z") });
    const date = new Date(clock.now() + 8000).toUTCString();
    const s = await serve([status(429, { "retry-after": "3" }), status(503, { "retry-after": date }), ok]);
    const res = await client(clock).request({ method: "PUT", url: s.url, retry: "idempotent", body: "{}" });
    expect(res.status).toBe(200);
    expect(clock.waits[0]).toBeGreaterThanOrEqual(3000);
    expect(clock.waits[1]).toBeGreaterThanOrEqual(4000); // the date, less the 3 s already skipped
  });

  it("returns what the loop learnt: the attempts, and whether an earlier attempt may have acted", async () => {
    const lost = await serve([drop, status(404)]);
    expect(await client().retrying({ method: "DELETE", url: lost.url, retry: "idempotent" })).toMatchObject({
      response: { status: 404 },
      attempts: 2,
      mayHaveActed: true,
    });
    server?.closeAllConnections();
    server?.close();
    const refused = await serve([status(503), status(429), ok]);
    expect(await client().retrying({ method: "PUT", url: refused.url, retry: "idempotent", body: "{}" })).toMatchObject({
      response: { status: 200 },
      attempts: 3,
      mayHaveActed: false,
    });
    server?.closeAllConnections();
    server?.close();
    const failed = await serve([status(500), ok]);
    expect(await client().retrying({ method: "PUT", url: failed.url, retry: "idempotent", body: "{}" })).toMatchObject({ attempts: 2, mayHaveActed: true });
  });

  it("gives up after max attempts and returns the last answer", async () => {
    const s = await serve([status(502)]);
    const res = await client().request({ method: "GET", url: s.url, retry: "idempotent" });
    expect(res.status).toBe(502);
    expect(s.hits()).toBe(4);
  });

  it("does not repeat a non-idempotent POST after a 503 or a dropped connection", async () => {
    const s = await serve([status(503), ok]);
    const res = await client().request({ method: "POST", url: s.url, retry: "unsent-only", body: "{}" });
    expect(res.status).toBe(503);
    expect(s.hits()).toBe(1);

    const d = await serve([drop, ok]);
    await expect(client().request({ method: "POST", url: d.url, retry: "unsent-only", body: "{}" })).rejects.toBeInstanceOf(TransportError);
    expect(d.hits()).toBe(1);
  });

  it("repeats a non-idempotent POST after a 429 (refused before processing)", async () => {
    const s = await serve([status(429), ok]);
    const res = await client().request({ method: "POST", url: s.url, retry: "unsent-only", body: "{}" });
    expect(res.status).toBe(200);
    expect(s.hits()).toBe(2);
  });

  it("times out a request whose answer never comes, and retries it", async () => {
    const hang: Step = () => {};
    const s = await serve([hang, ok]);
    const res = await client(new InstantClock(), { requestTimeoutMs: 200 }).request({ method: "GET", url: s.url, retry: "idempotent" });
    expect(res.status).toBe(200);
    expect(s.hits()).toBe(2);
  });

  it("aborts in-flight requests at once when the run is cancelled", async () => {
    const hang: Step = () => {};
    const s = await serve([hang]);
    const controller = new AbortController();
    const c = client(new InstantClock(), { signal: controller.signal });
    const p = c.request({ method: "GET", url: s.url, retry: "idempotent" });
    setImmediate(() => controller.abort());
    await expect(p).rejects.toThrow(/cancel|abort/i);
    expect(s.hits()).toBeLessThanOrEqual(1);
  });

  it("aborts only the request whose own signal aborts", async () => {
    const hang: Step = () => {};
    const s = await serve([hang, ok]);
    const c = client();
    const mine = new AbortController();
    const p = c.send({ method: "GET", url: s.url, retry: "none", signal: mine.signal });
    setImmediate(() => mine.abort());
    await expect(p).rejects.toThrow(/cancel|abort/i);
    const other = await c.send({ method: "GET", url: s.url, retry: "none" });
    expect(other.status).toBe(200);
  });

  it("sends the body with a Content-Length, never chunked", async () => {
    let seen: Record<string, unknown> = {};
    const s = await serve([(res, req) => ((seen = req.headers), ok(res, req))]);
    await client().request({ method: "POST", url: s.url, retry: "none", body: Buffer.from("hello") });
    expect(seen["content-length"]).toBe("5");
    expect(seen["transfer-encoding"]).toBeUndefined();
  });
});

describe("HttpClient timeouts", () => {
  it("bounds the whole exchange, connect and TLS included", async () => {
    const net = await import("node:net");
    // A listener that accepts TCP but never completes a TLS handshake (a rebooting host looks like this).
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as AddressInfo).port;
    const c = client(new InstantClock(), { requestTimeoutMs: 60_000 });
    const started = Date.now();
    const err = await c.send({ method: "GET", url: `https://127.0.0.1:${port}/x`, retry: "none", timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).transient).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000); // not the Agent's 10 s connect timeout
    await c.destroy();
    silent.close();
  });
});
