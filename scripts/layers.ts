/**
 * The layers of src/ and what each may import: folders point one way,
 *   runtime <- http <- clients (statebacked, appgate/api) <- logic (bulk, rollout, appgate/plan,
 *   appgate/run, appgate) <- operations <- main <- index,
 * with report (summary and file writers) just above runtime, and config (reads and checks inputs,
 * using the pure parsers of the layers below) under operations; neither reaches up.
 * eslint.config.js turns this table into no-restricted-imports rules; the architecture test
 * checks the real import graph against it.
 */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  runtime: [],
  http: ["runtime"],
  report: ["runtime"],
  statebacked: ["runtime", "http"],
  "appgate/api": ["runtime", "http"],
  bulk: ["runtime"],
  rollout: ["runtime", "http", "statebacked", "bulk", "report"],
  "appgate/plan": ["runtime", "appgate/api"],
  "appgate/run": ["runtime", "http", "appgate/api", "appgate/plan"],
  appgate: ["runtime", "report", "appgate/api", "appgate/plan", "appgate/run"],
  config: ["runtime", "statebacked", "appgate/api", "bulk", "rollout"],
  operations: ["runtime", "http", "report", "statebacked", "appgate/api", "bulk", "rollout", "appgate/plan", "appgate/run", "appgate", "config"],
  main: ["runtime", "http", "report", "config", "operations"],
  index: ["main"],
};

/** Layers whose files may import @actions/* (the runner's toolkit): nothing below them needs the runner. */
export const RUNNER_TOOLKIT_LAYERS: readonly string[] = ["main", "config", "report"];

/** `main` and `index` are single files (src/main.ts); every other layer is a folder of files. */
export function isFileLayer(layer: string): boolean {
  return layer === "main" || layer === "index";
}

/** The folder a layer's files are in, relative to src/ ("" for src/ itself). */
export function layerFolder(layer: string): string {
  return isFileLayer(layer) ? "" : layer;
}

/** The glob of a layer's files, for ESLint. */
export function layerGlob(layer: string): string {
  return isFileLayer(layer) ? `src/${layer}.ts` : `src/${layer}/*.ts`;
}

function relativeFolder(from: string, to: string): string {
  const a = from === "" ? [] : from.split("/");
  const b = to === "" ? [] : to.split("/");
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  const up = a.slice(common).map(() => "..");
  const rel = [...up, ...b.slice(common)].join("/");
  return rel === "" ? "." : rel.startsWith("..") ? rel : `./${rel}`;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Regular expressions matching the import specifiers by which a file of `layer` would reach `target`. */
export function importPatternsFor(layer: string, target: string): string[] {
  const rel = relativeFolder(layerFolder(layer), layerFolder(target));
  return isFileLayer(target) ? [`^${escapeRe(rel)}/${escapeRe(target)}\\.ts$`] : [`^${escapeRe(rel)}/[^/]+$`];
}
