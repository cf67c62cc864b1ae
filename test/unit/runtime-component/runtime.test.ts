import { describe, expect, it } from "vitest";
import { JOB_RULES, Runtime, renderRuntime, resolveRuntime } from "../../../components/runtime";
import { type ArgsValidationError, findObject, type PostgresConnection } from "../../../components/shared";
import { installStrictMocks, resolved } from "../../helpers/pulumi-mocks";

const database: PostgresConnection = {
  host: "postgres.data.svc",
  port: 5432,
  database: "runtime",
  username: "runtime",
  sslMode: "disable",
  secretName: "postgres-runtime-credentials",
};
const base = { namespace: "data", database, jobNamespace: "training", servingNamespaces: ["serving"] };

describe("Runtime component", () => {
  const objects = renderRuntime(resolveRuntime(base));

  it("grants Jobs and pod logs in the step namespace, model deployments in serving, nothing in its own", () => {
    const roles = objects.filter((o) => o.kind === "Role" || o.kind === "ClusterRole");
    expect(roles.map((r) => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`)).toEqual([
      "Role/training/runtime-jobs",
      "Role/serving/runtime-serving",
    ]);
    expect((findObject(objects, "Role", "runtime-jobs") as { rules?: unknown }).rules).toEqual(JOB_RULES);
    const bindings = objects.filter((o) => o.kind === "RoleBinding");
    for (const b of bindings)
      expect((b as { subjects?: unknown }).subjects).toEqual([
        { kind: "ServiceAccount", name: "runtime", namespace: "data" },
      ]);
    expect(JSON.stringify(roles)).not.toMatch(/"secrets"|"\*"/);
  });

  it("runs the kubernetes executor with the platform's GPU placement and the database URL from its Secret", () => {
    const env = Object.fromEntries(
      (
        (
          findObject(objects, "Deployment", "runtime").spec as {
            template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
          }
        ).template.spec.containers[0]?.env ?? []
      ).map((e) => [e.name, e]),
    );
    expect(env.MLOPS_GPU_TOLERATIONS?.value).toBe(
      '[{"key":"nvidia.com/gpu","operator":"Equal","value":"present","effect":"NoSchedule"}]',
    );
    expect(env.MLOPS_GPU_NODE_SELECTOR?.value).toBe('{"nvidia.com/gpu.present":"true"}');
    expect(env.MLOPS_DATABASE_URL?.value).toBe(
      "postgresql://$(MLOPS_DB_USERNAME):$(MLOPS_DB_PASSWORD)@$(MLOPS_DB_HOST):$(MLOPS_DB_PORT)/$(MLOPS_DB_DATABASE)?sslmode=disable",
    );
    expect(env.MLOPS_ADMIN_TOKEN).toEqual({
      name: "MLOPS_ADMIN_TOKEN",
      valueFrom: { secretKeyRef: { name: "runtime-admin-token", key: "token" } },
    });
    expect(findObject(objects, "ServiceAccount", "pipeline-step")).toMatchObject({
      metadata: { namespace: "training" },
      automountServiceAccountToken: false,
    });
    expect(objects.some((o) => o.kind === "ServiceMonitor")).toBe(false);
    expect(
      renderRuntime(resolveRuntime({ ...base, serviceMonitor: true })).some(
        (o) => o.kind === "ServiceMonitor",
      ),
    ).toBe(true);
  });

  it("validates Args with paths", () => {
    try {
      resolveRuntime({
        namespace: "data",
        jobNamespace: "Training",
        servingNamespaces: ["Training"],
        replicas: 1,
      } as never);
      expect.unreachable();
    } catch (err) {
      expect((err as ArgsValidationError).problems.map((p) => p.path)).toEqual([
        "jobNamespace",
        "servingNamespaces[0]",
        "servingNamespaces",
        "database",
        "replicas",
      ]);
    }
  });

  it("under mocks: generates the admin token Secret and exposes the URL", async () => {
    await installStrictMocks();
    const r = new Runtime("runtime", base);
    expect(await resolved(r.url)).toBe("http://runtime.data.svc:8080");
    expect(await resolved(r.urn)).toContain("::mlops:runtime:Runtime::runtime");
  });
});
