/**
 * The base of every error whose message says all a person needs (a refusal, a bad input, a
 * network failure): main.ts reports its message and no stack. Anything else is a bug, and its
 * stack goes to the debug log.
 */
export class ExpectedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ExpectedError";
  }
}

/** Whether `err`'s message says it all (not a type guard: ExpectedError adds nothing to Error's shape). */
export function isExpectedError(err: unknown): boolean {
  return err instanceof ExpectedError;
}
