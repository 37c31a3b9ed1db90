/**
 * The import graph of src/: which file imports which, and which folder (layer) imports which.
 * Used by __tests__/unit/architecture.test.ts (no cycles, layers point one way) and runnable on
 * its own: `node scripts/import-graph.ts` prints the folder graph and any cycle.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

export interface ImportGraph {
  /** Every .ts file under src/, relative to the repository root with "/" separators. */
  files: string[];
  /** For each file, the src files it imports (type-only imports included: they tie files together too). */
  edges: Map<string, string[]>;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']/g;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(path);
  }
}

const posix = (p: string): string => p.split(sep).join("/");

/** Reads the graph of `<root>/src`. */
export function importGraph(root: string): ImportGraph {
  const abs: string[] = [];
  walk(join(root, "src"), abs);
  const files = abs.map((f) => posix(relative(root, f))).sort();
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(root, file), "utf8");
    const targets = new Set<string>();
    for (const re of [IMPORT, DYNAMIC]) {
      for (const m of text.matchAll(re)) {
        const spec = m[1]!;
        if (!spec.startsWith(".")) continue;
        const target = posix(relative(root, resolve(root, dirname(file), spec)));
        if (known.has(target)) targets.add(target);
      }
    }
    edges.set(file, [...targets].sort());
  }
  return { files, edges };
}

/**
 * The folder a file belongs to, as a layer: `src/http/client.ts` → `http`;
 * `src/appgate/api/client.ts` → `appgate/api`; `src/main.ts` → `main`.
 */
export function layerOf(file: string): string {
  const parts = file.replace(/^src\//, "").split("/");
  if (parts.length === 1) return parts[0]!.replace(/\.ts$/, "");
  if (parts[0] === "appgate" && parts.length > 2) return `appgate/${parts[1]}`;
  return parts[0]!;
}

/** The folder graph: for each layer, the other layers its files import. */
export function layerGraph(g: ImportGraph): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const [from, tos] of g.edges) {
    const a = layerOf(from);
    const set = out.get(a) ?? new Set<string>();
    out.set(a, set);
    for (const to of tos) if (layerOf(to) !== a) set.add(layerOf(to));
  }
  return new Map([...out].map(([k, v]) => [k, [...v].sort()]));
}

/** Strongly connected components with more than one node (or a self-loop): the cycles. */
export function cycles(edges: Map<string, readonly string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(comp.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return found;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const g = importGraph(resolve(import.meta.dirname, ".."));
  const layers = layerGraph(g);
  for (const [k, v] of layers) console.log(`${k} -> ${v.join(", ") || "(nothing)"}`);
  const c = [...cycles(g.edges), ...cycles(layers)];
  console.log(c.length === 0 ? "no cycles" : `cycles:\n${c.map((x) => `  ${x.join(" <-> ")}`).join("\n")}`);
}
