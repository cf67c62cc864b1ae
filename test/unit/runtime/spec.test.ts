import { describe, expect, it } from "vitest";
import { parsePipelineYaml, SpecError } from "../../../runtime/src/spec";

const good = `apiVersion: mlops-platform.io/v1
kind: Pipeline
metadata:
  name: churn
spec:
  params: { model: churn }
  concurrency: { key: model, policy: replace }
  triggers:
    - type: schedule
      cron: "0 3 * * *"
    - type: git
      secretEnv: GIT_WEBHOOK_SECRET
  steps:
    - name: prepare
      image: ghcr.io/acme/prep:1.0
      command: [python, prep.py]
    - name: train
      dependsOn: [prepare]
      image: ghcr.io/acme/train:1.0
      command: [python, train.py]
      resources: { gpu: 1, memory: 8Gi }
      retries: { limit: 2, backoffSeconds: 5 }
    - name: approve
      kind: approval
      dependsOn: [train]
`;

function problems(text: string) {
  try {
    parsePipelineYaml(text, "pipeline.yaml");
  } catch (err) {
    if (err instanceof SpecError) return err.problems;
    throw err;
  }
  return [];
}

describe("pipeline spec", () => {
  it("parses a valid spec with defaults applied", () => {
    const p = parsePipelineYaml(good, "pipeline.yaml");
    expect(p.name).toBe("churn");
    expect(p.concurrency).toEqual({ key: "model", policy: "replace" });
    expect(p.steps.map((s) => [s.name, s.kind, s.dependsOn])).toEqual([
      ["prepare", "container", []],
      ["train", "container", ["prepare"]],
      ["approve", "approval", ["train"]],
    ]);
    const train = p.steps[1];
    expect(train?.kind === "container" && train.container.resources).toEqual({ memory: "8Gi", gpu: 1 });
    expect(train?.retries).toEqual({ limit: 2, backoffSeconds: 5, factor: 2, maxBackoffSeconds: 600 });
  });

  it("names file, line, path and fix for every problem at once", () => {
    const bad = good
      .replace("name: churn", "name: Churn_Model")
      .replace("policy: replace", "policy: newest")
      .replace("dependsOn: [prepare]", "dependsOn: [prepare, evaluate]")
      .replace("gpu: 1,", "gpu: -1,")
      .replace('cron: "0 3 * * *"', 'cron: "daily"');
    const ps = problems(bad);
    expect(ps.map((p) => p.path)).toEqual([
      "metadata.name",
      "spec.concurrency.policy",
      "spec.triggers[0].cron",
      "spec.steps[1].resources.gpu",
      "spec.steps[1].dependsOn[1]",
    ]);
    expect(ps[0]).toMatchObject({ file: "pipeline.yaml", line: 4 });
    expect(ps[4]?.message).toBe('names "evaluate", which is not a step.');
    expect(ps[4]?.fix).toBe("use one of prepare, train, approve.");
    try {
      parsePipelineYaml(bad, "pipeline.yaml");
    } catch (err) {
      expect((err as Error).message).toMatch(
        /^5 problems in the pipeline spec:\n {2}- pipeline\.yaml:4: metadata\.name: /,
      );
    }
  });

  it("finds cycles, duplicate names, secrets in env and YAML syntax errors", () => {
    const cyc = good.replace("    - name: prepare\n", "    - name: prepare\n      dependsOn: [approve]\n");
    expect(problems(cyc).map((p) => p.message)).toEqual([
      "forms a cycle: prepare -> approve -> train -> prepare.",
    ]);
    expect(problems(good.replace("name: train", "name: prepare")).map((p) => p.path)).toContain(
      "spec.steps[1].name",
    );
    const secret = good.replace(
      "command: [python, prep.py]",
      "command: [python, prep.py]\n      env: { DB_PASSWORD: hunter2 }",
    );
    expect(problems(secret)).toMatchObject([{ path: "spec.steps[0].env.DB_PASSWORD" }]);
    expect(problems("spec: [unclosed")[0]).toMatchObject({ path: "(document)", line: 1 });
  });
});
