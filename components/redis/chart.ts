import { Chart } from "cdk8s";
import type { Construct } from "constructs";
import {
  addClientPolicies,
  containerResources,
  dataVolumeClaim,
  objectAdder,
  podPeer,
  RESTRICTED_CONTAINER_SECURITY,
  recommendedLabels,
  restrictedPodSecurity,
  scratchVolume,
  secretEnv,
  selectorLabels,
} from "../shared";
import { REDIS_PORT, type RedisConfig } from "./config";

const UID = 999; // the `valkey` / `redis` user of the official images

/**
 * Starts the server with the password from the environment written into a config file in the pod's
 * private scratch folder (so it is in no argument list, which any process in the pod could read).
 */
export const REDIS_SCRIPT = [
  "set -eu",
  "umask 077",
  'printf "requirepass %s\\n" "$REDIS_PASSWORD" >/tmp/auth.conf',
  'exec redis-server /tmp/auth.conf "$@"',
].join("\n");

/** The server's settings (after the config file): persistence, memory bound, no dangerous commands. */
export function redisArgs(config: RedisConfig): string[] {
  return [
    "--port",
    String(REDIS_PORT),
    "--bind",
    "0.0.0.0",
    "--protected-mode",
    "no",
    "--dir",
    "/data",
    "--appendonly",
    "yes",
    "--maxmemory",
    config.maxMemory,
    "--maxmemory-policy",
    config.maxMemoryPolicy,
    "--rename-command",
    "FLUSHALL",
    "",
    "--rename-command",
    "CONFIG",
    "",
  ];
}

export function redisSelector(config: Pick<RedisConfig, "name">) {
  return selectorLabels("redis", config.name, "server");
}

/**
 * A single Redis-compatible server (Valkey by default) for Feast's online store: a StatefulSet with
 * an append-only file on a PVC, password authentication (from a Secret), a memory bound, ingress
 * only from the consumers and egress from each consumer to it.
 */
export class RedisChart extends Chart {
  constructor(scope: Construct, id: string, config: RedisConfig) {
    super(scope, id, { disableResourceNameHashes: true });
    const labels = (component: string) =>
      recommendedLabels({ name: "redis", instance: config.name, component });
    const obj = objectAdder(this, config.namespace, "redis", config.name);
    const selector = redisSelector(config);
    obj("sa", "v1", "ServiceAccount", config.name, "server", { automountServiceAccountToken: false });
    obj("svc", "v1", "Service", config.name, "server", {
      spec: {
        type: "ClusterIP",
        selector,
        ports: [{ name: "redis", port: REDIS_PORT, targetPort: "redis" }],
      },
    });
    const ping = {
      exec: {
        command: ["sh", "-c", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p 6379 ping | grep -q PONG'],
      },
    };
    obj("sts", "apps/v1", "StatefulSet", config.name, "server", {
      spec: {
        serviceName: config.name,
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: labels("server") },
          spec: {
            serviceAccountName: config.name,
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurity(UID),
            containers: [
              {
                name: "redis",
                image: config.image,
                command: ["sh", "-c", REDIS_SCRIPT, "redis"],
                args: redisArgs(config),
                ports: [{ name: "redis", containerPort: REDIS_PORT }],
                env: [secretEnv("REDIS_PASSWORD", config.secretName, "password")],
                resources: containerResources(config.resources),
                readinessProbe: { ...ping, periodSeconds: 5, failureThreshold: 3 },
                livenessProbe: { tcpSocket: { port: "redis" }, initialDelaySeconds: 10, periodSeconds: 10 },
                securityContext: RESTRICTED_CONTAINER_SECURITY,
                volumeMounts: [
                  { name: "data", mountPath: "/data" },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [scratchVolume("tmp", "16Mi")],
          },
        },
        volumeClaimTemplates: [
          dataVolumeClaim(
            recommendedLabels({ name: "redis", instance: config.name }),
            config.storage,
            config.storageClassName,
          ),
        ],
      },
    });
    addClientPolicies(obj, {
      name: config.name,
      serverSelector: selector,
      peers: [podPeer(selector)],
      port: REDIS_PORT,
      clients: config.consumers,
    });
  }
}
