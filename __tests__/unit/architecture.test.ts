import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cycles, importGraph, layerGraph, layerOf } from "../../scripts/import-graph.ts";
import { LAYERS } from "../../scripts/layers.ts";

/** "Small files named for what they hold": a file past this is split (about 300 lines; 330 is the hard stop). */
const MAX_LINES = 330;

const root = resolve(import.meta.dirname, "../..");
const graph = importGraph(root);

describe("architecture of src/", () => {
  it("reads a real graph (guards the checks below against an empty one)", () => {
    expect(graph.files.length).toBeGreaterThan(50);
    expect(graph.edges.get("src/main.ts")).toContain("src/operations/context.ts");
    expect(graph.edges.get("src/bulk/pool.ts")).toContain("src/bulk/aimd.ts");
  });

  it("has no import cycle between files", () => {
    expect(cycles(graph.edges)).toEqual([]);
  });

  it("has no import cycle between folders", () => {
    expect(cycles(layerGraph(graph))).toEqual([]);
  });

  it("puts every file in a known layer", () => {
    expect(graph.files.map(layerOf).filter((l) => !(l in LAYERS))).toEqual([]);
  });

  it("points folders one way: each layer imports only what scripts/layers.ts allows", () => {
    const wrong: string[] = [];
    for (const [from, tos] of graph.edges) {
      for (const to of tos) {
        const a = layerOf(from);
        const b = layerOf(to);
        if (a !== b && !(LAYERS[a] ?? []).includes(b)) wrong.push(`${from} -> ${to}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it(`keeps every source file under ${MAX_LINES} lines`, () => {
    const long = graph.files
      .map((f) => [f, readFileSync(join(root, f), "utf8").split("\n").length] as const)
      .filter(([, n]) => n > MAX_LINES)
      .map(([f, n]) => `${f}: ${n} lines`);
    expect(long).toEqual([]);
  });
});

describe("the cycle finder", () => {
  it("finds a cycle, a self-import, and nothing in a tree", () => {
    const g = (o: Record<string, string[]>) => new Map(Object.entries(o));
    expect(cycles(g({ a: ["b"], b: ["c"], c: ["a"], d: ["a"] }))).toEqual([["a", "b", "c"]]);
    expect(cycles(g({ a: ["a"] }))).toEqual([["a"]]);
    expect(cycles(g({ a: ["b", "c"], b: ["c"], c: [] }))).toEqual([]);
  });

  it("names layers by folder, Appgate's by subfolder", () => {
    expect(layerOf("src/http/client.ts")).toBe("http");
    expect(layerOf("src/appgate/api/client.ts")).toBe("appgate/api");
    expect(layerOf("src/appgate/report.ts")).toBe("appgate");
    expect(layerOf("src/main.ts")).toBe("main");
  });
});
