import { describe, expect, it } from "vitest";
import { deriveDeviceId, parseAppgateConfig, parseApplianceList } from "../../src/config/appgate.ts";
import { InputError, Inputs } from "../../src/config/inputs.ts";

const PEM = `-----BEGIN CERTIFICATE-----
MIIBeTCCAR+gAwIBAgIUMQGl4cRaXImMetOJBQNl3WCjpsAwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHdGVzdC1jYTAeFw0yNjExMjIxODQ3MTJaFw0zNjExMTkxODQ3
MTJaMBIxEDAOBgNVBAMMB3Rlc3QtY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AATnJ/Xss1jRh4CjcWY08QTfczJMhtU4d9tWeC6XLx2uZJ/pQvCEJg8OuoNMR6Tm
qFImyQ8h+jKg1iVQ8zxS4kBAo1MwUTAdBgNVHQ4EFgQU3Tmm65YRSMcz463BPSeX
c5gWoVQwHwYDVR0jBBgwFoAU3Tmm65YRSMcz463BPSeXc5gWoVQwDwYDVR0TAQH/
BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiA2As2rcPFIllJRIqgfDTS1wpaRnpe0
23PlY6JJ20ysQAIhAJ8BT3iGrdTBqQfTnV6XHP4S2sH9jC/33ZAip2DmFf/h
-----END CERTIFICATE-----
`;

const BASE = { "controller-url": "https://ctrl.example.com:8443", username: "api", password: "pw with spaces " };

function parse(inputs: Record<string, string>, dryRun = false) {
  return parseAppgateConfig(new Inputs((n) => inputs[n] ?? ""), { dryRun, repository: "acme/network" });
}

function inputError(inputs: Record<string, string>): InputError {
  try {
    parse(inputs);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error("no error");
}

describe("parseAppgateConfig", () => {
  it("fills the defaults", () => {
    const c = parse(BASE, true);
    expect(c).toMatchObject({
      operation: "complete-appliance-upgrade",
      dryRun: true,
      maxUnavailable: 1,
      applianceTimeoutMs: 30 * 60_000,
      secrets: ["pw with spaces "],
      auth: { kind: "password", username: "api", password: "pw with spaces ", providerName: "local" },
    });
    expect(c.controllerUrl.href).toBe("https://ctrl.example.com:8443/");
    expect(c.apiBaseUrl.href).toBe("https://ctrl.example.com:8443/admin");
    expect(c.apiVersion).toBeUndefined();
    expect(c.appliances).toBeUndefined();
    expect(c.caCertificate).toBeUndefined();
    if (c.auth.kind !== "password") throw new Error("password auth expected");
    expect(c.auth.deviceId).toBe(deriveDeviceId("acme/network", new URL("https://ctrl.example.com:8443")));
  });

  it("reads every input", () => {
    const c = parse({
      ...BASE,
      "controller-url": "https://ctrl.example.com:8443/admin/",
      "provider-name": "ldap",
      "device-id": "4C07BC67-57EA-42DD-B702-C2D6C45419FC",
      "api-version": "22",
      "ca-certificate": PEM,
      appliances: "gw-1, gw-2\ngw-3\n\n",
      "max-unavailable": "3",
      "appliance-timeout-minutes": "45",
    });
    expect(c).toMatchObject({
      apiVersion: 22,
      appliances: ["gw-1", "gw-2", "gw-3"],
      maxUnavailable: 3,
      applianceTimeoutMs: 45 * 60_000,
      caCertificate: PEM,
      auth: { providerName: "ldap", deviceId: "4c07bc67-57ea-42dd-b702-c2d6c45419fc" },
    });
    expect(c.apiBaseUrl.href).toBe("https://ctrl.example.com:8443/admin");
  });

  it("takes a token instead of username and password, and masks it", () => {
    const c = parse({ "controller-url": "https://ctrl.example.com", token: "tok-123" });
    expect(c.auth).toEqual({ kind: "token", token: "tok-123" });
    expect(c.secrets).toEqual(["tok-123"]);
  });

  it("allows plain http only for loopback hosts", () => {
    expect(parse({ ...BASE, "controller-url": "http://127.0.0.1:9999" }).apiBaseUrl.href).toBe("http://127.0.0.1:9999/admin");
    expect(inputError({ ...BASE, "controller-url": "http://ctrl.example.com:8443" }).input).toBe("controller-url");
  });

  it.each([
    ["no controller-url", { username: "a", password: "b" }, "controller-url", /is required/],
    ["not a URL", { ...BASE, "controller-url": "ctrl:8443" }, "controller-url", /https/],
    ["a path", { ...BASE, "controller-url": "https://ctrl.example.com:8443/api" }, "controller-url", /without a path/],
    ["neither auth way", { "controller-url": "https://c.example.com" }, "username", /is required: set 'username' and 'password' \(an admin API user\), or 'token'/],
    ["both auth ways", { ...BASE, token: "t" }, "username", /either 'token' or 'username'/],
    ["token with password", { "controller-url": "https://c.example.com", token: "t", password: "p" }, "password", /not both/],
    ["username without password", { "controller-url": "https://c.example.com", username: "a" }, "password", /is required with 'username'/],
    ["password without username", { "controller-url": "https://c.example.com", password: "p" }, "username", /is required with 'password'/],
    ["provider-name with token", { "controller-url": "https://c.example.com", token: "t", "provider-name": "ldap" }, "provider-name", /username\/password/],
    ["non-UUID device-id", { ...BASE, "device-id": "my-laptop" }, "device-id", /must be a UUID/],
    ["api-version not a number", { ...BASE, "api-version": "latest" }, "api-version", /whole number/],
    ["api-version too small", { ...BASE, "api-version": "3" }, "api-version", /whole number/],
    ["max-unavailable 0", { ...BASE, "max-unavailable": "0" }, "max-unavailable", /from 1/],
    ["max-unavailable not a number", { ...BASE, "max-unavailable": "two" }, "max-unavailable", /whole number/],
    ["timeout 0", { ...BASE, "appliance-timeout-minutes": "0" }, "appliance-timeout-minutes", /from 1/],
    ["no PEM block", { ...BASE, "ca-certificate": "MIIB..." }, "ca-certificate", /PEM certificates/],
    ["a broken PEM", { ...BASE, "ca-certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----" }, "ca-certificate", /certificate 1 cannot be read/],
    ["an empty list", { ...BASE, appliances: " ,\n, " }, "appliances", /lists no appliance/],
  ])("rejects %s, naming the input", (_, inputs, input, message) => {
    const e = inputError(inputs as Record<string, string>);
    expect(e.input).toBe(input);
    expect(e.message).toMatch(message);
  });

  it("never puts the password in an error message", () => {
    const e = inputError({ ...BASE, "device-id": "x", password: "hunter2-secret" });
    expect(e.message).not.toContain("hunter2-secret");
  });
});

describe("deriveDeviceId", () => {
  it("is a stable v5-style UUID per repository and controller", () => {
    const a = deriveDeviceId("acme/network", new URL("https://ctrl.example.com:8443"));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deriveDeviceId("acme/network", new URL("https://ctrl.example.com:8443/admin"))).toBe(a);
    expect(deriveDeviceId("acme/other", new URL("https://ctrl.example.com:8443"))).not.toBe(a);
    expect(deriveDeviceId("acme/network", new URL("https://ctrl2.example.com:8443"))).not.toBe(a);
  });
});

describe("parseApplianceList", () => {
  it("splits on commas and new lines, trims, drops blanks and duplicates", () => {
    expect(parseApplianceList("a, b\n\nc,a\r\n d ")).toEqual(["a", "b", "c", "d"]);
  });
});

describe("parseAppgateConfig: backup, prepare and cancel (issue 12)", () => {
  const op = (operation: "prepare-appliance-upgrade" | "cancel-appliance-upgrade", inputs: Record<string, string>) =>
    parseAppgateConfig(new Inputs((n) => inputs[n] ?? ""), { dryRun: false, repository: "acme/network", operation });
  const errorOf = (fn: () => unknown): InputError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return e as InputError;
    }
    throw new Error("no error");
  };

  it("backs up by default; backup-path needs backup", () => {
    expect(parse(BASE)).toMatchObject({ backup: true });
    expect(parse({ ...BASE, backup: "false" })).toMatchObject({ backup: false });
    expect(parse({ ...BASE, "backup-path": "/tmp/b.bkp" })).toMatchObject({ backup: true, backupPath: "/tmp/b.bkp" });
    expect(inputError({ ...BASE, backup: "false", "backup-path": "/tmp/b.bkp" }).message).toMatch(/backup-path.*'backup' is false/);
  });

  it("prepare: an https:// URL or a local path whose file name carries the version; concurrency 5 by default", () => {
    expect(op("prepare-appliance-upgrade", { ...BASE, "image-url": "https://dl.example.com/appgate-6.5.0-32000-release.img.zip" })).toMatchObject({
      image: { kind: "url", fileName: "appgate-6.5.0-32000-release.img.zip" },
      prepareConcurrency: 5,
      applianceTimeoutMs: 30 * 60_000,
    });
    expect(op("prepare-appliance-upgrade", { ...BASE, "image-url": "images/appgate-6.5.0-32000-release.img.zip" })).toMatchObject({
      image: { kind: "file", path: "images/appgate-6.5.0-32000-release.img.zip" },
    });
    expect(errorOf(() => op("prepare-appliance-upgrade", { ...BASE, "image-url": "http://dl.example.com/appgate-6.5.0-32000-release.img.zip" })).message).toMatch(
      /image-url.*must be an https:\/\/ URL/,
    );
    expect(errorOf(() => op("prepare-appliance-upgrade", { ...BASE, "image-url": "https://dl.example.com/latest.img.zip" })).message).toMatch(/file name must carry the version/);
    expect(errorOf(() => op("prepare-appliance-upgrade", BASE)).message).toMatch(/image-url.*is required/);
  });

  it("cancel: delete-upgrade-files false by default", () => {
    expect(op("cancel-appliance-upgrade", BASE)).toMatchObject({ operation: "cancel-appliance-upgrade", deleteUpgradeFiles: false });
  });
});
