import { beforeAll, describe, expect, it } from "vitest";
import { Redis, renderRedis, resolveRedis } from "../../../components/redis";
import { type ArgsValidationError, findObject } from "../../../components/shared";
import { installStrictMocks, type RecordedResource, resolved } from "../../helpers/pulumi-mocks";

const base = { namespace: "data", consumers: [{ name: "feast", podLabels: { app: "feast" } }] };

describe("Redis", () => {
  it("lists every problem with its path", () => {
    try {
      resolveRedis({
        namespace: "data",
        consumers: [],
        maxMemory: "1 GB",
        maxMemoryPolicy: "random" as never,
        storage: "-1",
      });
      expect.unreachable();
    } catch (err) {
      expect((err as ArgsValidationError).problems.map((p) => p.path)).toEqual([
        "consumers",
        "storage",
        "maxMemory",
        "maxMemoryPolicy",
      ]);
    }
  });

  it("keeps the password out of the manifest and the argument list", () => {
    const objects = renderRedis(resolveRedis(base));
    const sts = JSON.stringify(findObject(objects, "StatefulSet", "redis"));
    expect(sts).toContain(
      '{"name":"REDIS_PASSWORD","valueFrom":{"secretKeyRef":{"key":"password","name":"redis-credentials"}}}',
    );
    expect(sts).not.toContain("--requirepass");
    expect(sts).toContain('"--maxmemory-policy","noeviction"');
    expect(JSON.stringify(findObject(objects, "NetworkPolicy", "redis-server-ingress"))).toContain(
      '{"app":"feast"}',
    );
    expect(objects.some((o) => o.kind === "Secret")).toBe(false);
  });

  describe("under Pulumi mocks", () => {
    let recorded: RecordedResource[];
    beforeAll(async () => {
      recorded = (await installStrictMocks()).resources;
    });
    it("generates the password into the credentials Secret and exposes the connection", async () => {
      const r = new Redis("redis", base);
      expect(await resolved(r.credentials.urn)).toContain("kubernetes:core/v1:Secret::redis-credentials");
      expect(await resolved(r.connection)).toEqual({
        host: "redis.data.svc",
        port: 6379,
        secretName: "redis-credentials",
      });
      expect(recorded.some((x) => x.name === "redis-password")).toBe(true);
    });
  });
});
