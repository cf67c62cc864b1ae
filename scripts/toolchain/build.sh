#!/usr/bin/env bash
# Builds the offline toolchain with `go` alone, from the Go module proxy, at the versions pinned in
# versions.env: etcd, kwok/kwokctl, kube-apiserver/-controller-manager/-scheduler/kubectl, the
# Pulumi CLI and the Pulumi Kubernetes provider; on request the benchmark peers kube-score and
# Polaris. Tools already built are skipped.
#
#   scripts/toolchain/build.sh [tool ...]     (default: all; see TOOLCHAIN_TOOLS in lib.sh)
#
# Each build runs in a throwaway wrapper module under the cache (never in the repository), logs to
# <tool dir>/build.log, shows progress every 20 s, and on failure names the tool and prints the end
# of Go's output.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

command -v go >/dev/null || { echo "toolchain: 'go' is not on PATH; install Go >= 1.26 first" >&2; exit 1; }
export GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false -trimpath"
# The checksum database reachable here answers 404 for the kubernetes provider's pseudo-version and
# for some Pulumi modules it requires (pkg/v3@v3.215.0, cloud-ready-checks@v1.3.0); for modules
# under github.com/pulumi the proxy's hashes are trusted (recorded in the wrapper's go.sum).
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi"

# module@version -> path of its go.mod in the module cache
mod_file() { go mod download -json "$1" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p'; }
mod_dir() { go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'; }

wrapper() { # name: start an empty wrapper module in $work
  rm -rf "$work" && mkdir -p "$work" && cd "$work"
  go mod init "mlops.local/toolchain/$1" >/dev/null 2>&1
}

build_etcd() {
  wrapper etcd
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go build -v -ldflags "-s -w" -o "$out/bin/etcd" go.etcd.io/etcd/server/v3
}

build_kwok() {
  wrapper kwok
  go get "sigs.k8s.io/kwok@$KWOK_VERSION"
  go build -v -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBERNETES_VERSION#v}" \
    -o "$out/bin/" sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
}

build_kubernetes() {
  wrapper kubernetes
  local gomod staging v="$KUBERNETES_VERSION" minor
  gomod=$(mod_file "k8s.io/kubernetes@$v")
  staging=$(sed -n 's#^[[:space:]]*\(k8s.io/[^[:space:]]*\) => ./staging/.*#\1#p' "$gomod")
  minor=$(echo "$v" | cut -d. -f2)
  go mod edit -go="$(sed -n 's/^go //p' "$gomod")"
  {
    grep -E '^godebug ' "$gomod" || true
    echo "require k8s.io/kubernetes $v"
    for m in $staging; do echo "replace $m => $m v0.${v#v1.}"; done
  } >>go.mod
  local ld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  go build -v -ldflags "$ld" -o "$out/bin/" k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl
}

build_pulumi() {
  wrapper pulumi
  go mod edit -require "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" \
    -require "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" \
    -replace "github.com/atotto/clipboard=$PULUMI_CLIPBOARD_FORK"
  go build -v -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    -o "$out/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

build_pulumi-kubernetes() {
  wrapper pulumi-kubernetes
  local prov="github.com/pulumi/pulumi-kubernetes/provider/v4" src
  go mod edit -require "$prov@$PULUMI_KUBERNETES_PROVIDER_MODULE" \
    -replace "github.com/pulumi/pulumi-kubernetes/sdk/v4=github.com/pulumi/pulumi-kubernetes/sdk/v4@$PULUMI_KUBERNETES_SDK_MODULE"
  src=$(mod_dir "$prov@$PULUMI_KUBERNETES_PROVIDER_MODULE")/cmd/pulumi-resource-kubernetes
  cp "$here/kubernetes-provider/main.go" .
  # What upstream's generate.go does: the schema with the release version set, both minified.
  node -e '
    const fs = require("fs"); const [src, version] = process.argv.slice(1);
    const schema = JSON.parse(fs.readFileSync(src + "/schema.json", "utf8")); schema.version = version;
    fs.writeFileSync("schema-embed.json", JSON.stringify(schema));
    fs.writeFileSync("terraform-mapping-embed.json",
      JSON.stringify(JSON.parse(fs.readFileSync(src + "/terraform-mapping.json", "utf8"))));
  ' "$src" "$PULUMI_KUBERNETES_VERSION"
  go build -v -ldflags "-s -w -X $prov/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
    -o "$out/bin/pulumi-resource-kubernetes" .
}

build_kube-score() {
  wrapper kube-score
  go get "github.com/zegl/kube-score@$KUBE_SCORE_VERSION"
  go build -v -ldflags "-s -w -X main.version=${KUBE_SCORE_VERSION#v}" -o "$out/bin/kube-score" github.com/zegl/kube-score/cmd/kube-score
}

build_polaris() {
  wrapper polaris
  # The checksum database answers 404 for this pseudo-version as well; the proxy's hash is recorded.
  export GONOSUMDB="$GONOSUMDB,github.com/fairwindsops"
  go get "github.com/fairwindsops/polaris@$POLARIS_MODULE_VERSION"
  # This Polaris reads its check definitions through packr from the source folder recorded at build
  # time, so it is built without -trimpath and needs the module cache (GOMODCACHE) at run time.
  GOFLAGS="-mod=mod -buildvcs=false" go build -v -ldflags "-s -w" -o "$out/bin/polaris" github.com/fairwindsops/polaris
}

build() { # tool
  local tool=$1 start pid rc=0
  out=$(tool_dir "$tool")
  if tool_built "$tool"; then
    echo "toolchain: $tool already built ($(cat "$out/.complete"))"
    return 0
  fi
  work="$TOOLCHAIN_ROOT/.work/$tool"
  rm -rf "$out" && mkdir -p "$out/bin"
  local log="$out/build.log"
  echo "toolchain: building $tool -> $out"
  start=$(date +%s)
  ( "build_$tool" ) >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 20
    kill -0 "$pid" 2>/dev/null || break
    echo "toolchain:   $tool: $(( $(date +%s) - start )) s, $(grep -c '^[a-z]' "$log" || true) packages/steps so far"
  done
  wait "$pid" || rc=$?
  local secs=$(( $(date +%s) - start ))
  if [ "$rc" -ne 0 ]; then
    echo "toolchain: building $tool FAILED after ${secs} s (exit $rc); the end of Go's output ($log):" >&2
    tail -n 40 "$log" >&2
    rm -rf "$work"
    return "$rc"
  fi
  rm -rf "$work"
  local size
  size=$(du -sm "$out/bin" | cut -f1)
  echo "built in ${secs} s, ${size} MB of binaries, $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$out/.complete"
  echo "toolchain: $tool built in ${secs} s (${size} MB: $(ls "$out/bin" | tr '\n' ' '))"
}

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=("${TOOLCHAIN_TOOLS[@]}")
total_start=$(date +%s)
for t in "${tools[@]}"; do tool_dir "$t" >/dev/null; build "$t"; done
echo "toolchain: ready in $(( $(date +%s) - total_start )) s; PATH entries: $(toolchain_path)"
