import { mkdtempSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { subjectsFromText } from "../../../policies/adapters/manifests";
import { run } from "../../../policies/cli";
import { evaluate } from "../../../policies/engine/evaluate";
import type { Subject } from "../../../policies/engine/types";
import { allRules } from "../../../policies/rules";

const FIXTURES = path.resolve(__dirname, "../../../policies/fixtures");
const NOW = new Date("2026-11-23T00:00:00Z");

/** The failing fixture of a rule, with annotations added to its first object of `kind`. */
function withAnnotations(ruleId: string, kind: string, annotations: Record<string, string>): Subject[] {
  const { subjects } = subjectsFromText(
    readFileSync(path.join(FIXTURES, ruleId, "fail.yaml"), "utf8"),
    "f.yaml",
  );
  return subjects.map((s) => {
    if (s.kind !== kind) return s;
    const metadata = { ...(s.object.metadata as object), annotations };
    return { ...s, object: { ...s.object, metadata } };
  });
}

const findingsOf = (subjects: Subject[], ruleId: string) =>
  evaluate(subjects, allRules, { now: NOW }).findings.filter((f) => f.ruleId === ruleId);

describe("waivers", () => {
  const waiver = "owner=team-ml; expires=2027-01-31; reason=GPU driver probe";

  it("a valid waiver turns the finding into `waived`, still reported with owner and expiry", () => {
    const [f] = findingsOf(
      withAnnotations("pod-no-privileged", "Deployment", {
        "waiver.mlops-platform.io/pod-no-privileged": waiver,
      }),
      "pod-no-privileged",
    );
    expect(f?.status).toBe("waived");
    expect(f?.waiver).toEqual({ owner: "team-ml", reason: "GPU driver probe", expires: "2027-01-31" });
  });

  it("a per-container waiver covers only that container", () => {
    const other = findingsOf(
      withAnnotations("pod-no-privileged", "Deployment", {
        "waiver.mlops-platform.io/pod-no-privileged.sidecar": waiver,
      }),
      "pod-no-privileged",
    );
    expect(other[0]?.status).toBe("violation");
    const same = findingsOf(
      withAnnotations("pod-no-privileged", "Deployment", {
        "waiver.mlops-platform.io/pod-no-privileged.web": waiver,
      }),
      "pod-no-privileged",
    );
    expect(same[0]?.status).toBe("waived");
  });

  it("an expired waiver fails, saying it expired", () => {
    const [f] = findingsOf(
      withAnnotations("pod-no-privileged", "Deployment", {
        "waiver.mlops-platform.io/pod-no-privileged": "owner=a; expires=2026-01-01; reason=r",
      }),
      "pod-no-privileged",
    );
    expect(f?.status).toBe("violation");
    expect(f?.waiver?.note).toBe("waiver expired on 2026-01-01");
  });

  it("an unwaivable rule ignores its waiver and says so", () => {
    const [f] = findingsOf(
      withAnnotations("env-no-secret-literals", "Deployment", {
        "waiver.mlops-platform.io/env-no-secret-literals": waiver,
      }),
      "env-no-secret-literals",
    );
    expect(f?.status).toBe("violation");
    expect(f?.waiver?.note).toBe("this rule cannot be waived");
  });

  it("a malformed waiver waives nothing and is an error naming the key, the problems and the fix", () => {
    const subjects = withAnnotations("pod-no-privileged", "Deployment", {
      "waiver.mlops-platform.io/pod-no-privilegd": "owner=a",
    });
    const report = evaluate(subjects, allRules, { now: NOW });
    expect(report.findings.find((f) => f.ruleId === "pod-no-privileged")?.status).toBe("violation");
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatch(
      /waiver\.mlops-platform\.io\/pod-no-privilegd = "owner=a": unknown rule 'pod-no-privilegd', missing reason, missing expires\. Fix:/,
    );
  });
});

describe("unknown values", () => {
  it("a rule that cannot see a value reports `not-evaluated`, counted, never a silent pass", () => {
    const subject: Subject = {
      layer: "kubernetes",
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "c",
      namespace: "ns",
      object: {},
      source: { uri: "u" },
    };
    const report = evaluate(
      [subject],
      [
        {
          id: "probe",
          title: "t",
          severity: "low",
          enforcement: "mandatory",
          fix: "f",
          category: "c",
          applies: () => true,
          check: () => ({ notEvaluated: "data" }),
        },
      ],
    );
    expect(report.counts.notEvaluated).toBe(1);
    expect(report.findings[0]).toMatchObject({ status: "not-evaluated", path: "data" });
  });
});

describe("mlops-policy CLI", () => {
  const capture = () => {
    let out = "";
    const io = {
      stdin: () => "",
      out: (s: string) => {
        out += s;
      },
    };
    return { io, text: () => out };
  };

  it("check <dir> --format sarif: valid SARIF 2.1.0 with rule ids, locations and fix hints; exit 1", () => {
    const c = capture();
    const code = run(["check", path.join(FIXTURES, "pod-no-host-path"), "--format", "sarif"], c.io);
    expect(code).toBe(1);
    const sarif = JSON.parse(c.text());
    expect(sarif.version).toBe("2.1.0");
    const runResult = sarif.runs[0];
    expect(runResult.tool.driver.rules.length).toBe(allRules.length);
    const result = runResult.results.find((r: { ruleId: string }) => r.ruleId === "pod-no-host-path");
    expect(result.level).toBe("error");
    expect(result.locations[0].physicalLocation.artifactLocation.uri).toMatch(
      /pod-no-host-path\/fail\.yaml$/,
    );
    expect(result.locations[0].physicalLocation.region.startLine).toBeGreaterThan(1);
    expect(result.message.text).toContain("Fix: Use a PersistentVolumeClaim");
    expect(runResult.tool.driver.rules[result.ruleIndex].id).toBe("pod-no-host-path");
  });

  it("exit 0 on a compliant set; JUnit and JSON outputs parse", () => {
    const c = capture();
    expect(
      run(["check", path.join(FIXTURES, "pod-no-host-path", "pass.yaml"), "--format", "junit"], c.io),
    ).toBe(0);
    expect(c.text()).toMatch(/<testsuite name="mlops-policy" tests="0" failures="0"/);
    const j = capture();
    const dir = mkdtempSync(path.join(os.tmpdir(), "policy-"));
    expect(
      run(
        [
          "check",
          path.join(FIXTURES, "gpu-limit-set", "fail.yaml"),
          "--format",
          "json",
          "--output",
          path.join(dir, "r.json"),
        ],
        j.io,
      ),
    ).toBe(1);
    expect(JSON.parse(readFileSync(path.join(dir, "r.json"), "utf8")).counts.mandatory).toBeGreaterThan(0);
  });

  it("bad input: invalid YAML is exit 2 with file and line; an unknown format names the choices", () => {
    const c = capture();
    const io = { ...c.io, stdin: () => "apiVersion: v1\nkind: [unclosed\n" };
    expect(run(["check", "-"], io)).toBe(2);
    expect(c.text()).toMatch(/ERROR {3}<stdin>:\d+:\d+: invalid YAML/);
    expect(() => run(["check", "x", "--format", "xml"], c.io)).toThrow(
      "--format xml is not one of text, json, sarif, junit",
    );
    expect(() => run(["check", "/no/such/dir"], c.io)).toThrow("path '/no/such/dir' does not exist");
  });
});
