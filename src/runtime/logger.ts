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
