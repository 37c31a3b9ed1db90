/**
 * State Backed API failures as one clear line: what the step was doing, the HTTP status, the
 * API's `code` and `parameter`, its message, and a hint that says what to change.
 */
import { ExpectedError } from "../runtime/errors.ts";

export interface ApiErrorBody {
  error?: string;
  code?: string;
  parameter?: string;
}

export class ApiError extends ExpectedError {
  readonly step: string;
  readonly status: number;
  readonly code: string | undefined;
  readonly parameter: string | undefined;
  readonly apiMessage: string | undefined;
  readonly hint: string | undefined;

  constructor(step: string, status: number, body: ApiErrorBody, scope: string | undefined, afterUncertainAttempt = false) {
    const hint = hintFor(status, body.code, scope);
    super(
      formatApiError(step, status, body, hint) +
        (afterUncertainAttempt ? " (note: this was a retry after an answer was lost, so an earlier attempt may have been carried out)" : ""),
    );
    this.name = "ApiError";
    this.step = step;
    this.status = status;
    this.code = body.code;
    this.parameter = body.parameter;
    this.apiMessage = body.error;
    this.hint = hint;
  }
}

/** Longest API message kept (a summary shows hundreds of them; GitHub drops one over 1 MiB). */
const MAX_MESSAGE = 300;

/** Parses an error body; bodies that are not the documented JSON shape give only their text. */
export function parseErrorBody(text: string): ApiErrorBody {
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      return {
        ...(typeof o.error === "string" ? { error: o.error.length > MAX_MESSAGE ? `${o.error.slice(0, MAX_MESSAGE)}…` : o.error } : {}),
        ...(typeof o.code === "string" ? { code: o.code } : {}),
        ...(typeof o.parameter === "string" ? { parameter: o.parameter } : {}),
      };
    }
  } catch {
    // not JSON
  }
  const trimmed = text.trim().slice(0, MAX_MESSAGE);
  return trimmed ? { error: trimmed } : {};
}

export function hintFor(status: number, code: string | undefined, scope: string | undefined): string | undefined {
  switch (code) {
    case "specify-org":
      return "the token's user belongs to several orgs: set the 'org-id' input";
    case "missing-scope":
      return scope
        ? `the key lacks the '${scope}' scope this step needs: create a key that has it`
        : "the key lacks a scope this step needs";
    case "missing-user":
      return "the token's user is not known (any more): the token expired or is wrong; mint a fresh one, or use 'api-key-id' and 'api-key-secret', which the action renews";
    case "missing-org":
      return "the token is not tied to an org: use an API key of the org, or set 'org-id'";
    case "no-migration-path":
      return "publish a migration chain from the instance's version to the target first (operation: publish-migration)";
    case "invalid-parameter":
      return undefined;
  }
  if (status === 401 || status === 403) {
    return "check 'api-key-id' and 'api-key-secret' (or 'token'): the key may be wrong, deleted or expired";
  }
  if (status === 404) return "check the 'machine' name (and the instance name) and that the key's org owns it";
  if (status === 429 || status >= 500) return "the service is busy or failing; the step retried and gave up, try again later";
  return undefined;
}

export function formatApiError(step: string, status: number, body: ApiErrorBody, hint: string | undefined): string {
  const parts = [`${step} failed: HTTP ${status}`];
  if (body.code) parts.push(`code ${body.code}`);
  if (body.parameter) parts.push(`parameter '${body.parameter}'`);
  let line = parts.join(", ");
  if (body.error) line += ` — ${body.error}`;
  if (hint) line += ` (hint: ${hint})`;
  return line;
}
