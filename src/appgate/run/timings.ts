/** How often and how long the runner waits. Defaults follow sdpctl; tests and the bench scale them down. */
export interface UpgradeTimings {
  /** First delay between polls; doubles up to pollMaxMs, and starts again when what is seen changes. */
  pollInitialMs: number;
  pollMaxMs: number;
  /**
   * Timeout of each poll and change request. A status-list read that times out is tried again
   * with twice the timeout (up to 8 times this), as sdpctl does: a big collective answers slowly.
   */
  requestTimeoutMs: number;
  /** A progress line at least this often while an appliance's state does not change. */
  heartbeatMs: number;
  /** Tries of one change request (complete, switch-partition, maintenance) when its answer is lost. */
  changeAttempts: number;
  /**
   * After a change request whose answer was lost, reads of the status that may still show the
   * state before it (the Controller lags) before the request may be sent again. Never sent
   * again to the primary Controller, which is waited on instead.
   */
  lostAnswerReads: number;
  /** A backup is downloaded in ranges of this many bytes (a dropped connection costs one range at most). */
  backupChunkBytes: number;
}

export const DEFAULT_TIMINGS: UpgradeTimings = {
  pollInitialMs: 1_000,
  pollMaxMs: 10_000,
  requestTimeoutMs: 5_000,
  heartbeatMs: 60_000,
  changeAttempts: 3,
  lostAnswerReads: 3,
  backupChunkBytes: 4 * 1024 * 1024,
};

/** The longest a status-list read's timeout grows to, as a multiple of requestTimeoutMs. */
export const MAX_TIMEOUT_GROWTH = 8;
