import type { Config } from "../config/config.ts";
import { HttpClient, type HttpClientOptions } from "../http/client.ts";
import { RunReport } from "../report/run-report.ts";
import type { Clock } from "../runtime/clock.ts";
import type { Logger } from "../runtime/logger.ts";
import { type RetryPolicy, defaultRetryPolicy } from "../runtime/retry-policy.ts";
import type { RunEnv } from "../runtime/run-env.ts";

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

/** How the run's one HttpClient is set up (from the config in main.ts; tests and the bench pick their own). */
export interface HttpSettings {
  policy?: Partial<RetryPolicy>;
  requestTimeoutMs?: number;
  /** Extra PEM certificate authority to trust. */
  ca?: string;
  /** Proxies from the environment (main.ts reads them); none when absent. */
  proxy?: HttpClientOptions["proxy"];
  /** For tests: a dispatcher of their own. */
  dispatcher?: HttpClientOptions["dispatcher"];
}

export interface RunContextOptions {
  clock: Clock;
  logger: Logger;
  env: RunEnv;
  mask(secret: string): void;
  http?: HttpSettings;
  /** Cancels the run; a fresh one when not given. */
  controller?: AbortController;
  report?: RunReport;
}

/** A run's context, with the controller that cancels it and the way to release its connections. */
export interface RunContext {
  ctx: OperationContext;
  controller: AbortController;
  /** Closes the HTTP client: at once (aborting what is in flight) when the run was cancelled. */
  close(): Promise<void>;
}

/** The one place a run context is built: main.ts, the tests' helpers and the bench use it. */
export function createRunContext(opts: RunContextOptions): RunContext {
  const controller = opts.controller ?? new AbortController();
  const settings = opts.http ?? {};
  const http = new HttpClient({
    clock: opts.clock,
    logger: opts.logger,
    signal: controller.signal,
    policy: { ...defaultRetryPolicy, ...settings.policy },
    ...(settings.requestTimeoutMs !== undefined ? { requestTimeoutMs: settings.requestTimeoutMs } : {}),
    ...(settings.ca ? { ca: settings.ca } : {}),
    ...(settings.proxy ? { proxy: settings.proxy } : {}),
    ...(settings.dispatcher ? { dispatcher: settings.dispatcher } : {}),
  });
  const ctx: OperationContext = {
    http,
    logger: opts.logger,
    clock: opts.clock,
    signal: controller.signal,
    report: opts.report ?? new RunReport(),
    env: opts.env,
    mask: opts.mask,
  };
  return { ctx, controller, close: () => (controller.signal.aborted ? http.destroy() : http.close()) };
}

/** The HTTP settings a config asks for: attempts, request timeout, extra CA. */
export function httpSettingsOf(config: Config): HttpSettings {
  return {
    ...("http" in config ? { policy: { maxAttempts: config.http.maxAttempts }, requestTimeoutMs: config.http.requestTimeoutMs } : {}),
    ...("caCertificate" in config && config.caCertificate ? { ca: config.caCertificate } : {}),
  };
}
