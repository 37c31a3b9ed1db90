import { afterEach } from "vitest";
import { type FakeController, type FakeControllerOptions, startFakeController } from "./fake-controller.ts";
import { type SpecOverrides, standardFleet } from "./fleet.ts";

/**
 * For a test file: a `start()` that runs a fake Controller with the reference fleet (changed by
 * `overrides`) and the file's default durations, closed after each test (and when a test starts
 * another one).
 */
export function useFleet(defaults: Partial<FakeControllerOptions>): (overrides?: SpecOverrides, options?: Partial<FakeControllerOptions>) => Promise<FakeController> {
  let fake: FakeController | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });
  return async (overrides = {}, options = {}) => {
    await fake?.close();
    fake = await startFakeController({ appliances: standardFleet(overrides), ...defaults, ...options });
    return fake;
  };
}
