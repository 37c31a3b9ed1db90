import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HttpClient, type HttpClientOptions } from "../../src/http/client.ts";
import { RequestBoundError, TransportError } from "../../src/http/retry.ts";
import { MemoryLogger } from "../../src/runtime/logger.ts";
import { defaultRetryPolicy } from "../../src/runtime/retry-policy.ts";
import { InstantClock } from "../helpers/instant-clock.ts";

/** Issue 9, items 8 and 9 and the step in transport errors: what a hostile server cannot do to one request. */
let server: Server | undefined;
let hits = 0;
async function serve(handler: (res: ServerResponse) => void): Promise<string> {
  hits = 0;
  server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on("end", () => handler(res));
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
}
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

function client(clock = new InstantClock(), extra: Partial<HttpClientOptions> = {}) {
  return new HttpClient({ clock, logger: new MemoryLogger(), policy: { ...defaultRetryPolicy, maxAttempts: 4 }, ...extra });
}

/** Writes `total` bytes in 64 KiB chunks without a Content-Length (chunked), as long as the client reads. */
function stream(res: ServerResponse, status: number, total: number): void {
  res.writeHead(status, { "content-type": "application/json" });
  const chunk = Buffer.alloc(64 * 1024, "x");
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
    res.end();
  };
  res.on("error", () => undefined);
  pump();
}

describe("answers too large to read (item 8)", () => {
  it("refuses a 2xx body past the cap while it streams in, with a clear error and no retry", async () => {
    const url = await serve((res) => stream(res, 200, 8 * 1024 * 1024));
    const err = await client(new InstantClock(), { maxResponseBytes: 1024 * 1024 }).request({ method: "GET", url, retry: "idempotent", step: "listing instances of 'm'" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe("RESPONSE_TOO_LARGE");
    expect((err as Error).message).toMatch(/^listing instances of 'm': answer too large: HTTP 200 with more bytes than the 1 MiB accepted for an answer; refused/);
    expect(hits).toBe(1);
  });

  it("refuses at once a body whose Content-Length is past the cap", async () => {
    const url = await serve((res) => {
      res.writeHead(200, { "content-length": String(100 * 1024 * 1024) });
      res.write("{");
    });
    const err = await client().send({ method: "GET", url, retry: "none" }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/HTTP 200 with 104857600 bytes \(its Content-Length\) than the 16 MiB accepted/);
  });

  it("keeps error bodies small: a 500 with a large body is refused at the small cap", async () => {
    const url = await serve((res) => stream(res, 500, 1024 * 1024));
    const err = await client().send({ method: "PUT", url, retry: "none", body: "{}" }).catch((e: unknown) => e);
    expect((err as TransportError).code).toBe("RESPONSE_TOO_LARGE");
    expect((err as Error).message).toMatch(/HTTP 500 with more bytes than the 64 KiB accepted for an error answer/);
  });

  it("reads an answer just under the cap whole", async () => {
    const url = await serve((res) => res.writeHead(200).end(Buffer.alloc(1024 * 1024 - 1, "y")));
    const res = await client(new InstantClock(), { maxResponseBytes: 1024 * 1024 }).send({ method: "GET", url, retry: "none" });
    expect(res.body.length).toBe(1024 * 1024 - 1);
  });
});

describe("a server that dictates long waits (item 9)", () => {
  it("ends a request at once when its Retry-After would pass max-attempts x request-timeout, quoting it", async () => {
    const url = await serve((res) => res.writeHead(429, { "retry-after": "120" }).end());
    const clock = new InstantClock();
    const err = await client(clock, { requestTimeoutMs: 10_000 }).request({ method: "GET", url, retry: "idempotent", step: "reading machine 'm'" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestBoundError);
    expect((err as Error).message).toBe(
      "reading machine 'm': HTTP 429 with Retry-After: 120 (2 min 00 s); waiting that long would pass this request's bound of 40.0 s (max-attempts x request-timeout-seconds), so it ends here; try again later",
    );
    expect(clock.waits).toEqual([]);
    expect(hits).toBe(1);
  });

  it("keeps attempts and waits together within the bound", async () => {
    const url = await serve((res) => res.writeHead(503, { "retry-after": "15" }).end());
    const clock = new InstantClock();
    const t0 = clock.now();
    const err = await client(clock, { requestTimeoutMs: 10_000 }).request({ method: "GET", url, retry: "idempotent" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestBoundError);
    // 15 s waits while they fit in 40 s with time for an attempt after them; then the request ends.
    expect(clock.waits).toEqual([15_000, 15_000]);
    expect(hits).toBe(3);
    expect(clock.now() - t0).toBeLessThanOrEqual(40_000);
  });

  it("names the step in a network failure of the retry loop", async () => {
    const url = await serve((res) => res.socket?.destroy());
    const err = await client().request({ method: "GET", url, retry: "idempotent", step: "listing instances of 'm'" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toMatch(/^listing instances of 'm': connection dropped/);
  });
});
