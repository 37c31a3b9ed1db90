import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A misbehaving server on purpose: a reverse proxy on loopback in front of a fake (State Backed or
 * Controller) that passes requests through, except those matching a rule, which it answers itself
 * with an error body built from the request, e.g. one that echoes the bearer token or the
 * password it was sent, as careless servers do.
 */
export interface SeenRequest {
  method: string;
  path: string;
  /** The bearer token sent, if any. */
  bearer: string | undefined;
  body: string;
}

export interface EchoRule {
  method?: string;
  path?: RegExp;
  /** How many matching requests it answers (default: all). */
  times?: number;
  status: number;
  body: (req: SeenRequest) => unknown;
}

export interface EchoProxy {
  url: string;
  rules: EchoRule[];
  /** Every request seen (bodies of requests under 64 KiB). */
  seen: SeenRequest[];
  /** Every bearer token seen, each once. */
  bearers(): string[];
  close(): Promise<void>;
}

export async function startEchoProxy(target: string): Promise<EchoProxy> {
  const to = new URL(target);
  const rules: EchoRule[] = [];
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    void readAll(req).then((body) => {
      const auth = req.headers.authorization;
      const s: SeenRequest = {
        method: req.method ?? "",
        path: req.url ?? "/",
        bearer: auth?.startsWith("Bearer ") ? auth.slice("Bearer ".length) : undefined,
        body: body.length < 65_536 ? body.toString("utf8") : "",
      };
      seen.push(s);
      const pathOnly = s.path.split("?")[0]!;
      const rule = rules.find((r) => (r.method === undefined || r.method === s.method) && (r.path === undefined || r.path.test(pathOnly)) && (r.times ?? 1) > 0);
      if (rule) {
        if (rule.times !== undefined) rule.times--;
        const text = JSON.stringify(rule.body(s));
        res.writeHead(rule.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
        return;
      }
      const headers = { ...req.headers, host: to.host };
      const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      up.on("error", () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rules,
    seen,
    bearers: () => [...new Set(seen.map((s) => s.bearer).filter((b): b is string => b !== undefined))],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
