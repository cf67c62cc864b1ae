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
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          // Real servers on loopback (Postgres, ...), started by each file; see scripts/integration.
          pool: "forks",
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: "cluster",
          include: ["test/cluster/**/*.test.ts"],
          // Brings the local control plane up (or takes MLOPS_KUBECONFIG) and tears it down.
          globalSetup: ["test/cluster/global-setup.ts"],
          pool: "forks",
          // One file at a time: every file drives the real Pulumi CLI against one API server.
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
