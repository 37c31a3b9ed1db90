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
