import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProxySettings } from "../../src/http/proxy.ts";
import { type OperationContext, createRunContext } from "../../src/operations/context.ts";
import type { RunReport } from "../../src/report/run-report.ts";
import type { RetryPolicy } from "../../src/runtime/retry-policy.ts";
import type { Clock } from "../../src/runtime/clock.ts";
import { MemoryLogger } from "../../src/runtime/logger.ts";
import { InstantClock } from "./instant-clock.ts";

export interface TestContext {
  ctx: OperationContext;
  report: RunReport;
  logger: MemoryLogger;
  clock: Clock;
  masked: string[];
  controller: AbortController;
}

/** An OperationContext wired for tests: real HTTP to loopback, a clock that never waits, a memory logger. */
export function makeContext(opts: { clock?: Clock; policy?: Partial<RetryPolicy>; requestTimeoutMs?: number; proxy?: ProxySettings } = {}): TestContext {
  const clock = opts.clock ?? new InstantClock();
  const logger = new MemoryLogger();
  const masked: string[] = [];
  const { ctx, controller } = createRunContext({
    clock,
    logger,
    env: { sha: "0123456789abcdef0123456789abcdef01234567", repository: "acme/backend", serverUrl: "https://github.com", runUrl: "https://github.com/acme/backend/actions/runs/1", tempDir: mkdtempSync(join(tmpdir(), "sb-test-")) },
    mask: (s) => masked.push(s),
    http: {
      ...(opts.policy ? { policy: opts.policy } : {}),
      ...(opts.requestTimeoutMs ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
      ...(opts.proxy ? { proxy: opts.proxy } : {}),
    },
  });
  return { ctx, report: ctx.report, logger, clock, masked, controller };
}

/** A key with every scope the action uses, for the fake server and the action's inputs. */
export const TEST_KEY = { keyId: "sbk_testkey0000000000000000", secret: "sbsec_testsecret_do_not_use", orgId: "org_test" };
