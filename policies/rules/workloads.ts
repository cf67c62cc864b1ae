import type { Rule, Subject, Violation } from "../engine/types";
import { arr, containerRule, get, kindIs, obj, podRule, podTemplateLabels, rule, selects } from "./helpers";

/** Resources, probes, availability and images. */

const LONG_RUNNING = new Set([
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
  "Pod",
]);
const isLongRunning = (s: Subject) => s.layer === "kubernetes" && LONG_RUNNING.has(s.kind);
const isReplicated = kindIs("Deployment", "StatefulSet");

function replicas(subject: Subject): number {
  const r = get(subject.object, "spec.replicas");
  return r === undefined ? 1 : Number(r);
}

function resourceRule(
  id: string,
  field: string,
  title: string,
  severity: Rule["severity"],
  enforcement: Rule["enforcement"],
): Rule {
  return containerRule({
    id,
    title,
    severity,
    enforcement,
    category: "resources",
    fix: `Set resources.${field} on every container (LimitRange defaults do not show in review).`,
    lists: ["containers", "initContainers"],
    checkContainer: (c) =>
      get(c.container, `resources.${field}`) === undefined
        ? { path: `${c.path}.resources.${field}`, message: `container '${c.name}' has no resources.${field}` }
        : undefined,
  });
}

/** Parses an image reference into registry (explicit or not), tag and digest. */
export function parseImage(image: string): { registry?: string; tag?: string; digest?: string } {
  const [withoutDigest, digest] = image.split("@", 2) as [string, string | undefined];
  const slash = withoutDigest.indexOf("/");
  const first = slash < 0 ? "" : withoutDigest.slice(0, slash);
  const registry = first.includes(".") || first.includes(":") || first === "localhost" ? first : undefined;
  const lastPart = withoutDigest.slice(withoutDigest.lastIndexOf("/") + 1);
  const colon = lastPart.indexOf(":");
  return {
    ...(registry ? { registry } : {}),
    ...(colon >= 0 ? { tag: lastPart.slice(colon + 1) } : {}),
    ...(digest ? { digest } : {}),
  };
}

function imageRule(def: {
  id: string;
  title: string;
  severity: Rule["severity"];
  enforcement: Rule["enforcement"];
  fix: string;
  bad: (image: ReturnType<typeof parseImage>) => string | undefined;
}): Rule {
  const { bad, ...rest } = def;
  return containerRule({
    ...rest,
    category: "images",
    checkContainer: (c) => {
      const image = String(c.container.image ?? "");
      const why = bad(parseImage(image));
      return why
        ? { path: `${c.path}.image`, message: `container '${c.name}' image '${image}' ${why}` }
        : undefined;
    },
  });
}

export const workloadRules: Rule[] = [
  resourceRule("container-cpu-requests", "requests.cpu", "Containers request CPU", "medium", "mandatory"),
  resourceRule(
    "container-memory-requests",
    "requests.memory",
    "Containers request memory",
    "medium",
    "mandatory",
  ),
  resourceRule("container-memory-limits", "limits.memory", "Containers limit memory", "medium", "mandatory"),
  resourceRule(
    "container-ephemeral-storage",
    "limits.ephemeral-storage",
    "Containers limit ephemeral storage",
    "low",
    "advisory",
  ),
  podRule({
    id: "emptydir-size-limit",
    title: "emptyDir volumes have a size limit",
    severity: "low",
    enforcement: "advisory",
    category: "resources",
    fix: "Set emptyDir.sizeLimit so one pod cannot fill the node's disk (or memory for medium: Memory).",
    checkPod: (pod) =>
      arr(pod.spec.volumes).flatMap((v, i): Violation[] => {
        const empty = obj(obj(v)?.emptyDir);
        return empty && empty.sizeLimit === undefined
          ? [
              {
                path: `${pod.path}.volumes[${i}].emptyDir.sizeLimit`,
                message: `emptyDir '${String(obj(v)?.name)}' has no sizeLimit`,
              },
            ]
          : [];
      }),
  }),
  containerRule({
    id: "container-readiness-probe",
    title: "Long-running containers have a readiness probe",
    severity: "medium",
    enforcement: "mandatory",
    category: "probes",
    fix: "Add a readinessProbe on the port the container serves.",
    applies: isLongRunning,
    lists: ["containers"],
    checkContainer: (c) =>
      c.container.readinessProbe === undefined
        ? { path: `${c.path}.readinessProbe`, message: `container '${c.name}' has no readinessProbe` }
        : undefined,
  }),
  containerRule({
    id: "container-liveness-probe",
    title: "Long-running containers have a liveness or startup probe",
    severity: "low",
    enforcement: "advisory",
    category: "probes",
    fix: "Add a livenessProbe (and a startupProbe for slow starts such as model loading).",
    applies: isLongRunning,
    lists: ["containers"],
    checkContainer: (c) =>
      c.container.livenessProbe === undefined && c.container.startupProbe === undefined
        ? {
            path: `${c.path}.livenessProbe`,
            message: `container '${c.name}' has no liveness or startup probe`,
          }
        : undefined,
  }),
  containerRule({
    id: "probes-distinct",
    title: "Liveness and readiness probes differ",
    severity: "low",
    enforcement: "advisory",
    category: "probes",
    fix: "Make liveness check only that the process is alive; readiness that it can serve.",
    applies: isLongRunning,
    lists: ["containers"],
    checkContainer: (c) =>
      c.container.livenessProbe !== undefined &&
      JSON.stringify(c.container.livenessProbe) === JSON.stringify(c.container.readinessProbe)
        ? {
            path: `${c.path}.livenessProbe`,
            message: `container '${c.name}' liveness and readiness probes are identical`,
          }
        : undefined,
  }),
  rule({
    id: "workload-replicas",
    title: "Services run at least two replicas",
    severity: "medium",
    enforcement: "advisory",
    category: "availability",
    fix: "Set spec.replicas >= 2 (environment presets lower it for local only).",
    applies: isReplicated,
    check: (s) =>
      replicas(s) < 2 ? [{ path: "spec.replicas", message: `${s.kind} runs ${replicas(s)} replica(s)` }] : [],
  }),
  rule({
    id: "workload-has-pdb",
    title: "Replicated services have a PodDisruptionBudget",
    severity: "medium",
    enforcement: "mandatory",
    category: "availability",
    fix: "Add a PodDisruptionBudget selecting the pods with maxUnavailable: 1.",
    applies: isReplicated,
    check: (s, ctx) => {
      if (replicas(s) < 2) return [];
      const labels = podTemplateLabels(s);
      const covered = ctx
        .byKind("PodDisruptionBudget")
        .some((pdb) => pdb.namespace === s.namespace && selects(get(pdb.object, "spec.selector"), labels));
      return covered
        ? []
        : [{ path: "spec.selector", message: `no PodDisruptionBudget selects ${s.kind} ${s.name}` }];
    },
  }),
  rule({
    id: "pdb-allows-eviction",
    title: "PodDisruptionBudgets still allow an eviction",
    severity: "medium",
    enforcement: "mandatory",
    category: "availability",
    fix: "Use maxUnavailable: 1 (or a minAvailable below the replica count) so node drains can proceed.",
    applies: kindIs("PodDisruptionBudget"),
    check: (s) => {
      const max = get(s.object, "spec.maxUnavailable");
      const min = get(s.object, "spec.minAvailable");
      if (max === 0 || max === "0%")
        return [{ path: "spec.maxUnavailable", message: "maxUnavailable 0 blocks every eviction" }];
      if (min === "100%")
        return [{ path: "spec.minAvailable", message: "minAvailable 100% blocks every eviction" }];
      return [];
    },
  }),
  podRule({
    id: "workload-spread",
    title: "Replicated services spread across nodes",
    severity: "low",
    enforcement: "advisory",
    category: "availability",
    fix: "Add topologySpreadConstraints (kubernetes.io/hostname) or pod anti-affinity.",
    applies: isReplicated,
    checkPod: (pod, s) =>
      replicas(s) >= 2 &&
      pod.spec.topologySpreadConstraints === undefined &&
      get(pod.spec, "affinity.podAntiAffinity") === undefined
        ? [
            {
              path: `${pod.path}.topologySpreadConstraints`,
              message: `${s.kind} ${s.name} replicas may share one node`,
            },
          ]
        : [],
  }),
  rule({
    id: "no-bare-pods",
    title: "Pods are owned by a controller",
    severity: "medium",
    enforcement: "mandatory",
    category: "availability",
    fix: "Run the pod from a Deployment, StatefulSet or Job.",
    applies: kindIs("Pod"),
    check: () => [{ path: "kind", message: "a bare Pod is not restarted or rescheduled" }],
  }),
  rule({
    id: "no-deprecated-api",
    title: "No removed or deprecated API versions",
    severity: "high",
    enforcement: "mandatory",
    category: "availability",
    fix: "Move to the stable apiVersion (e.g. apps/v1, policy/v1, batch/v1, autoscaling/v2, networking.k8s.io/v1).",
    applies: (s) => s.layer === "kubernetes",
    check: (s) =>
      DEPRECATED_APIS.has(s.apiVersion) && DEPRECATED_APIS.get(s.apiVersion)?.has(s.kind)
        ? [{ path: "apiVersion", message: `${s.apiVersion} ${s.kind} is removed from current Kubernetes` }]
        : [],
  }),
  imageRule({
    id: "image-tag-not-latest",
    title: "Images name a tag other than latest",
    severity: "high",
    enforcement: "mandatory",
    fix: "Pin a version tag (better: a digest).",
    bad: (i) =>
      i.digest ? undefined : !i.tag ? "has no tag" : i.tag === "latest" ? "uses :latest" : undefined,
  }),
  imageRule({
    id: "image-digest-pinned",
    title: "Images are pinned by digest",
    severity: "low",
    enforcement: "advisory",
    fix: "Reference the image as repo:tag@sha256:... so a retag cannot change what runs.",
    bad: (i) => (i.digest?.startsWith("sha256:") ? undefined : "is not pinned by digest"),
  }),
  imageRule({
    id: "image-registry-explicit",
    title: "Images name their registry",
    severity: "low",
    enforcement: "advisory",
    fix: "Write the registry host (e.g. docker.io/library/postgres:17) so mirrors and allow-lists apply.",
    bad: (i) => (i.registry ? undefined : "does not name a registry"),
  }),
];

/** apiVersion -> kinds served there no longer (removed in 1.16-1.26). */
const DEPRECATED_APIS = new Map<string, ReadonlySet<string>>([
  [
    "extensions/v1beta1",
    new Set(["Deployment", "DaemonSet", "ReplicaSet", "Ingress", "NetworkPolicy", "PodSecurityPolicy"]),
  ],
  ["apps/v1beta1", new Set(["Deployment", "StatefulSet"])],
  ["apps/v1beta2", new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"])],
  ["policy/v1beta1", new Set(["PodDisruptionBudget", "PodSecurityPolicy"])],
  ["batch/v1beta1", new Set(["CronJob"])],
  ["networking.k8s.io/v1beta1", new Set(["Ingress", "IngressClass"])],
  ["autoscaling/v2beta1", new Set(["HorizontalPodAutoscaler"])],
  ["autoscaling/v2beta2", new Set(["HorizontalPodAutoscaler"])],
  [
    "rbac.authorization.k8s.io/v1beta1",
    new Set(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]),
  ],
]);
