import { setFlagsFromString } from "node:v8";

/** V8 flags that size or shape the young generation (--max-semi-space-size, --min-semi-space-size, --minor-ms, …). */
const YOUNG_GENERATION_FLAG = /^--(no-)?[\w-]*(semi[-_]space|new[-_]space|young[-_]gen|minor[-_]ms)/;

/**
 * Keeps V8's young generation at its starting size for the whole run.
 *
 * Why: under a steady stream of requests (a bulk run sends up to 100,000), V8 doubles the young
 * generation each time the bytes surviving its scavenges add up to its size, until it reaches
 * 64 MiB a semi-space. Most of that is garbage that a smaller space would have collected sooner,
 * but the pages stay resident: measured at 100,000 instances, peak RSS 285 MB with the default,
 * 160-185 MB with this, and the bulk phase no slower (a plain undici loop shows the same growth,
 * so it is the platform's, not our code's). The action cannot pass node flags on a runner
 * (`runs.using: node24` starts `node dist/index.js`), so it sets the one flag that takes effect
 * after start-up: the growth factor, read each time V8 considers growing the space. (Node warns
 * that V8 flags changed after start-up may do nothing or worse; this one is only read there, and
 * a test checks that it works on the Node the action runs on.)
 *
 * A flag the user set (NODE_OPTIONS, or node's own arguments) about the young generation wins:
 * nothing is changed then. Returns whether the flag was set.
 */
export function boundYoungGeneration(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ""): boolean {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  if (given.some((arg) => YOUNG_GENERATION_FLAG.test(arg))) return false;
  try {
    setFlagsFromString("--semi-space-growth-factor=1");
    return true;
  } catch {
    // A tuning only: the run goes on with V8's own sizing.
    return false;
  }
}
