import { defineConfig } from "vitest/config";

// One config, one project per test tier (ARCHITECTURE.md "Test tiers").
export default defineConfig({
  test: {
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // Pulumi's runtime keeps module-level state; a fresh process per file keeps mocks apart.
          pool: "forks",
        },
      },
    ],
  },
});
