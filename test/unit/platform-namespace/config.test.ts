import { describe, expect, it } from "vitest";
import { type PlatformNamespaceArgs, resolvePlatformNamespace } from "../../../components/platform-namespace";
import { ArgsValidationError } from "../../../components/shared";

function problemsOf(args: unknown): ArgsValidationError {
  try {
    resolvePlatformNamespace(args as PlatformNamespaceArgs);
  } catch (e) {
    if (e instanceof ArgsValidationError) return e;
    throw e;
  }
  throw new Error("expected an ArgsValidationError");
}

describe("resolvePlatformNamespace", () => {
  it("applies defaults", () => {
    const config = resolvePlatformNamespace({ name: "ml" });
    expect(config.podSecurity).toBe("restricted");
    expect(config.role).toBe("workloads");
    expect(config.dnsEgress).toEqual({ namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } });
  });

  it("does not mutate the caller's Args", () => {
    const args = Object.freeze({ name: "ml", quota: Object.freeze({ gpus: 2 }) });
    expect(() => resolvePlatformNamespace(args)).not.toThrow();
    expect(args).toEqual({ name: "ml", quota: { gpus: 2 } });
  });

  it("lists every problem with its property path in one error", () => {
    const err = problemsOf({
      name: "ML_Team",
      podSecurity: "strict",
      quota: { requestsCpu: "-2", limitsMemory: "lots", gpus: -1, pods: 1.5 },
      containerDefaults: { requestMemory: "2Gi", limitMemory: "1Gi" },
      labels: { "pod-security.kubernetes.io/enforce": "privileged" },
    });
    expect(err.problems.map((p) => p.path)).toEqual([
      "name",
      "podSecurity",
      "quota.requestsCpu",
      "quota.limitsMemory",
      "quota.pods",
      "quota.gpus",
      "containerDefaults.requestMemory",
      'labels["pod-security.kubernetes.io/enforce"]',
    ]);
    expect(err.message).toMatch(/^PlatformNamespace "ML_Team": 8 invalid arguments:\n/);
    expect(err.message).toContain('  - name = "ML_Team": must be a DNS-1123 label');
    expect(err.message).toContain('Fix: use a name such as "ml-team".');
    expect(err.message).toContain('  - quota.requestsCpu = "-2": must be zero or more.');
    expect(err.message).toContain("  - quota.gpus = -1: must be a whole number 0 or more.");
    expect(err.message).toContain(
      'containerDefaults.requestMemory = "2Gi": is more than containerDefaults.limitMemory ("1Gi")',
    );
  });

  it("reports a missing name and a wrong type", () => {
    const err = problemsOf({ quota: { pods: "many" } });
    expect(err.problems.map((p) => `${p.path}=${JSON.stringify(p.value)}`)).toEqual([
      "name=undefined",
      'quota.pods="many"',
    ]);
    expect(err.message).toContain("name = (not set)");
  });

  it("rejects a name longer than 63 characters", () => {
    expect(problemsOf({ name: "a".repeat(64) }).problems[0]?.path).toBe("name");
  });

  it("rejects quota requests above the limits", () => {
    const err = problemsOf({ name: "ml", quota: { requestsCpu: "20", limitsCpu: "10" } });
    expect(err.problems).toEqual([
      {
        path: "quota.requestsCpu",
        value: "20",
        message: 'is more than quota.limitsCpu ("10").',
        fix: 'lower it to at most "10" or raise quota.limitsCpu.',
      },
    ]);
  });
});
