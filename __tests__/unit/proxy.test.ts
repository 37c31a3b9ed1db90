import { describe, expect, it } from "vitest";
import { bypassesProxy, parseNoProxy, proxyFailure, proxySecrets, proxySettingsFromEnv, ProxyConfigError } from "../../src/http/proxy.ts";

const bypass = (url: string, noProxy: string) => bypassesProxy(new URL(url), parseNoProxy(noProxy));

describe("NO_PROXY", () => {
  it("matches host names, domain suffixes on a label boundary, and subdomain-only wildcards", () => {
    expect(bypass("https://api.statebacked.dev/x", "statebacked.dev")).toBe(true);
    expect(bypass("https://statebacked.dev/x", ".statebacked.dev")).toBe(true);
    expect(bypass("https://api.statebacked.dev/x", ".statebacked.dev")).toBe(true);
    expect(bypass("https://notstatebacked.dev/x", "statebacked.dev")).toBe(false);
    expect(bypass("https://api.statebacked.dev/x", "*.statebacked.dev")).toBe(true);
    expect(bypass("https://statebacked.dev/x", "*.statebacked.dev")).toBe(false);
    expect(bypass("https://API.StateBacked.dev./x", "statebacked.DEV")).toBe(true);
  });

  it("matches IP addresses exactly (loopback included only when named), IPv6 in brackets or not", () => {
    expect(bypass("http://127.0.0.1:8080/", "")).toBe(false);
    expect(bypass("http://localhost:8080/", "example.com")).toBe(false);
    expect(bypass("http://127.0.0.1:8080/", "127.0.0.1")).toBe(true);
    expect(bypass("http://10.0.0.1/", "0.0.1")).toBe(false);
    expect(bypass("http://[::1]:8080/", "::1")).toBe(true);
    expect(bypass("http://[::1]:8080/", "[::1]:8080")).toBe(true);
    expect(bypass("http://[::1]:8081/", "[::1]:8080")).toBe(false);
  });

  it("matches CIDR ranges against IP addresses in the URL (IPv4 and IPv6), never against names", () => {
    expect(bypass("https://10.1.2.3/x", "10.0.0.0/8")).toBe(true);
    expect(bypass("https://11.1.2.3/x", "10.0.0.0/8")).toBe(false);
    expect(bypass("https://192.168.7.200:8443/x", "example.com, 192.168.7.0/24")).toBe(true);
    expect(bypass("https://192.168.8.1/x", "192.168.7.0/24")).toBe(false);
    expect(bypass("https://[fd00::1]/x", "fd00::/8")).toBe(true);
    expect(bypass("https://[fe80::1]/x", "[fd00::]/8")).toBe(false);
    expect(bypass("https://127.0.0.1/x", "127.0.0.0/8")).toBe(true);
    expect(bypass("https://0.0.0.0/x", "0.0.0.0/0")).toBe(true);
    // A name is not looked up: a range never matches it.
    expect(bypass("https://localhost/x", "127.0.0.0/8")).toBe(false);
    // Not a range: an IPv4 prefix over 32, or a name with a slash, matches nothing.
    expect(bypass("https://10.1.2.3/x", "10.0.0.0/33")).toBe(false);
    expect(bypass("https://10.1.2.3/x", "corp/8")).toBe(false);
  });

  it("matches ports (explicit or the scheme's default) and `*`", () => {
    expect(bypass("http://127.0.0.1:8080/", "127.0.0.1:8080")).toBe(true);
    expect(bypass("http://127.0.0.1:8081/", "127.0.0.1:8080")).toBe(false);
    expect(bypass("https://controller.corp/", "controller.corp:443")).toBe(true);
    expect(bypass("http://controller.corp/", "controller.corp:443")).toBe(false);
    expect(bypass("https://anything.example/", "*")).toBe(true);
    expect(bypass("https://anything.example/", "a.example, *")).toBe(true);
    expect(bypass("https://anything.example/", " , ")).toBe(false);
  });
});

describe("proxy variables", () => {
  it("take https_proxy/HTTPS_PROXY for https and http_proxy/HTTP_PROXY for http, lower case first, empty meaning unset", () => {
    const s = proxySettingsFromEnv({ HTTPS_PROXY: "http://upper:1", https_proxy: "http://lower:2", HTTP_PROXY: "proxy.corp:3128", no_proxy: "", NO_PROXY: "a.b" });
    expect(s.https?.shown).toBe("http://lower:2");
    expect(s.https?.variable).toBe("https_proxy");
    expect(s.http?.shown).toBe("http://proxy.corp:3128");
    expect(s.noProxy).toEqual([{ host: "a.b", port: 0, subdomainsOnly: false }]);
    expect(proxySettingsFromEnv({ http_proxy: " ", HTTP_PROXY: "http://p:1" }).http?.variable).toBe("HTTP_PROXY");
    expect(proxySettingsFromEnv({})).toEqual({ noProxy: [] });
  });

  it("refuse an unusable URL, naming the variable and never the value", () => {
    expect(() => proxySettingsFromEnv({ HTTPS_PROXY: "socks5://u:hunter22@p:1080" })).toThrow(ProxyConfigError);
    expect(() => proxySettingsFromEnv({ HTTPS_PROXY: "socks5://u:hunter22@p:1080" })).toThrow(/^HTTPS_PROXY uses socks5:\/\/: only http/);
    const err = (() => {
      try {
        proxySettingsFromEnv({ http_proxy: "http://u:hunter22@[bad" });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(/^http_proxy is not a valid proxy URL/);
    expect(err?.message).not.toContain("hunter22");
  });

  it("refuse credentials with a '%' that is not a percent-escape (undici would throw while building the header)", () => {
    for (const value of ["http://u:hunter%ZZ22@p:3128", "http://u%4:hunter22@p:3128"]) {
      const err = (() => {
        try {
          proxySettingsFromEnv({ HTTPS_PROXY: value });
        } catch (e) {
          return e as Error;
        }
      })();
      expect(err).toBeInstanceOf(ProxyConfigError);
      expect(err?.message).toMatch(/^HTTPS_PROXY has a user name or password with a '%' that is not a percent-escape/);
      expect(err?.message).not.toContain("hunter");
    }
    expect(proxySettingsFromEnv({ HTTPS_PROXY: "http://u:hunter%2522@p:3128" }).https?.hasCredentials).toBe(true);
  });

  it("show the proxy without credentials, and list every form of them to mask", () => {
    const s = proxySettingsFromEnv({ HTTPS_PROXY: "http://ci%40corp:p%40ss%3Aword@proxy.corp:8080" });
    expect(s.https?.shown).toBe("http://proxy.corp:8080");
    const secrets = proxySecrets(s);
    expect(secrets).toEqual(expect.arrayContaining(["p%40ss%3Aword", "p@ss:word", "ci@corp:p@ss:word", Buffer.from("ci@corp:p@ss:word").toString("base64")]));
    expect(proxySecrets(proxySettingsFromEnv({ HTTPS_PROXY: "http://proxy.corp:8080" }))).toEqual([]);
  });

  it("mask a user name given alone (a token as the user name), as written and decoded", () => {
    const secrets = proxySecrets(proxySettingsFromEnv({ HTTPS_PROXY: "http://tok%2Den-12345@proxy.corp:8080" }));
    expect(secrets).toEqual(expect.arrayContaining(["tok%2Den-12345", "tok-en-12345", Buffer.from("tok-en-12345:").toString("base64")]));
  });
});

describe("proxy failures", () => {
  const proxy = proxySettingsFromEnv({ HTTPS_PROXY: "http://u:pw-secret@proxy.corp:3128" }).https!;
  const err = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

  it("407 is final, other refused tunnels are retried only for 502/503/504, unreachable proxies like refused connections", () => {
    const auth = proxyFailure(err("Proxy response (407) !== 200 when HTTP Tunneling", "UND_ERR_ABORTED"), proxy, "ctrl.corp:443")!;
    expect(auth.message).toBe("proxy http://proxy.corp:3128 (HTTPS_PROXY) refused the credentials in its URL (HTTP 407) for ctrl.corp:443");
    expect([auth.transient, auth.unsent, auth.code]).toEqual([false, true, "PROXY_AUTH_REQUIRED"]);
    expect(proxyFailure(err("Proxy response (403) !== 200 when HTTP Tunneling"), proxy, "x:443")!.transient).toBe(false);
    expect(proxyFailure(err("Proxy response (503) !== 200 when HTTP Tunneling"), proxy, "x:443")!.transient).toBe(true);
    const refused = proxyFailure(err("connect ECONNREFUSED 10.0.0.1:3128", "ECONNREFUSED"), proxy, "x:443")!;
    expect([refused.transient, refused.unsent]).toEqual([true, true]);
    expect(proxyFailure(err("getaddrinfo ENOTFOUND proxy.corp", "ENOTFOUND"), proxy, "x:443")!.transient).toBe(false);
  });

  it("leaves the target's own failures (its TLS check, a dropped answer) as they are", () => {
    expect(proxyFailure(err("self-signed certificate", "DEPTH_ZERO_SELF_SIGNED_CERT"), proxy, "x:443")).toBeUndefined();
    expect(proxyFailure(err("other side closed", "UND_ERR_SOCKET"), proxy, "x:443")).toBeUndefined();
  });
});
