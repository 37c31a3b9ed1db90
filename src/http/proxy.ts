import { BlockList, isIP } from "node:net";
import { Agent, Dispatcher, ProxyAgent } from "undici";
import { TransportError } from "./retry.ts";

/**
 * Proxy settings from the environment, the way curl and the runner read them:
 * `HTTPS_PROXY`/`https_proxy` for https:// targets, `HTTP_PROXY`/`http_proxy` for http://
 * targets, and `NO_PROXY`/`no_proxy` for the hosts that go direct. Nothing else decides: a
 * loopback address goes through the proxy unless NO_PROXY names it.
 *
 * undici's EnvHttpProxyAgent is close, but it sends https:// through HTTP_PROXY when only that is
 * set, and it cannot tell its caller whether a request went through a proxy (which the error
 * wording needs), so the choice is made here and the connections are undici's ProxyAgent and Agent.
 */
export interface ProxySettings {
  http?: ProxyEndpoint;
  https?: ProxyEndpoint;
  /** The NO_PROXY entries, parsed. */
  noProxy: NoProxyEntry[];
}

export interface ProxyEndpoint {
  /** The URL undici connects with (credentials included). */
  url: URL;
  /** The URL without credentials, for messages: `http://proxy.corp:3128`. */
  shown: string;
  /** The environment variable it came from. */
  variable: string;
  /** Whether the URL carries credentials. */
  hasCredentials: boolean;
}

export interface NoProxyEntry {
  host: string;
  /** 0: any port. */
  port: number;
  /** `*.example.com`: subdomains only, not the apex. */
  subdomainsOnly: boolean;
  /** `10.0.0.0/8`, `fd00::/8`: the addresses of a range (an IP literal in the URL, no name lookup). */
  range?: BlockList;
}

/** A proxy variable that is not a usable URL; the message names the variable, never its value. */
export class ProxyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProxyConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** The first of the variables (lower case first, as curl) that is set to something. */
function pick(env: Env, names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

export function proxySettingsFromEnv(env: Env): ProxySettings {
  const http = pick(env, ["http_proxy", "HTTP_PROXY"]);
  const https = pick(env, ["https_proxy", "HTTPS_PROXY"]);
  const noProxy = pick(env, ["no_proxy", "NO_PROXY"]);
  return {
    ...(http ? { http: parseProxyUrl(http.name, http.value) } : {}),
    ...(https ? { https: parseProxyUrl(https.name, https.value) } : {}),
    noProxy: parseNoProxy(noProxy?.value ?? ""),
  };
}

/** `proxy.corp:3128` means `http://proxy.corp:3128`, as curl reads it. */
export function parseProxyUrl(variable: string, value: string): ProxyEndpoint {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new ProxyConfigError(`${variable} is not a valid proxy URL (expected http://host:port)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ProxyConfigError(`${variable} uses ${url.protocol.slice(0, 40)}//: only http:// and https:// proxies are supported`);
  }
  if (!url.hostname) throw new ProxyConfigError(`${variable} is not a valid proxy URL (no host)`);
  // undici decodes them to build the Proxy-Authorization header, and would throw outside any check.
  for (const part of [url.username, url.password]) {
    try {
      decodeURIComponent(part);
    } catch {
      throw new ProxyConfigError(`${variable} has a user name or password with a '%' that is not a percent-escape (write '%' as %25)`);
    }
  }
  const shown = `${url.protocol}//${url.host}`;
  return { url, shown, variable, hasCredentials: url.username !== "" || url.password !== "" };
}

/**
 * Every form in which a proxy's credentials could appear, to mask in the log: the password as
 * written and decoded, `user:password`, and the Basic token the proxy is sent.
 */
export function proxySecrets(settings: ProxySettings): string[] {
  const out = new Set<string>();
  for (const p of [settings.http, settings.https]) {
    if (!p?.hasCredentials) continue;
    const { username, password } = p.url;
    const user = safeDecode(username);
    const pass = safeDecode(password);
    // A user name alone (`http://TOKEN@proxy`) is the credential: undici sends it as `TOKEN:`.
    const alone = password === "" ? [username, user] : [];
    for (const s of [...alone, password, pass, `${username}:${password}`, `${user}:${pass}`, Buffer.from(`${user}:${pass}`).toString("base64")]) {
      if (s.length >= 3 && s !== ":") out.add(s);
    }
    out.add(p.url.href);
  }
  return [...out];
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Host names, domain suffixes (`example.com`, `.example.com`, `*.example.com`), IPs, CIDR ranges, `*`, `host:port`. */
export function parseNoProxy(value: string): NoProxyEntry[] {
  const entries: NoProxyEntry[] = [];
  for (const raw of value.split(/[,\s]+/)) {
    if (!raw) continue;
    const range = cidrRange(raw);
    if (range) {
      entries.push({ host: raw.toLowerCase(), port: 0, subdomainsOnly: false, range });
      continue;
    }
    let host = raw;
    let port = 0;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(raw);
    const hostPort = /^([^:]+):(\d+)$/.exec(raw);
    if (bracketed) {
      host = bracketed[1]!;
      port = bracketed[2] ? Number(bracketed[2]) : 0;
    } else if (hostPort) {
      host = hostPort[1]!;
      port = Number(hostPort[2]);
    }
    const subdomainsOnly = host.startsWith("*.");
    host = host.replace(/^\*?\./, "").replace(/\.$/, "").toLowerCase();
    if (host) entries.push({ host, port, subdomainsOnly });
  }
  return entries;
}

/** Whether a request to this URL goes direct by NO_PROXY. */
export function bypassesProxy(url: URL, entries: NoProxyEntry[]): boolean {
  if (entries.length === 0) return false;
  const host = url.hostname.replace(/^\[(.+)\]$/, "$1").replace(/(.)\.$/, "$1").toLowerCase();
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
  const family = isIP(host);
  for (const e of entries) {
    if (e.range) {
      if (family !== 0 && e.range.check(host, family === 4 ? "ipv4" : "ipv6")) return true;
      continue;
    }
    if (e.port !== 0 && e.port !== port) continue;
    if (e.host === "*") return true;
    if (!e.subdomainsOnly && host === e.host) return true;
    // A suffix matches on a label boundary only; an IP address is never a suffix.
    if (family === 0 && host.endsWith(`.${e.host}`)) return true;
  }
  return false;
}

/** `10.0.0.0/8` or `fd00::/8` (also `[fd00::]/8`) as a range; undefined for anything else. */
function cidrRange(raw: string): BlockList | undefined {
  const m = /^\[?([0-9a-fA-F:.]+)\]?\/(\d{1,3})$/.exec(raw);
  if (!m) return undefined;
  const family = isIP(m[1]!);
  const prefix = Number(m[2]);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  const range = new BlockList();
  range.addSubnet(m[1]!, prefix, family === 4 ? "ipv4" : "ipv6");
  return range;
}

interface Route {
  agent: ProxyAgent;
  proxy: ProxyEndpoint;
  /** host:port of the target, for messages. */
  host: string;
}

/** Origins whose route is remembered (a run has a few; the bound only keeps memory flat). */
const MAX_ROUTES = 256;

/**
 * The dispatcher of the run: requests that NO_PROXY exempts, or whose scheme has no proxy set,
 * go through `direct`; the others through a ProxyAgent (plain HTTP is forwarded, HTTPS is
 * tunnelled with CONNECT and its TLS check is the target's own, with `ca`).
 */
export class ProxyRouter extends Dispatcher {
  private readonly direct: Agent;
  private readonly viaHttp: ProxyAgent | undefined;
  private readonly viaHttps: ProxyAgent | undefined;
  private readonly settings: ProxySettings;
  private readonly routes = new Map<string, Route | undefined>();

  constructor(settings: ProxySettings, agentOptions: Agent.Options, ca: string | undefined) {
    super();
    this.settings = settings;
    this.direct = new Agent({ ...agentOptions, ...(ca ? { connect: { ca } } : {}) });
    const make = (p: ProxyEndpoint): ProxyAgent => new ProxyAgent({ ...agentOptions, uri: p.url.href, ...(ca ? { requestTls: { ca } } : {}) });
    this.viaHttp = settings.http ? make(settings.http) : undefined;
    this.viaHttps = settings.https ? (settings.https.url.href === settings.http?.url.href ? this.viaHttp : make(settings.https)) : undefined;
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const route = this.routeOf(String(opts.origin));
    return route ? route.agent.dispatch(opts, withProxyErrors(handler, route.proxy, route.host)) : this.direct.dispatch(opts, handler);
  }

  /** The route of an origin (undefined: direct), decided once per origin: a run talks to a handful. */
  private routeOf(origin: string): Route | undefined {
    if (this.routes.has(origin)) return this.routes.get(origin);
    const target = new URL(origin);
    const https = target.protocol === "https:";
    const proxy = https ? this.settings.https : this.settings.http;
    const agent = https ? this.viaHttps : this.viaHttp;
    const route = !proxy || !agent || bypassesProxy(target, this.settings.noProxy) ? undefined : { agent, proxy, host: target.host };
    if (this.routes.size >= MAX_ROUTES) this.routes.clear();
    this.routes.set(origin, route);
    return route;
  }

  override async close(): Promise<void> {
    await Promise.all(this.agents().map((a) => a.close()));
  }

  override async destroy(): Promise<void> {
    await Promise.all(this.agents().map((a) => a.destroy()));
  }

  private agents(): Dispatcher[] {
    return [...new Set<Dispatcher | undefined>([this.direct, this.viaHttp, this.viaHttps])].filter((a): a is Dispatcher => a !== undefined);
  }
}

/** The handler, with the proxy's own failures turned into one clear ProxyError. */
function withProxyErrors(handler: Dispatcher.DispatchHandler, proxy: ProxyEndpoint, target: string): Dispatcher.DispatchHandler {
  // A new object: undici's forwarding wrapper patches the handler it is given.
  return {
    onRequestStart: (c, ctx) => handler.onRequestStart?.(c, ctx),
    onRequestUpgrade: (c, status, headers, socket) => handler.onRequestUpgrade?.(c, status, headers, socket),
    onResponseStart: (c, status, headers, message) => handler.onResponseStart?.(c, status, headers, message),
    onResponseData: (c, chunk) => handler.onResponseData?.(c, chunk),
    onResponseEnd: (c, trailers) => handler.onResponseEnd?.(c, trailers),
    onResponseError: (c, err) => handler.onResponseError?.(c, proxyFailure(err, proxy, target) ?? err),
  };
}

/** A failure of the proxy itself, with the proxy (no credentials) and the host it was asked for. */
export class ProxyError extends TransportError {
  constructor(message: string, code: string, unsent: boolean, transient: boolean, cause: unknown) {
    super(message, code, unsent, transient, { cause });
    this.name = "ProxyError";
  }
}

/** Codes of a failure to reach the proxy: the only host this request dials. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: "refused the connection",
  ENOTFOUND: "was not found (DNS)",
  EAI_AGAIN: "could not be resolved (DNS, temporary)",
  EHOSTUNREACH: "is unreachable",
  ENETUNREACH: "is unreachable",
  UND_ERR_CONNECT_TIMEOUT: "did not accept the connection in time",
};
const UNREACHABLE_TRANSIENT = new Set(["ECONNREFUSED", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/** Maps what undici reports about the proxy to a ProxyError; anything else (e.g. the target's TLS check) stays as it is. */
export function proxyFailure(err: Error, proxy: ProxyEndpoint, target: string): ProxyError | undefined {
  const e = err as Error & { code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? "";
  const via = `proxy ${proxy.shown} (${proxy.variable})`;
  const status = /Proxy response \((\d{3})\) !== 200/.exec(e.message)?.[1] ?? (/Proxy Authentication Required \(407\)/.test(e.message) ? "407" : undefined);
  if (status === "407") {
    const why = proxy.hasCredentials ? "refused the credentials in its URL" : "requires authentication: put user:password in the proxy URL";
    return new ProxyError(`${via} ${why} (HTTP 407) for ${target}`, "PROXY_AUTH_REQUIRED", true, false, err);
  }
  if (status !== undefined) {
    // The tunnel never opened, so nothing reached the target; 502/503/504 may pass.
    const transient = status === "502" || status === "503" || status === "504";
    return new ProxyError(`${via} refused to open a tunnel to ${target} (HTTP ${status})`, `PROXY_CONNECT_${status}`, true, transient, err);
  }
  if (code in UNREACHABLE) {
    return new ProxyError(`${via} ${UNREACHABLE[code]}, so ${target} could not be reached`, code, true, UNREACHABLE_TRANSIENT.has(code), err);
  }
  if (code === "UND_ERR_PRX_CONN") {
    return new ProxyError(`${via} closed the connection while opening a tunnel to ${target}`, code, true, true, err);
  }
  if (code === "UND_ERR_PRX_TLS") {
    return new ProxyError(`${via} failed its own TLS check (certificate name) for ${target}`, code, true, false, err);
  }
  return undefined;
}
