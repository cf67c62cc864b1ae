# Shared by the toolchain and local-cluster scripts: where the pinned tools live.
# Sourced, not executed. Reads versions.env beside it.

toolchain_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$toolchain_here/versions.env"

# Binaries live outside the repository, one folder per tool and version, so a version bump
# builds only what changed and nothing downloaded is ever inside the work tree.
TOOLCHAIN_ROOT="${MLOPS_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-platform/toolchain}"

# name -> folder for the pinned version
tool_dir() {
  case "$1" in
    etcd) echo "$TOOLCHAIN_ROOT/etcd-$ETCD_VERSION" ;;
    kwok) echo "$TOOLCHAIN_ROOT/kwok-$KWOK_VERSION" ;;
    kubernetes) echo "$TOOLCHAIN_ROOT/kubernetes-$KUBERNETES_VERSION" ;;
    pulumi) echo "$TOOLCHAIN_ROOT/pulumi-$PULUMI_VERSION" ;;
    pulumi-kubernetes) echo "$TOOLCHAIN_ROOT/pulumi-kubernetes-$PULUMI_KUBERNETES_VERSION-${PULUMI_KUBERNETES_PROVIDER_MODULE##*-}" ;;
    kube-score) echo "$TOOLCHAIN_ROOT/kube-score-$KUBE_SCORE_VERSION" ;;
    polaris) echo "$TOOLCHAIN_ROOT/polaris-${POLARIS_MODULE_VERSION##*-}" ;;
    *) echo "unknown tool '$1'" >&2; return 1 ;;
  esac
}

TOOLCHAIN_TOOLS=(etcd kwok kubernetes pulumi pulumi-kubernetes)
# Built only when asked for by name (benchmark peers).
OPTIONAL_TOOLS=(kube-score polaris)

# PATH entries of every built tool, colon separated.
toolchain_path() {
  local t out=""
  for t in "${TOOLCHAIN_TOOLS[@]}"; do out="$out$(tool_dir "$t")/bin:"; done
  echo "${out%:}"
}

tool_built() { [ -f "$(tool_dir "$1")/.complete" ]; }
