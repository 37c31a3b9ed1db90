/**
 * Text from an input or a server, made safe for the log and for reports. The runner reads the
 * step's output line by line and runs any line that starts with `::` (after spaces) as a
 * workflow command (`::add-mask::`, `::stop-commands::`, `::error::`…), and `##[…]` anywhere in
 * a line as an old-style one; it splits lines at CR as well as LF.
 */

/** Control characters other than LF and TAB, and the Unicode line separators, shown as escapes. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

function visible(ch: string): string {
  if (ch === "\r") return "\\r";
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * A log message that cannot run a workflow command: CR and other control characters become
 * visible escapes, a line that would start with `::` gets a backslash before it, and `##[`
 * loses its bracket meaning. Lines (LF) are kept, each made safe.
 */
export function neutralizeCommands(message: string): string {
  return message
    .replace(/\r\n/g, "\n")
    .replace(CONTROL, visible)
    .split("\n")
    .map((line) => line.replace(/^(\s*)::/, "$1\\::").replace(/##\[/g, "##\\["))
    .join("\n");
}

/**
 * One line of untrusted text (a name from a file or a server) for a message or a report: every
 * line break and control character shown as an escape, and cut to `max` characters with "…".
 */
export function quoteUntrusted(text: string, max = 200): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return cut.replace(/\n/g, "\\n").replace(/\t/g, "\\t").replace(CONTROL, visible);
}

/** Whether an input value holds a control character (line breaks included). */
export function hasControlCharacter(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value);
}
