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
  /**
   * Work that must still reach a server once the run is cancelled (turning maintenance mode off
   * again): it gets an HTTP client of its own, not aborted by the cancellation, and a signal that
   * aborts after `CLEANUP_BUDGET_MS`. The step waits for it before exiting (RunContext.cleanups).
   * Undefined when it failed or ran out of time.
   */
  afterCancel<T>(work: (http: HttpClient, signal: AbortSignal) => Promise<T>): Promise<T | undefined>;
}

/** How long cleanup after a cancellation may take: GitHub sends SIGTERM 7.5 s after SIGINT. */
export const CLEANUP_BUDGET_MS = 5000;

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
  /** Settles once the cleanups started by `afterCancel` have ended (each within its budget). */
  cleanups(): Promise<void>;
}

/** The one place a run context is built: main.ts, the tests' helpers and the bench use it. */
export function createRunContext(opts: RunContextOptions): RunContext {
  const controller = opts.controller ?? new AbortController();
  const settings = opts.http ?? {};
  const client = (signal: AbortSignal, policy: Partial<RetryPolicy> = {}): HttpClient =>
    new HttpClient({
      clock: opts.clock,
      logger: opts.logger,
      signal,
      policy: { ...defaultRetryPolicy, ...settings.policy, ...policy },
      ...(settings.requestTimeoutMs !== undefined ? { requestTimeoutMs: settings.requestTimeoutMs } : {}),
      ...(settings.ca ? { ca: settings.ca } : {}),
      ...(settings.proxy ? { proxy: settings.proxy } : {}),
      ...(settings.dispatcher ? { dispatcher: settings.dispatcher } : {}),
    });
  const http = client(controller.signal);
  const pending = new Set<Promise<unknown>>();
  const afterCancel = <T>(work: (http: HttpClient, signal: AbortSignal) => Promise<T>): Promise<T | undefined> => {
    const budget = new AbortController();
    const timer = new AbortController();
    opts.clock.sleep(CLEANUP_BUDGET_MS, timer.signal).then(
      () => budget.abort(new Error(`cleanup after cancellation took more than ${CLEANUP_BUDGET_MS / 1000} s`)),
      () => undefined,
    );
    const own = client(budget.signal, { maxAttempts: 2 });
    const done = work(own, budget.signal)
      .catch(() => undefined)
      .finally(async () => {
        timer.abort();
        await own.destroy();
      });
    pending.add(done);
    void done.finally(() => pending.delete(done));
    return done;
  };
  const ctx: OperationContext = {
    http,
    logger: opts.logger,
    clock: opts.clock,
    signal: controller.signal,
    report: opts.report ?? new RunReport(),
    env: opts.env,
    mask: opts.mask,
    afterCancel,
  };
  return {
    ctx,
    controller,
    close: () => (controller.signal.aborted ? http.destroy() : http.close()),
    cleanups: async () => {
      await Promise.allSettled([...pending]);
    },
  };
}

/** The HTTP settings a config asks for: attempts, request timeout, extra CA. */
export function httpSettingsOf(config: Config): HttpSettings {
  return {
    ...("http" in config ? { policy: { maxAttempts: config.http.maxAttempts }, requestTimeoutMs: config.http.requestTimeoutMs } : {}),
    ...("caCertificate" in config && config.caCertificate ? { ca: config.caCertificate } : {}),
  };
}
