import { WHOLE, formatWaves, parseWaves } from "../rollout/waves.ts";
import { InputError, type Inputs } from "./inputs.ts";

/** How set-desired-version rolls out: in waves, with a gate after each wave but the last. */
export interface RolloutSettings {
  /** Cumulative shares in hundredths of a percent, increasing; `[10000]` (100%) is one wave, today's behaviour. */
  waves: number[];
  /** The wait after each wave but the last, before the gate is judged. */
  soakMs: number;
  /** The most stderr log entries of the target since a wave started; undefined: not judged. */
  maxErrorLogs?: number;
  /** The least share (percent) of a wave's updated instances on the target by the end of the soak; 0: not judged. */
  minUpgradedPercent: number;
  /** On a halt, set every instance this run updated back to the version it ran before. */
  rollbackOnHalt: boolean;
}

export const ROLLOUT_INPUTS = ["waves", "wave-soak-seconds", "max-error-logs", "min-upgraded-percent", "rollback-on-halt"] as const;

/** Six hours: the longest a GitHub-hosted job may run. */
const MAX_SOAK_SECONDS = 6 * 3600;

export function parseRollout(inputs: Inputs): RolloutSettings {
  const wavesText = inputs.optional("waves");
  let waves: number[] = [WHOLE];
  if (wavesText !== undefined) {
    try {
      waves = parseWaves(wavesText);
    } catch (err) {
      throw new InputError("waves", (err as Error).message);
    }
  }
  const maxErrorLogs = inputs.optional("max-error-logs") === undefined ? undefined : inputs.int("max-error-logs", 0, 0, 1_000_000);
  const settings: RolloutSettings = {
    waves,
    soakMs: inputs.int("wave-soak-seconds", 300, 0, MAX_SOAK_SECONDS) * 1000,
    minUpgradedPercent: inputs.int("min-upgraded-percent", 0, 0, 100),
    rollbackOnHalt: inputs.bool("rollback-on-halt", false),
    ...(maxErrorLogs === undefined ? {} : { maxErrorLogs }),
  };
  if (waves.length === 1) {
    // Gates are judged after each wave but the last: with one wave they would never apply, so a
    // gate asked for there is a mistake to report, not to ignore.
    const asked: [string, boolean][] = [
      ["max-error-logs", maxErrorLogs !== undefined],
      ["min-upgraded-percent", settings.minUpgradedPercent > 0],
      ["rollback-on-halt", settings.rollbackOnHalt],
    ];
    for (const [name, set] of asked) {
      if (set) {
        throw new InputError(name, `applies only to a rollout of several waves (a gate is judged after each wave but the last); 'waves' is ${formatWaves(waves)}`);
      }
    }
  }
  return settings;
}
