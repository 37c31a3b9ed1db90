import { hasControlCharacter, quoteUntrusted } from "../runtime/escape.ts";
import { isLoopbackHost } from "../runtime/url-policy.ts";
import { didYouMean } from "./suggest.ts";
import { ExpectedError } from "../runtime/errors.ts";

export { isLoopbackHost };

/**
 * Reading raw action inputs into typed values. Every error names the input, so a user can fix
 * the workflow file without reading code. Nothing here sends a request.
 */

/** Returns the raw input value ('' when unset), as @actions/core's getInput does. */
export type InputSource = (name: string) => string;

/** The most characters of an input's value an error echoes (a value may be megabytes long). */
export const SHOWN_VALUE_CHARS = 80;

/** An input's value as an error echoes it: cut short (ending in '…') and its control characters made visible. */
export function shown(value: string): string {
  return quoteUntrusted(value, SHOWN_VALUE_CHARS);
}

export class InputError extends ExpectedError {
  readonly input: string;
  constructor(input: string, message: string) {
    super(`Input '${input}': ${message}`);
    this.name = "InputError";
    this.input = input;
  }
}

export class Inputs {
  private readonly source: InputSource;
  constructor(source: InputSource) {
    this.source = source;
  }

  /**
   * Trimmed value, or undefined when empty. One line: a value that becomes a name, a label or a
   * log line must not carry a line break or another control character (a newline followed by
   * `::error::` would be a workflow command). The value is not echoed: it may be a secret.
   */
  optional(name: string): string | undefined {
    const v = this.source(name).trim();
    if (v === "") return undefined;
    refuseControlCharacters(name, v);
    return v;
  }

  required(name: string, why?: string): string {
    const v = this.optional(name);
    if (v === undefined) throw new InputError(name, `is required${why ? ` ${why}` : ""}`);
    return v;
  }

  /** Untrimmed multi-line value (PEM, lists), undefined when blank. */
  raw(name: string): string | undefined {
    const v = this.source(name);
    return v.trim() === "" ? undefined : v;
  }

  bool(name: string, defaultValue: boolean): boolean {
    const v = this.optional(name);
    if (v === undefined) return defaultValue;
    if (/^(true|True|TRUE)$/.test(v)) return true;
    if (/^(false|False|FALSE)$/.test(v)) return false;
    throw new InputError(name, `must be 'true' or 'false', got '${shown(v)}'`);
  }

  int(name: string, defaultValue: number, min: number, max: number): number {
    const v = this.optional(name);
    if (v === undefined) return defaultValue;
    if (!/^\d+$/.test(v)) throw new InputError(name, `must be a whole number from ${min} to ${max}, got '${shown(v)}'`);
    const n = Number(v);
    if (n < min || n > max) throw new InputError(name, `must be from ${min} to ${max}, got ${n}`);
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], defaultValue?: T): T {
    const v = this.optional(name) ?? defaultValue;
    if (v === undefined) throw new InputError(name, `is required; one of: ${allowed.join(", ")}`);
    if (!(allowed as readonly string[]).includes(v)) {
      throw new InputError(name, `'${shown(v)}' is not valid.${didYouMean(v, allowed)} Use one of: ${allowed.join(", ")}`);
    }
    return v as T;
  }

  /** Fails when an input that does not apply to the chosen operation is set. */
  forbid(names: readonly string[], why: string): void {
    for (const n of names) {
      if (this.optional(n) !== undefined) throw new InputError(n, why);
    }
  }
}

/** Refuses a value with a control character (line breaks included), naming the input and the character, not the value. */
export function refuseControlCharacters(input: string, value: string, what = "must be a single line without control characters"): void {
  if (!hasControlCharacter(value)) return;
  const ch = [...value].find((c) => hasControlCharacter(c))!;
  throw new InputError(input, `${what} (found U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")})`);
}

/** Base URL check shared by every service: https, or plain http only to a loopback host. */
export function parseServiceUrl(input: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Credentials may hold '/' or '@': everything up to the last '@' is hidden.
    throw new InputError(input, `'${value.replace(/\/\/.*@/s, "//…@")}' is not a URL; write the whole address, e.g. https://host.example.com`);
  }
  if (url.username || url.password) throw new InputError(input, "must not contain credentials");
  if (url.search || url.hash) throw new InputError(input, "must not have a query or fragment");
  if (url.protocol === "http:") {
    if (!isLoopbackHost(url.hostname)) {
      throw new InputError(input, `plain http:// is allowed only for loopback hosts (127.0.0.1, ::1, localhost), got '${shown(url.hostname)}'`);
    }
  } else if (url.protocol !== "https:") {
    throw new InputError(input, `must be an https:// URL, got '${shown(url.protocol)}'`);
  }
  return url;
}
