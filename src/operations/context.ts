import type { HttpClient } from "../http/client.ts";
import type { Clock } from "../runtime/clock.ts";
import type { Logger } from "../runtime/logger.ts";
import type { RunReport } from "../report/run-report.ts";

/** Facts about the workflow run, read from the runner's environment by main.ts. */
export interface RunEnv {
  /** Commit SHA of the run (GITHUB_SHA), '' outside Actions. */
  sha: string;
  /** owner/name (GITHUB_REPOSITORY). */
  repository: string;
  /** https://github.com, or the GitHub Enterprise Server's address. */
  serverUrl: string;
  /** Link to the workflow run, '' when unknown. */
  runUrl: string;
  /** Folder for report files (RUNNER_TEMP, else the OS temp dir). */
  tempDir: string;
}

/** What every operation is handed: it talks to the world only through these. */
export interface OperationContext {
  http: HttpClient;
  logger: Logger;
  clock: Clock;
  /** Aborts on workflow cancellation (SIGINT/SIGTERM). */
  signal: AbortSignal;
  report: RunReport;
  env: RunEnv;
  /** Hides a secret made at run time (a minted token) from every later log line. */
  mask(secret: string): void;
}
