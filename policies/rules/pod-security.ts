import type { Rule, Violation } from "../engine/types";
import { arr, containerRule, effective, get, obj, podRule } from "./helpers";

/** Pod Security Standards, baseline and restricted: https://kubernetes.io/docs/concepts/security/pod-security-standards/ */
const category = "pod-security";

const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);

const RESTRICTED_VOLUME_TYPES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

const PROBE_FIELDS = ["livenessProbe", "readinessProbe", "startupProbe"] as const;

export const podSecurityRules: Rule[] = [
  containerRule({
    id: "pod-no-privileged",
    title: "Containers are not privileged",
    severity: "critical",
    enforcement: "mandatory",
    category,
    fix: "Remove securityContext.privileged (or set it to false).",
    checkContainer: (c) =>
      get(c.container, "securityContext.privileged") === true
        ? { path: `${c.path}.securityContext.privileged`, message: `container '${c.name}' is privileged` }
        : undefined,
  }),
  podRule({
    id: "pod-no-host-namespaces",
    title: "Pods do not share the host's network, PID or IPC namespace",
    severity: "critical",
    enforcement: "mandatory",
    category,
    fix: "Remove hostNetwork, hostPID and hostIPC from the pod spec.",
    checkPod: (pod) =>
      (["hostNetwork", "hostPID", "hostIPC"] as const)
        .filter((f) => pod.spec[f] === true)
        .map((f) => ({ path: `${pod.path}.${f}`, message: `pod sets ${f}: true` })),
  }),
  podRule({
    id: "pod-no-host-path",
    title: "Pods mount no hostPath volumes",
    severity: "high",
    enforcement: "mandatory",
    category,
    fix: "Use a PersistentVolumeClaim, emptyDir or CSI volume instead of hostPath.",
    checkPod: (pod) =>
      arr(pod.spec.volumes).flatMap((v, i) =>
        obj(v)?.hostPath
          ? [
              {
                path: `${pod.path}.volumes[${i}].hostPath`,
                message: `volume '${String(obj(v)?.name)}' is a hostPath`,
              },
            ]
          : [],
      ),
  }),
  containerRule({
    id: "pod-no-host-ports",
    title: "Containers bind no host ports",
    severity: "high",
    enforcement: "mandatory",
    category,
    fix: "Remove ports[].hostPort; expose the container through a Service.",
    checkContainer: (c) => {
      const i = arr(c.container.ports).findIndex((p) => Number(obj(p)?.hostPort ?? 0) > 0);
      return i < 0
        ? undefined
        : { path: `${c.path}.ports[${i}].hostPort`, message: `container '${c.name}' binds a host port` };
    },
  }),
  containerRule({
    id: "pod-capabilities-drop-all",
    title: "Containers drop all Linux capabilities",
    severity: "high",
    enforcement: "mandatory",
    category,
    fix: 'Set securityContext.capabilities.drop: ["ALL"].',
    checkContainer: (c) =>
      arr(get(c.container, "securityContext.capabilities.drop")).includes("ALL")
        ? undefined
        : {
            path: `${c.path}.securityContext.capabilities.drop`,
            message: `container '${c.name}' does not drop ALL capabilities`,
          },
  }),
  containerRule({
    id: "pod-capabilities-add-restricted",
    title: "Containers add no capability but NET_BIND_SERVICE",
    severity: "high",
    enforcement: "mandatory",
    category,
    fix: "Remove securityContext.capabilities.add entries other than NET_BIND_SERVICE.",
    checkContainer: (c) => {
      const extra = arr(get(c.container, "securityContext.capabilities.add")).filter(
        (x) => x !== "NET_BIND_SERVICE",
      );
      return extra.length === 0
        ? undefined
        : {
            path: `${c.path}.securityContext.capabilities.add`,
            message: `container '${c.name}' adds ${extra.join(", ")}`,
          };
    },
  }),
  containerRule({
    id: "pod-no-privilege-escalation",
    title: "Containers cannot gain privileges",
    severity: "high",
    enforcement: "mandatory",
    category,
    fix: "Set securityContext.allowPrivilegeEscalation: false.",
    checkContainer: (c) =>
      get(c.container, "securityContext.allowPrivilegeEscalation") === false
        ? undefined
        : {
            path: `${c.path}.securityContext.allowPrivilegeEscalation`,
            message: `container '${c.name}' does not set allowPrivilegeEscalation: false`,
          },
  }),
  containerRule({
    id: "pod-run-as-non-root",
    title: "Containers must run as non-root",
    severity: "high",
    enforcement: "mandatory",
    category,
    fix: "Set securityContext.runAsNonRoot: true on the pod or the container.",
    checkContainer: (c, pod) =>
      effective(c, pod, "runAsNonRoot") === true
        ? undefined
        : {
            path: `${c.path}.securityContext.runAsNonRoot`,
            message: `container '${c.name}' may run as root`,
          },
  }),
  containerRule({
    id: "pod-run-as-user-not-root",
    title: "Containers do not set runAsUser 0",
    severity: "high",
    enforcement: "mandatory",
    category,
    fix: "Set runAsUser to a non-zero UID (e.g. 65532) or leave it to the image.",
    checkContainer: (c, pod) =>
      effective(c, pod, "runAsUser") === 0
        ? { path: `${c.path}.securityContext.runAsUser`, message: `container '${c.name}' runs as UID 0` }
        : undefined,
  }),
  containerRule({
    id: "pod-seccomp-profile",
    title: "Containers use the RuntimeDefault or a Localhost seccomp profile",
    severity: "high",
    enforcement: "mandatory",
    category,
    fix: "Set securityContext.seccompProfile.type: RuntimeDefault on the pod.",
    checkContainer: (c, pod) => {
      const type = effective(c, pod, "seccompProfile.type");
      return type === "RuntimeDefault" || type === "Localhost"
        ? undefined
        : {
            path: `${c.path}.securityContext.seccompProfile.type`,
            message: `container '${c.name}' seccomp profile is ${String(type ?? "unset")}`,
          };
    },
  }),
  containerRule({
    id: "pod-proc-mount-default",
    title: "Containers keep the default /proc mount",
    severity: "high",
    enforcement: "mandatory",
    category,
    fix: "Remove securityContext.procMount (or set it to Default).",
    checkContainer: (c) => {
      const mount = get(c.container, "securityContext.procMount");
      return mount === undefined || mount === "Default"
        ? undefined
        : {
            path: `${c.path}.securityContext.procMount`,
            message: `container '${c.name}' sets procMount ${String(mount)}`,
          };
    },
  }),
  podRule({
    id: "pod-safe-sysctls",
    title: "Pods set only safe sysctls",
    severity: "high",
    enforcement: "mandatory",
    category,
    fix: "Remove securityContext.sysctls outside the Kubernetes safe set.",
    checkPod: (pod) =>
      arr(get(pod.spec, "securityContext.sysctls")).flatMap((s, i) => {
        const name = String(obj(s)?.name);
        return SAFE_SYSCTLS.has(name)
          ? []
          : [{ path: `${pod.path}.securityContext.sysctls[${i}]`, message: `unsafe sysctl ${name}` }];
      }),
  }),
  containerRule({
    id: "pod-no-unconfined-apparmor",
    title: "No container runs AppArmor-unconfined",
    severity: "high",
    enforcement: "mandatory",
    category,
    fix: "Remove appArmorProfile type Unconfined; use RuntimeDefault.",
    checkContainer: (c, pod) =>
      effective(c, pod, "appArmorProfile.type") === "Unconfined"
        ? {
            path: `${c.path}.securityContext.appArmorProfile.type`,
            message: `container '${c.name}' is AppArmor Unconfined`,
          }
        : undefined,
  }),
  containerRule({
    id: "pod-selinux-restricted",
    title: "SELinux options stay within the baseline",
    severity: "high",
    enforcement: "mandatory",
    category,
    fix: "Only seLinuxOptions.type container_t, container_init_t or container_kvm_t; no user or role.",
    checkContainer: (c, pod) => {
      const opts = obj(effective(c, pod, "seLinuxOptions"));
      if (!opts) return undefined;
      const badType =
        opts.type !== undefined &&
        !["container_t", "container_init_t", "container_kvm_t"].includes(String(opts.type));
      return badType || opts.user !== undefined || opts.role !== undefined
        ? {
            path: `${c.path}.securityContext.seLinuxOptions`,
            message: `container '${c.name}' sets custom SELinux options`,
          }
        : undefined;
    },
  }),
  podRule({
    id: "pod-restricted-volume-types",
    title: "Pods use only restricted volume types",
    severity: "medium",
    enforcement: "mandatory",
    category,
    fix: "Use configMap, secret, emptyDir, projected, downwardAPI, persistentVolumeClaim, csi or ephemeral volumes.",
    checkPod: (pod) =>
      arr(pod.spec.volumes).flatMap((v, i): Violation[] => {
        const types = Object.keys(obj(v) ?? {}).filter((k) => k !== "name");
        const bad = types.filter((t) => !RESTRICTED_VOLUME_TYPES.has(t));
        return bad.length
          ? [{ path: `${pod.path}.volumes[${i}]`, message: `volume type ${bad.join(", ")} is not allowed` }]
          : [];
      }),
  }),
  containerRule({
    id: "pod-read-only-root-filesystem",
    title: "Containers have a read-only root filesystem",
    severity: "medium",
    enforcement: "mandatory",
    category,
    fix: "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir for tmp and caches.",
    lists: ["containers", "initContainers"],
    checkContainer: (c) =>
      get(c.container, "securityContext.readOnlyRootFilesystem") === true
        ? undefined
        : {
            path: `${c.path}.securityContext.readOnlyRootFilesystem`,
            message: `container '${c.name}' root filesystem is writable`,
          },
  }),
  containerRule({
    id: "pod-no-probe-host",
    title: "Probes and lifecycle hooks do not target another host",
    severity: "medium",
    enforcement: "mandatory",
    category,
    fix: "Remove the host field from httpGet/tcpSocket probes and lifecycle handlers.",
    checkContainer: (c) => {
      for (const field of [...PROBE_FIELDS, "lifecycle.postStart", "lifecycle.preStop"]) {
        for (const handler of ["httpGet", "tcpSocket"]) {
          if (get(c.container, `${field}.${handler}.host`) !== undefined) {
            return {
              path: `${c.path}.${field}.${handler}.host`,
              message: `container '${c.name}' ${field} targets a host`,
            };
          }
        }
      }
      return undefined;
    },
  }),
];
