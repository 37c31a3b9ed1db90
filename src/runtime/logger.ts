import { neutralizeCommands } from "./escape.ts";
import { redact } from "./secrets.ts";

/** Where operations and clients write their lines; main.ts backs it with @actions/core. */
export interface Logger {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}

export const silentLogger: Logger = { info() {}, warning() {}, debug() {} };

/** A logger that keeps every line, for tests and for the demo. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  info(m: string): void {
    this.lines.push(m);
  }
  warning(m: string): void {
    this.lines.push(`warning: ${m}`);
  }
  debug(m: string): void {
    this.lines.push(`debug: ${m}`);
  }
}

/**
 * The logger every line of a run goes through: secrets redacted (including tokens minted after
 * it was made), and no line able to start a workflow command, whatever text from an input or a
 * server it carries.
 */
export function guardedLogger(target: Logger): Logger {
  const safe = (m: string): string => neutralizeCommands(redact(m));
  return {
    info: (m) => target.info(safe(m)),
    warning: (m) => target.warning(safe(m)),
    debug: (m) => target.debug(safe(m)),
  };
}
