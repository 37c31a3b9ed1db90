import { afterEach, describe, expect, it } from "vitest";
import { buildConfig } from "../../src/config/config.ts";
import { InputError } from "../../src/config/inputs.ts";
import { neutralizeCommands, quoteUntrusted } from "../../src/runtime/escape.ts";
import { guardedLogger, MemoryLogger } from "../../src/runtime/logger.ts";
import { runSecrets, SecretRegistry } from "../../src/runtime/secrets.ts";

describe("SecretRegistry", () => {
  it("hides a secret as is, inside a JSON string, URL-encoded and in a Markdown cell", () => {
    const r = new SecretRegistry();
    r.add('pa"ss|w\\o<rd/+');
    expect(r.redact('x pa"ss|w\\o<rd/+ y')).toBe("x *** y");
    expect(r.redact(JSON.stringify({ e: 'pa"ss|w\\o<rd/+' }))).toBe('{"e":"***"}');
    expect(r.redact(`u=${encodeURIComponent('pa"ss|w\\o<rd/+')}`)).toBe("u=***");
    expect(r.redact("| pa\"ss\\|w\\\\o&lt;rd/+ |")).toBe("| *** |");
  });

  it("hides a long secret cut short by a message cap (16 characters or more of its start)", () => {
    const r = new SecretRegistry();
    const token = `eyJ${"a1b2c3d4".repeat(40)}`;
    r.add(token);
    expect(r.redact(`HTTP 503: ${token.slice(0, 40)}…`)).toBe("HTTP 503: ***…");
    expect(r.redact(`short ${token.slice(0, 10)}`)).toBe(`short ${token.slice(0, 10)}`);
  });

  it("hides a token added later from text written later, and the trimmed form of a padded input", () => {
    const r = new SecretRegistry();
    r.add("  padded-secret\n");
    expect(r.redact("[padded-secret]")).toBe("[***]");
    expect(r.redact("minted-token-1")).toBe("minted-token-1");
    r.add("minted-token-1");
    expect(r.redact("minted-token-1")).toBe("***");
  });

  it("ignores empty values", () => {
    const r = new SecretRegistry();
    r.add("");
    r.add("   ");
    r.add(undefined);
    expect(r.size).toBe(0);
    expect(r.redact("text")).toBe("text");
  });
});

describe("neutralizeCommands", () => {
  it.each([
    ["::error::x", "\\::error::x"],
    ["ok\n::add-mask::s", "ok\n\\::add-mask::s"],
    ["ok\n   ::stop-commands::t", "ok\n   \\::stop-commands::t"],
    ["ok\r::warning::x", "ok\\r::warning::x"],
    ["ok\r\n::debug::x", "ok\n\\::debug::x"],
    ["a ##[add-mask]s", "a ##\\[add-mask]s"],
    ["x\u2028::error::y", "x\\u2028::error::y"],
    ["x\u0085::error::y", "x\\u0085::error::y"],
    ["plain: a::b", "plain: a::b"],
  ])("%j → %j", (input, expected) => {
    expect(neutralizeCommands(input)).toBe(expected);
  });

  it("no line of the result starts a command, whatever the input", () => {
    const hostile = ["", "::", " ::", "\t::", "\r::", "\n::", "\u000b::", "\f::", "\u00a0::", "\ufeff::"];
    for (const a of hostile) for (const b of hostile) {
      const lines = neutralizeCommands(`${a}x${b}add-mask::s`).split("\n");
      for (const l of lines) expect(l.trim().startsWith("::"), JSON.stringify(l)).toBe(false);
    }
  });
});

describe("quoteUntrusted", () => {
  it("shows line breaks and control characters as escapes and cuts long text", () => {
    expect(quoteUntrusted("a\nb\r\tc\u001b")).toBe("a\\nb\\r\\tc\\u001b");
    expect(quoteUntrusted("x".repeat(500), 10)).toBe(`${"x".repeat(10)}…`);
  });
});

describe("guardedLogger", () => {
  afterEach(() => runSecrets.clear());
  it("redacts secrets known now and added later, and escapes commands, at every level", () => {
    const mem = new MemoryLogger();
    const log = guardedLogger(mem);
    runSecrets.add("sbsec_input");
    log.info("key sbsec_input\n::add-mask::x");
    runSecrets.add("minted.jwt.token");
    log.warning("echo minted.jwt.token");
    log.debug("::error::y");
    expect(mem.lines).toEqual(["key ***\n\\::add-mask::x", "warning: echo ***", "debug: \\::error::y"]);
  });
});

describe("inputs that become names or labels refuse control characters", () => {
  const base = { "api-key-id": "sbk_a", "api-key-secret": "sbsec_a", machine: "m" };
  const build = (inputs: Record<string, string>) => buildConfig((n) => inputs[n] ?? "", { sha: "s", repository: "r", workspace: process.cwd() });
  it.each([
    ["version-label", { operation: "publish-version", "version-file": "f.js", "version-label": "v1\n::error::x" }],
    ["version-label", { operation: "publish-version", "version-file": "f.js", "version-label": "v1\r::error::x" }],
    ["version-label", { operation: "publish-version", "version-file": "f.js", "version-label": "v1\u001b[31m" }],
    ["to-version", { operation: "set-desired-version", instances: "a", "to-version": "label:v1\n::add-mask::x" }],
    ["from-version", { operation: "publish-migration", "migration-file": "f.js", "from-version": "label:a\u2028b", "to-version": "current" }],
    ["index-selectors", { operation: "publish-version", "version-file": "f.js", "index-selectors": '{"e": "$.a\\n::error::x"}' }],
  ])("%s", async (input, inputs) => {
    const err = await build({ ...base, ...inputs }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).input).toBe(input);
    expect((err as InputError).message).toMatch(/control characters \(found U\+[0-9A-F]{4}\)/);
    expect((err as InputError).message).not.toContain("::");
  });

  it("appliances: a name with a control character", async () => {
    const err = await build({ operation: "complete-appliance-upgrade", "controller-url": "https://c.example.com", token: "t", appliances: "gw-1,gw\u001b2" }).catch((e: unknown) => e);
    expect((err as InputError).input).toBe("appliances");
  });

  it("index-selectors may still span lines", async () => {
    const c = await build({ ...base, operation: "publish-version", "version-file": "f.js", "index-selectors": '{\n  "email": "$.public.email"\n}\n' });
    expect(c).toMatchObject({ indexSelectors: { email: "$.public.email" } });
  });
});
