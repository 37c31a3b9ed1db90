import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { LAYERS, RUNNER_TOOLKIT_LAYERS, importPatternsFor, layerGlob } from "./scripts/layers.ts";

/**
 * Folders point one way (scripts/layers.ts): each layer's files may import only the layers the
 * table allows, and only main, config and report may import the runner's toolkit (@actions/*).
 */
const layerRules = Object.entries(LAYERS).map(([layer, allowed]) => {
  const forbidden = Object.keys(LAYERS).filter((other) => other !== layer && !allowed.includes(other));
  const patterns = forbidden.map((target) => ({
    regex: importPatternsFor(layer, target).join("|"),
    message: `src/${layer} may import only ${allowed.length > 0 ? allowed.join(", ") : "Node and its own files"}, not ${target} (folders point one way; see scripts/layers.ts).`,
  }));
  if (!RUNNER_TOOLKIT_LAYERS.includes(layer)) {
    patterns.push({ regex: "^@actions/", message: `Only ${RUNNER_TOOLKIT_LAYERS.join(", ")} talk to the runner (@actions/*); src/${layer} gets what it needs injected.` });
  }
  return { files: [layerGlob(layer)], rules: { "no-restricted-imports": ["error", { patterns }] } };
});

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-console": "error",
    },
  },
  ...layerRules,
  {
    files: ["__tests__/**", "bench/**", "demo/**", "scripts/**"],
    rules: { "no-console": "off" },
  },
);
