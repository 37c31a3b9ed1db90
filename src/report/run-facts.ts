import type { RunEnv } from "../runtime/run-env.ts";
import { code } from "./markdown.ts";

/** The rows every summary ends with: the commit and a link to the run. */
export function runFactRows(env: RunEnv): [string, string][] {
  const rows: [string, string][] = [];
  if (env.sha) {
    const short = env.sha.slice(0, 12);
    rows.push(["Commit", env.repository ? `[${code(short)}](${env.serverUrl}/${env.repository}/commit/${env.sha})` : code(short)]);
  }
  if (env.runUrl) rows.push(["Run", `[workflow run](${env.runUrl})`]);
  return rows;
}
