import { describe, expect, it } from "vitest";
import { bootstrapSql, renderPostgres, resolvePostgres } from "../../../components/postgres";
import { ArgsValidationError } from "../../../components/shared";

const consumers = [{ name: "mlflow", podLabels: { app: "mlflow" } }];

function problemsOf(args: unknown): { path: string }[] {
  try {
    resolvePostgres(args as Parameters<typeof resolvePostgres>[0]);
  } catch (err) {
    if (err instanceof ArgsValidationError) return [...err.problems];
    throw err;
  }
  return [];
}

describe("Postgres Args", () => {
  it("lists every problem with its path", () => {
    const paths = problemsOf({
      namespace: "Bad_NS",
      mode: "external",
      external: { host: "", port: 70000, adminSecretName: "admin" },
      consumers: [
        { name: "mlflow", podLabels: {} },
        { name: "mlflow", podLabels: { a: "b" } },
      ],
    }).map((p) => p.path);
    expect(paths).toEqual([
      "namespace",
      "external.host",
      "external.port",
      "consumers[0].podLabels",
      "consumers[1].name",
    ]);
  });

  it("rejects an unknown mode, external without its block, and no consumers", () => {
    expect(problemsOf({ namespace: "d", mode: "cloud", consumers }).map((p) => p.path)).toEqual(["mode"]);
    expect(problemsOf({ namespace: "d", mode: "external", consumers }).map((p) => p.path)).toEqual([
      "external",
    ]);
    expect(problemsOf({ namespace: "d", consumers: [] }).map((p) => p.path)).toEqual(["consumers"]);
  });

  it("error messages name the value and the fix", () => {
    expect(() => resolvePostgres({ namespace: "d", mode: "external", consumers } as never)).toThrow(
      /external = \(not set\): is required when mode is "external"\. Fix: give external\.host/,
    );
  });
});

describe("PostgresChart", () => {
  const objects = renderPostgres(resolvePostgres({ namespace: "data", consumers }));
  const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);

  it("renders the server, its Service, NetworkPolicies and the bootstrap Job", () => {
    expect(kinds).toEqual(
      expect.arrayContaining([
        "StatefulSet/postgres",
        "Service/postgres",
        "NetworkPolicy/postgres-server-ingress",
        "NetworkPolicy/postgres-bootstrap-egress",
        "NetworkPolicy/postgres-mlflow-egress",
      ]),
    );
    expect(kinds.some((k) => /^Job\/postgres-bootstrap-[0-9a-f]{8}$/.test(k))).toBe(true);
  });

  it("puts no secret value in any object: passwords come from Secret references", () => {
    const text = JSON.stringify(objects);
    expect(text).not.toMatch(/"name":"(POSTGRES_PASSWORD|PGPASSWORD|MLOPS_PASSWORD_MLFLOW)","value"/);
    expect(objects.some((o) => o.kind === "Secret")).toBe(false);
  });

  it("external mode renders no server and lets the Job reach the external port", () => {
    const ext = renderPostgres(
      resolvePostgres({
        namespace: "data",
        mode: "external",
        external: { host: "db", adminSecretName: "rds" },
        consumers,
      }),
    );
    expect(ext.some((o) => o.kind === "StatefulSet")).toBe(false);
    const job = ext.find((o) => o.kind === "Job");
    expect(JSON.stringify(job)).toContain('"PGSSLMODE","value":"require"');
  });

  it("the bootstrap SQL never contains a password and is the same for the same consumers", () => {
    expect(bootstrapSql(consumers)).toBe(bootstrapSql(consumers));
    expect(bootstrapSql(consumers)).toContain("\\getenv pw_mlflow MLOPS_PASSWORD_MLFLOW");
  });
});
