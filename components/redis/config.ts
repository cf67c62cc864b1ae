import { type ContainerResources, check, type PodLabels, Problems } from "../shared";

/** A service that uses Redis (e.g. Feast's online store). */
export interface RedisConsumer {
  /** A DNS-1123 label naming the consumer (used in NetworkPolicy names). */
  readonly name: string;
  /** Labels of the consumer's pods in the same namespace: the only pods admitted. */
  readonly podLabels: PodLabels;
}

export interface RedisArgs {
  /** Namespace for every object. */
  readonly namespace: string;
  /** Name of the Service / StatefulSet and prefix of the Secret. @default "redis" */
  readonly name?: string;
  /** Services admitted to the server port. */
  readonly consumers: readonly RedisConsumer[];
  /**
   * Server image: Valkey (BSD-3-Clause, the Linux Foundation's fork of Redis 7.2; Redis 7.4+ is not
   * open source). Any image with `redis-server` and `redis-cli` on PATH works (Valkey ships both names).
   * @default "docker.io/valkey/valkey:8.1.4"
   */
  readonly image?: string;
  /** Size of the append-only-file volume. @default "5Gi" */
  readonly storage?: string;
  /** StorageClass of the data volume. @default - the cluster's default class */
  readonly storageClassName?: string;
  /** `maxmemory` (keep it below the memory limit). @default "768mb" */
  readonly maxMemory?: string;
  /**
   * `maxmemory-policy`: `noeviction` refuses writes when full instead of silently dropping
   * features; choose an LRU policy for a cache.
   * @default "noeviction"
   */
  readonly maxMemoryPolicy?: "noeviction" | "allkeys-lru" | "volatile-lru" | "allkeys-lfu" | "volatile-lfu";
  /** @default { requestCpu: "100m", requestMemory: "1Gi", limitMemory: "1Gi" } */
  readonly resources?: Partial<ContainerResources>;
}

export interface RedisConfig {
  readonly namespace: string;
  readonly name: string;
  readonly consumers: readonly RedisConsumer[];
  readonly image: string;
  readonly storage: string;
  readonly storageClassName?: string;
  readonly maxMemory: string;
  readonly maxMemoryPolicy: NonNullable<RedisArgs["maxMemoryPolicy"]>;
  readonly resources: ContainerResources;
  readonly secretName: string;
  readonly host: string;
}

export const redisDefaults = {
  name: "redis",
  image: "docker.io/valkey/valkey:8.1.4",
  storage: "5Gi",
  maxMemory: "768mb",
  maxMemoryPolicy: "noeviction",
  resources: { requestCpu: "100m", requestMemory: "1Gi", limitMemory: "1Gi" },
} as const;

export const REDIS_PORT = 6379;

/** Validates Args and applies defaults; every problem with its path, nothing created on error. */
export function resolveRedis(args: RedisArgs, component = "Redis"): RedisConfig {
  const p = new Problems();
  p.dnsLabel("namespace", args?.namespace);
  const name = args?.name ?? redisDefaults.name;
  p.dnsLabel("name", name);
  const consumers = args?.consumers;
  check.podsRefs(p, "consumers", consumers, { min: 1, example: '{ name: "feast", podLabels: { ... } }' });
  check.image(p, "image", args?.image);
  p.quantity("storage", args?.storage, { positive: true });
  const maxMemory = args?.maxMemory ?? redisDefaults.maxMemory;
  if (typeof maxMemory !== "string" || !/^[1-9]\d*(kb|mb|gb)$/.test(maxMemory))
    p.add("maxMemory", maxMemory, "is not a Redis memory size.", 'write it like "768mb" or "2gb".');
  p.oneOf("maxMemoryPolicy", args?.maxMemoryPolicy, [
    "noeviction",
    "allkeys-lru",
    "volatile-lru",
    "allkeys-lfu",
    "volatile-lfu",
  ] as const);
  const resources = { ...redisDefaults.resources, ...(args?.resources ?? {}) };
  check.resources(p, "resources", resources);
  p.throwIfAny(component);
  return {
    namespace: args.namespace,
    name,
    consumers: [...consumers],
    image: args.image ?? redisDefaults.image,
    storage: args.storage ?? redisDefaults.storage,
    ...(args.storageClassName ? { storageClassName: args.storageClassName } : {}),
    maxMemory,
    maxMemoryPolicy: args.maxMemoryPolicy ?? redisDefaults.maxMemoryPolicy,
    resources,
    secretName: `${name}-credentials`,
    host: `${name}.${args.namespace}.svc`,
  };
}
