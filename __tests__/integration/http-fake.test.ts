import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type ExchangeRecord, type FaultRule, HttpFake } from "../fakes/http-fake.ts";

/** One raw request: the status and body, or "dropped" when the connection closed without an answer. */
function call(url: string, method: string, body?: string, path = "/x"): Promise<{ status: number; body: string; type: string | undefined } | "dropped"> {
  return new Promise((resolve) => {
    const req = request(`${url}${path}`, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), type: res.headers["content-type"] }));
    });
    req.on("error", () => resolve("dropped"));
    req.end(body);
  });
}

describe("the shared HTTP fake base", () => {
  let fake: HttpFake | undefined;
  afterEach(async () => fake?.close());

  const start = async (faults: FaultRule[] = [], maxBodyBytes?: number): Promise<{ log: ExchangeRecord[]; handled: string[] }> => {
    const log: ExchangeRecord[] = [];
    const handled: string[] = [];
    fake = await new HttpFake({
      faults,
      ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
      record: (r) => log.push(r),
      handle: (ex) => {
        handled.push(`${ex.method} ${ex.path} ${ex.body.toString("utf8")}`);
        if (ex.path === "/hold") return ex.hold();
        ex.send(200, { echo: ex.body.toString("utf8") });
      },
    }).start();
    return { log, handled };
  };

  it("listens on loopback, answers JSON with a length, and logs method, path, query, status and body", async () => {
    const { log } = await start();
    expect(fake!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await call(fake!.url, "POST", "hi", "/x?a=1")).toEqual({ status: 200, body: '{"echo":"hi"}', type: "application/json" });
    expect(log.map((r) => [r.method, r.path, r.query, r.status, r.body.toString("utf8")])).toEqual([["POST", "/x", "?a=1", 200, "hi"]]);
  });

  it("refuses a body over the bound with 413 before the handler sees it", async () => {
    const { handled, log } = await start([], 10);
    expect(await call(fake!.url, "POST", "x".repeat(11))).toMatchObject({ status: 413 });
    expect(handled).toEqual([]);
    expect(log[0]!.body.length).toBe(0);
  });

  it("applies faults in order: an injected status, a drop before any work, a lost answer after the work", async () => {
    const { handled, log } = await start([
      { method: "GET", action: { status: 503, retryAfter: "2" } },
      { path: /^\/x$/, action: { drop: true } },
      { action: { dropAfterProcessing: true } },
    ]);
    expect(await call(fake!.url, "GET", "")).toMatchObject({ status: 503, body: '{"error":"injected 503"}' });
    expect(await call(fake!.url, "GET", "")).toBe("dropped");
    expect(await call(fake!.url, "PUT", "b")).toBe("dropped");
    expect(await call(fake!.url, "GET", "")).toMatchObject({ status: 200 });
    // The lost answer was worked out (handled, its status recorded); the drop never reached the handler.
    expect(handled).toEqual(["PUT /x b", "GET /x "]);
    expect(log.map((r) => r.status)).toEqual([503, 0, 200, 200]);
  });

  it("holds a request until the client gives up, and counts it while held", async () => {
    await start();
    let seenHeld = 0;
    const answer = new Promise((resolve) => {
      const req = request(`${fake!.url}/hold`, { method: "GET", agent: false });
      req.on("error", () => resolve("dropped"));
      req.on("socket", () => {
        const poll = (): void => {
          if (fake!.held === 1) {
            seenHeld = 1;
            req.destroy();
          } else setImmediate(poll);
        };
        poll();
      });
      req.end();
    });
    expect(await answer).toBe("dropped");
    expect(seenHeld).toBe(1);
    await new Promise<void>((resolve) => {
      const wait = (): void => (fake!.held === 0 ? resolve() : void setImmediate(wait));
      wait();
    });
    expect(fake!.inFlight).toBe(0);
  });
});
