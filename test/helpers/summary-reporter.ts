import type { Reporter, TestModule } from "vitest/node";

/**
 * Prints one plain closing line, `<tier>: N passed, N failed, N skipped`, after vitest's own
 * summary, so CI logs and tools that read closing lines see the counts in one fixed shape.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = new Map<string, { passed: number; failed: number; skipped: number }>();
    for (const mod of testModules) {
      const tier = mod.project.name || "tests";
      const c = counts.get(tier) ?? { passed: 0, failed: 0, skipped: 0 };
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") c.passed++;
        else if (state === "failed") c.failed++;
        else c.skipped++;
      }
      // A file that failed outside any test (import error, failing beforeAll) counts as a failure,
      // even though its tests show as skipped.
      const testFailed = [...mod.children.allTests()].some((t) => t.result().state === "failed");
      if (mod.state() === "failed" && !testFailed) c.failed++;
      counts.set(tier, c);
    }
    if (counts.size === 0) console.log("tests: 0 passed, 0 failed");
    for (const [tier, c] of counts)
      console.log(`${tier}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
  }
}
