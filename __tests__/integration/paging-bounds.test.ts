import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_EMPTY_PAGES_IN_A_ROW, PagingError } from "../../src/runtime/pager.ts";
import { MemoryLogger } from "../../src/runtime/logger.ts";
import type { Clock } from "../../src/runtime/clock.ts";
import { HttpClient } from "../../src/http/client.ts";
import { defaultRetryPolicy } from "../../src/runtime/retry-policy.ts";
import { StateBackedApi } from "../../src/statebacked/api.ts";
import { resolveVersionRef } from "../../src/statebacked/version-ref.ts";
import { StaticToken } from "../../src/statebacked/token.ts";

/** Issue 9, item 4: a server that pages forever, through the real HTTP stack and a misbehaving fake. */
let server: Server | undefined;
let requests = 0;
/** A fake list endpoint: `page(n)` is the n-th answer (0-based) of any list. */
async function serve(page: (n: number, url: URL) => unknown): Promise<string> {
  requests = 0;
  server = createServer((req, res) => {
    const n = requests++;
    req.resume();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(page(n, new URL(req.url ?? "/", "http://x"))));
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A clock on which each reading is a second later: listing takes time, so progress lines come. */
function tickingClock(): Clock {
  let t = Date.parse("2026-01-01T00:00:00Z");
  return { now: () => (t += 1000), sleep: async () => undefined };
}

function api(url: string, logger = new MemoryLogger(), clock: Clock = tickingClock()) {
  const http = new HttpClient({ clock, logger, policy: defaultRetryPolicy });
  return new StateBackedApi({ http, baseUrl: new URL(url), tokens: new StaticToken("t0k3n"), logger });
}

async function drain(pages: AsyncIterable<unknown[]>): Promise<number> {
  let n = 0;
  for await (const p of pages) n += p.length;
  return n;
}

describe("bounded listing (item 4)", () => {
  it("stops a listing of empty pages that always carry a fresh cursor, saying so", async () => {
    const url = await serve((n) => ({ instances: [], cursor: `c${n}` }));
    const err = await drain(api(url).listInstances("m")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PagingError);
    expect((err as Error).message).toMatch(/^listing instances of 'm'.*: the API answered 6 empty pages in a row, each with a next cursor .*stopping instead of paging forever/);
    expect(requests).toBe(MAX_EMPTY_PAGES_IN_A_ROW + 1);
  });

  it("stops at a cursor handed out before, even with items on every page", async () => {
    const url = await serve((n) => ({ instances: [{ slug: `i${n}`, createdAt: "", status: "", machineVersion: { id: "v", createdAt: "", clientInfo: "" } }], cursor: n < 3 ? `c${n}` : "c1" }));
    const err = await drain(api(url).listInstances("m")).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/handed out a page cursor it had handed out before \(page 4\); stopping instead of listing in a loop/);
    expect(requests).toBe(4);
  });

  it("lets a few empty pages through when items follow (a real sparse listing)", async () => {
    const url = await serve((n) => (n < 8 ? { instances: n % 2 ? [] : [{ slug: `i${n}` }], cursor: `c${n}` } : { instances: [{ slug: "last" }] }));
    expect(await drain(api(url).listInstances("m"))).toBe(5);
  });

  it("says how far a long listing is, every few seconds", async () => {
    const url = await serve((n) => (n < 30 ? { instances: [{ slug: `i${n}` }], cursor: `c${n}` } : { instances: [] }));
    const logger = new MemoryLogger();
    expect(await drain(api(url, logger).listInstances("m"))).toBe(30);
    const lines = logger.lines.filter((l) => l.includes("so far"));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines[0]).toMatch(/^listing instances of 'm'.*: \d+ so far \(\d+ pages, /);
  });

  it("bounds a version lookup by label the same way", async () => {
    const url = await serve((n) => ({ versions: [], cursor: `v${n}` }));
    const err = await resolveVersionRef(api(url), "m", "to-version", { kind: "label", label: "v9" }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/listing versions of 'm'.*empty pages in a row/);
    expect(requests).toBe(MAX_EMPTY_PAGES_IN_A_ROW + 1);
  });
});

describe("a 2xx other than 200 (issue 9, also)", () => {
  it("is reported with its real status when its content is wrong", async () => {
    const url = await serve(() => ({}));
    server!.removeAllListeners("request");
    server!.on("request", (req, res) => {
      req.resume();
      res.writeHead(203, { "content-type": "application/json" }).end("{}");
    });
    const err = await api(url).getCurrentVersion("m").catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/HTTP 203/);
    expect((err as Error).message).not.toMatch(/HTTP 200/);
  });
});
