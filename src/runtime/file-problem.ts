/**
 * A file that cannot be read, said in plain words instead of an errno, with where relative
 * paths are looked up (the runner starts the action in the workspace, GITHUB_WORKSPACE).
 */
export function fileProblem(path: string, err: unknown): string {
  const code = (err as { code?: string } | undefined)?.code;
  const why =
    code === "ENOENT"
      ? "there is no such file"
      : code === "EISDIR"
        ? "it is a folder, not a file"
        : code === "ENOTDIR"
          ? "a part of the path is a file, not a folder"
          : code === "EACCES" || code === "EPERM"
            ? "the runner's user is not allowed to read it"
            : `it cannot be read (${code ?? (err as Error | undefined)?.message ?? "unknown error"})`;
  const where = path.startsWith("/") ? "" : `; relative paths start from the workspace${workspaceHint()}`;
  const fix =
    code === "ENOENT" || code === "ENOTDIR"
      ? ". Check the path, and that an earlier step (actions/checkout, your build) created the file"
      : "";
  return `cannot read '${path}': ${why}${where}${fix}`;
}

/** Relative paths resolve against the working folder, which a runner sets to the workspace. */
function workspaceHint(): string {
  return ` (${process.cwd()}, where actions/checkout puts the repository)`;
}
