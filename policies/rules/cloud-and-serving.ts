import type { Rule, Subject } from "../engine/types";
import { arr, containerRule, containers, get, isWorkload, obj, podSpec, rule } from "./helpers";
import { parseImage } from "./workloads";

/** Model-serving custom resources and the AWS layer (Pulumi resources by type token). */

const SERVING_KINDS = new Set(["SeldonDeployment", "InferenceService", "Model", "Server"]);
const isServing = (s: Subject) => s.layer === "kubernetes" && SERVING_KINDS.has(s.kind);

/** Every container spec inside a serving CR, wherever its schema nests them. */
function servingContainers(s: Subject): { path: string; container: Readonly<Record<string, unknown>> }[] {
  const out: { path: string; container: Readonly<Record<string, unknown>> }[] = [];
  const walk = (value: unknown, path: string) => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        walk(v, `${path}[${i}]`);
      });
    }
    const o = obj(value);
    if (!o) return;
    if (typeof o.image === "string" && typeof o.name === "string") out.push({ path, container: o });
    for (const [k, v] of Object.entries(o)) walk(v, path ? `${path}.${k}` : k);
  };
  walk(get(s.object, "spec"), "spec");
  return out;
}

const servingRules: Rule[] = [
  rule({
    id: "serving-image-digest",
    title: "Model server images are pinned by digest",
    severity: "high",
    enforcement: "mandatory",
    category: "serving",
    fix: "Reference model server images by @sha256 digest; a retag must not change what serves traffic.",
    applies: isServing,
    check: (s) =>
      servingContainers(s)
        .filter((c) => !parseImage(String(c.container.image)).digest)
        .map((c) => ({
          path: `${c.path}.image`,
          message: `image ${String(c.container.image)} is not pinned by digest`,
        })),
  }),
  rule({
    id: "serving-resources",
    title: "Model server containers set requests and memory limits",
    severity: "medium",
    enforcement: "mandatory",
    category: "serving",
    fix: "Set resources.requests (cpu, memory) and resources.limits.memory on every model server container.",
    applies: isServing,
    check: (s) =>
      servingContainers(s)
        .filter(
          (c) =>
            get(c.container, "resources.requests.memory") === undefined ||
            get(c.container, "resources.limits.memory") === undefined,
        )
        .map((c) => ({
          path: `${c.path}.resources`,
          message: `container ${String(c.container.name)} lacks requests or memory limit`,
        })),
  }),
  rule({
    id: "serving-replicas",
    title: "Serving deployments run at least two replicas",
    severity: "medium",
    enforcement: "advisory",
    category: "serving",
    fix: "Set replicas (or minReplicas) >= 2 outside local environments.",
    applies: isServing,
    check: (s) => {
      const spec = obj(get(s.object, "spec")) ?? {};
      const predictors = arr(spec.predictors).map((p) => Number(obj(p)?.replicas ?? 1));
      const direct = [spec.replicas, get(spec, "predictor.minReplicas"), spec.minReplicas]
        .filter((v) => v !== undefined)
        .map(Number);
      const all = [...predictors, ...direct];
      const min = all.length ? Math.min(...all) : 1;
      return min < 2 ? [{ path: "spec", message: `serves with ${min} replica(s)` }] : [];
    },
  }),
];

// ---- AWS (Pulumi resource inputs) -------------------------------------------------------------

const pulumiType = (...types: string[]) => {
  const set = new Set(types);
  return (s: Subject) => s.layer === "pulumi" && set.has(s.kind);
};

function policyStatements(doc: unknown): Readonly<Record<string, unknown>>[] {
  let parsed: unknown = doc;
  if (typeof doc === "string") {
    try {
      parsed = JSON.parse(doc);
    } catch {
      return [];
    }
  }
  const st = obj(parsed)?.Statement;
  return (Array.isArray(st) ? st : [st])
    .map((x) => obj(x))
    .filter((x): x is Readonly<Record<string, unknown>> => x !== undefined);
}

const awsRules: Rule[] = [
  rule({
    id: "aws-eks-private-endpoint",
    title: "EKS API endpoint is not open to the internet",
    severity: "high",
    enforcement: "mandatory",
    category: "aws",
    fix: "Set vpcConfig.endpointPublicAccess false, or publicAccessCidrs to your office/VPN ranges.",
    applies: pulumiType("aws:eks/cluster:Cluster"),
    check: (s) => {
      const vpc = obj(get(s.object, "vpcConfig")) ?? {};
      if (vpc.endpointPublicAccess === false) return [];
      const cidrs = arr(vpc.publicAccessCidrs);
      return cidrs.length === 0 || cidrs.includes("0.0.0.0/0")
        ? [{ path: "vpcConfig.publicAccessCidrs", message: "public endpoint open to 0.0.0.0/0" }]
        : [];
    },
  }),
  rule({
    id: "aws-eks-secrets-encryption",
    title: "EKS encrypts Secrets with KMS",
    severity: "high",
    enforcement: "mandatory",
    category: "aws",
    fix: "Set encryptionConfig { provider.keyArn, resources: [secrets] }.",
    applies: pulumiType("aws:eks/cluster:Cluster"),
    check: (s) =>
      arr(get(s.object, "encryptionConfig.resources")).includes("secrets")
        ? []
        : [{ path: "encryptionConfig", message: "Secrets are not envelope-encrypted" }],
  }),
  rule({
    id: "aws-imdsv2-hop-limit",
    title: "Nodes require IMDSv2 with hop limit 1",
    severity: "high",
    enforcement: "mandatory",
    category: "aws",
    fix: "metadataOptions { httpTokens: required, httpPutResponseHopLimit: 1 } so pods cannot reach node credentials.",
    applies: pulumiType("aws:ec2/launchTemplate:LaunchTemplate"),
    check: (s) => {
      const m = obj(get(s.object, "metadataOptions")) ?? {};
      const out = [];
      if (m.httpTokens !== "required")
        out.push({ path: "metadataOptions.httpTokens", message: "IMDSv1 allowed" });
      if (Number(m.httpPutResponseHopLimit ?? 2) > 1)
        out.push({ path: "metadataOptions.httpPutResponseHopLimit", message: "pods can reach IMDS" });
      return out;
    },
  }),
  rule({
    id: "aws-iam-no-wildcard-action",
    title: "IAM policies grant no Action '*'",
    severity: "critical",
    enforcement: "mandatory",
    category: "aws",
    fix: "List the actions needed.",
    applies: pulumiType("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy"),
    check: (s) =>
      policyStatements(get(s.object, "policy"))
        .filter((st) => st.Effect !== "Deny" && [st.Action].flat().some((a) => a === "*"))
        .map(() => ({ path: "policy", message: "Allow statement with Action '*'" })),
  }),
  rule({
    id: "aws-s3-public-access-block",
    title: "S3 buckets block all public access",
    severity: "high",
    enforcement: "mandatory",
    category: "aws",
    fix: "Set blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true.",
    applies: pulumiType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"),
    check: (s) =>
      ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]
        .filter((f) => get(s.object, f) !== true)
        .map((f) => ({ path: f, message: `${f} is not true` })),
  }),
  rule({
    id: "aws-rds-encrypted-private",
    title: "RDS instances are encrypted, private and backed up",
    severity: "high",
    enforcement: "mandatory",
    category: "aws",
    fix: "storageEncrypted: true, publiclyAccessible: false, backupRetentionPeriod >= 7.",
    applies: pulumiType("aws:rds/instance:Instance"),
    check: (s) => {
      const out = [];
      if (get(s.object, "storageEncrypted") !== true)
        out.push({ path: "storageEncrypted", message: "storage not encrypted" });
      if (get(s.object, "publiclyAccessible") === true)
        out.push({ path: "publiclyAccessible", message: "publicly accessible" });
      if (Number(get(s.object, "backupRetentionPeriod") ?? 0) < 1)
        out.push({ path: "backupRetentionPeriod", message: "no backups" });
      return out;
    },
  }),
  rule({
    id: "aws-kms-rotation",
    title: "KMS keys rotate",
    severity: "medium",
    enforcement: "mandatory",
    category: "aws",
    fix: "Set enableKeyRotation: true.",
    applies: pulumiType("aws:kms/key:Key"),
    check: (s) =>
      get(s.object, "enableKeyRotation") === true
        ? []
        : [{ path: "enableKeyRotation", message: "rotation off" }],
  }),
];

// ---- gaps no other library covers: ML data services, cross-layer, licences --------------------

/** `scheme://user:password@host` with a literal password (not a `$(VAR)` expansion). */
const URI_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:(?!\$\()[^@\s/]+@/i;

/** Images and kinds of components whose licence is not open source (source: vendors' notices). */
const NON_OSS: readonly { readonly image?: RegExp; readonly kind?: string; readonly licence: string }[] = [
  { kind: "SeldonDeployment", licence: "Seldon Core 1.18+ / 2.7+: Business Source License 1.1" },
  { image: /^(docker\.io\/)?seldonio\//, licence: "Seldon Core 1.18+ / 2.7+: Business Source License 1.1" },
];

/** `system:serviceaccount:<ns>:<name>` subjects an IAM trust policy admits through OIDC. */
function trustedServiceAccounts(policy: unknown): string[] {
  const out: string[] = [];
  for (const st of policyStatements(policy)) {
    if (st.Effect !== "Allow") continue;
    for (const op of Object.values(obj(st.Condition) ?? {}))
      for (const [k, v] of Object.entries(obj(op) ?? {}))
        if (k.endsWith(":sub")) out.push(...(Array.isArray(v) ? v : [v]).map(String));
  }
  return out;
}

const gapRules: Rule[] = [
  containerRule({
    id: "credentials-not-in-uris",
    title: "No credentials inside connection URIs in args, command or env literals",
    severity: "critical",
    enforcement: "mandatory",
    category: "secrets",
    fix: "Pass the password from a Secret (env valueFrom.secretKeyRef) and reference it as $(VAR) in the URI.",
    checkContainer: (c) => {
      const places: [string, unknown][] = [
        ...arr(c.container.command).map((v, i): [string, unknown] => [`command[${i}]`, v]),
        ...arr(c.container.args).map((v, i): [string, unknown] => [`args[${i}]`, v]),
        ...arr(c.container.env).map((e, i): [string, unknown] => [`env[${i}].value`, obj(e)?.value]),
      ];
      const hit = places.find(([, v]) => typeof v === "string" && URI_WITH_PASSWORD.test(v));
      return hit
        ? { path: `${c.path}.${hit[0]}`, message: `container '${c.name}' has a URI with a literal password` }
        : undefined;
    },
  }),
  rule({
    id: "irsa-trust-matches-service-account",
    title: "A ServiceAccount's IAM role (IRSA) trusts exactly that ServiceAccount",
    severity: "high",
    enforcement: "mandatory",
    category: "aws",
    fix: "Set the role's trust condition `<oidc>:sub` to system:serviceaccount:<namespace>:<name> of this ServiceAccount.",
    applies: (s) => s.layer === "kubernetes" && s.kind === "ServiceAccount",
    check: (s, ctx) => {
      const roleArn = obj(get(s.object, "metadata.annotations"))?.["eks.amazonaws.com/role-arn"];
      if (typeof roleArn !== "string") return [];
      const roleName = roleArn.split("/").pop();
      const role = ctx.byKind("aws:iam/role:Role").find((r) => (r.object.name ?? r.name) === roleName);
      if (!role) return []; // the role lives in another stack: nothing to compare with here
      const subject = `system:serviceaccount:${s.namespace}:${s.name}`;
      const trusted = trustedServiceAccounts(role.object.assumeRolePolicy);
      return trusted.includes(subject)
        ? []
        : [
            {
              path: "metadata.annotations.eks.amazonaws.com/role-arn",
              message: `role ${roleName} trusts ${trusted.length ? trusted.join(", ") : "no ServiceAccount"}, not ${subject}`,
            },
          ];
    },
  }),
  rule({
    id: "licence-open-source",
    title: "Components are open source, or their licence is acknowledged",
    severity: "low",
    enforcement: "advisory",
    category: "metadata",
    fix: "Check the licence terms for production use (or choose an Apache-2.0 alternative such as KServe), then waive with the reason.",
    applies: (s) => isServing(s) || isWorkload(s),
    check: (s) => {
      const byKind = NON_OSS.find((n) => n.kind === s.kind);
      if (byKind) return [{ path: "kind", message: `${s.kind}: ${byKind.licence}` }];
      const pod = podSpec(s);
      const found = isServing(s)
        ? servingContainers(s)
        : pod
          ? containers(pod).map((c) => ({ path: c.path, container: c.container }))
          : [];
      const out = [];
      for (const { path, container } of found) {
        const image = String(container.image ?? "");
        const hit = NON_OSS.find((n) => n.image?.test(image));
        if (hit) out.push({ path: `${path}.image`, message: `image ${image}: ${hit.licence}` });
      }
      return out;
    },
  }),
];

export const cloudAndServingRules: Rule[] = [...servingRules, ...awsRules, ...gapRules];
