import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["__tests__/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Temp folders of the run under one root, removed at the end (see the file).
    globalSetup: ["__tests__/helpers/temp-root.ts"],
  },
});
