import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createProxy } from "proxy";

/**
 * A real forward proxy on loopback (the `proxy` package: plain HTTP forwarding and CONNECT
 * tunnels), recording what it was asked for, to prove that requests went through it.
 */
export interface ForwardProxy {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Every request it received: `GET http://127.0.0.1:1234/path` (forwarded) or `CONNECT 127.0.0.1:5678`. */
  seen: string[];
  /** Host:port of every target it was asked for, forwarded or tunnelled. */
  targets(): Set<string>;
  close(): Promise<void>;
}

export interface ForwardProxyOptions {
  /** When set, only `Proxy-Authorization: Basic base64(user:password)` with these is let through (else 407). */
  credentials?: { user: string; password: string };
}

export async function startForwardProxy(opts: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const server: Server = createServer();
  const seen: string[] = [];
  const record = (req: IncomingMessage): void => void seen.push(`${req.method} ${req.url}`);
  // Registered before the proxy's own listeners, so every request is seen, refused ones too.
  server.on("request", record);
  server.on("connect", record);
  const proxy = createProxy(server);
  if (opts.credentials) {
    const expected = `Basic ${Buffer.from(`${opts.credentials.user}:${opts.credentials.password}`).toString("base64")}`;
    proxy.authenticate = (req) => req.headers["proxy-authorization"] === expected;
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    targets: () => new Set(seen.map((s) => { const t = s.split(" ")[1]!; return t.includes("://") ? new URL(t).host : t; })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port that nothing listens on (for a proxy that refuses connections). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
