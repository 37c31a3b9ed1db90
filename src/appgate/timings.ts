/** How often and how long the runner waits. Defaults follow sdpctl; tests and the bench scale them down. */
export interface UpgradeTimings {
  /** First delay between polls; doubles up to pollMaxMs, and starts again when what is seen changes. */
  pollInitialMs: number;
  pollMaxMs: number;
  /** Timeout of each poll and change request. */
  requestTimeoutMs: number;
  /** A progress line at least this often while an appliance's state does not change. */
  heartbeatMs: number;
  /** Tries of one change request (complete, switch-partition, maintenance) when its answer is lost. */
  changeAttempts: number;
}

export const DEFAULT_TIMINGS: UpgradeTimings = {
  pollInitialMs: 1_000,
  pollMaxMs: 10_000,
  requestTimeoutMs: 5_000,
  heartbeatMs: 60_000,
  changeAttempts: 3,
};
