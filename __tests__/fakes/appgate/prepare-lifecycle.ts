/**
 * A prepare on one fake appliance (POST …/upgrade/prepare): the upgrade status goes started →
 * downloading → verifying over the prepare time, then ready (details: the image's file name) or
 * failed. Lazy, from timestamps, like the rest of the lifecycle; each prepare's window is kept
 * so a test can see how many ran at once.
 */
import type { ApplianceState, DownWindow } from "./fake-appliance.ts";

export function startPrepare(s: ApplianceState, t: number, ms: number, image: string): DownWindow {
  const window: DownWindow = { name: s.spec.name, start: t };
  s.prepare = { since: t, ms, image, window };
  s.upgradeStatus = "started";
  s.upgradeDetails = "";
  return window;
}

export function advancePrepare(s: ApplianceState, t: number): void {
  const p = s.prepare;
  if (!p) return;
  const f = (t - p.since) / Math.max(1, p.ms);
  if (f < 1) {
    s.upgradeStatus = f < 0.1 ? "started" : f < 0.6 ? "downloading" : "verifying";
    return;
  }
  p.window.end = p.since + p.ms;
  delete s.prepare;
  if (s.spec.failPrepare) {
    s.upgradeStatus = "failed";
    s.upgradeDetails = `image verification failed: ${p.image}`;
  } else {
    s.image = p.image;
    s.upgradeStatus = "ready";
    s.upgradeDetails = p.image;
  }
}
