import { ApiError } from "../statebacked/errors.ts";

/** What to do about an error that ended an operation, when the error knows (an API hint). */
export function fixOf(err: unknown): string | undefined {
  if (err instanceof ApiError && err.hint) return `${err.hint.charAt(0).toUpperCase()}${err.hint.slice(1)}.`;
  if (err instanceof Error && /^Input '/.test(err.message)) return "Change that input in the step's `with:` and run again.";
  return undefined;
}
