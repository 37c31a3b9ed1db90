/**
 * Every secret the run knows (inputs, and tokens minted later), and the one function every
 * writer passes its bytes through: the log, step outputs, the job summary, annotations and the
 * report files. A server that echoes a secret in an error body cannot get it written anywhere.
 *
 * One registry per process (an action run is one process), so a token minted deep in a client
 * is hidden from every writer at once, including writers created before it was minted.
 */

const REPLACEMENT = "***";
/** A run of at least this many characters from the start of a secret is hidden too (a secret cut short by a message cap). */
const PREFIX_CHARS = 16;

/** The forms a secret takes once written: as is, inside a JSON string, URL-encoded, in a Markdown table cell. */
function formsOf(secret: string): string[] {
  const forms = new Set<string>([
    secret,
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    secret.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/</g, "&lt;"),
  ]);
  return [...forms].filter((f) => f !== "");
}

export class SecretRegistry {
  /** Longest first, so a secret that contains another is hidden whole. */
  private forms: string[] = [];

  add(secret: string | undefined): void {
    if (secret === undefined) return;
    for (const value of new Set([secret, secret.trim()])) {
      if (value.trim() === "") continue;
      for (const form of formsOf(value)) if (!this.forms.includes(form)) this.forms.push(form);
    }
    this.forms.sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.forms.length;
  }

  redact(text: string): string {
    let out = text;
    for (const form of this.forms) {
      if (out.includes(form)) out = out.split(form).join(REPLACEMENT);
      if (form.length > PREFIX_CHARS) out = hidePrefixRuns(out, form);
    }
    return out;
  }

  /** For tests: forget every secret. */
  clear(): void {
    this.forms = [];
  }
}

/** Hides every run of PREFIX_CHARS or more characters that matches the start of `secret` (a secret cut short). */
function hidePrefixRuns(text: string, secret: string): string {
  const head = secret.slice(0, PREFIX_CHARS);
  let from = text.indexOf(head);
  if (from < 0) return text;
  let out = "";
  let last = 0;
  while (from >= 0) {
    let end = from + PREFIX_CHARS;
    while (end < text.length && end - from < secret.length && text[end] === secret[end - from]) end++;
    out += text.slice(last, from) + REPLACEMENT;
    last = end;
    from = text.indexOf(head, end);
  }
  return out + text.slice(last);
}

/** The run's secrets. main.ts adds the inputs' secrets before anything else, and every minted token. */
export const runSecrets = new SecretRegistry();

/** Shorthand for runSecrets.redact: what every writer calls on the text it writes. */
export function redact(text: string): string {
  return runSecrets.redact(text);
}
