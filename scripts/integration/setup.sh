#!/usr/bin/env bash
# Installs what the integration tier runs on loopback, outside the repository:
#   - PostgreSQL and Redis servers from Debian packages (apt-get, when not installed yet),
#   - Python virtual environments (MLflow, Feast, moto's S3 server) from PyPI at the versions
#     pinned in requirements-*.txt, under ${MLOPS_PYENV_DIR:-~/.cache/mlops-platform/pyenv}/<name>.
# Idempotent: a venv whose requirements file has not changed is kept (hash stamp).
#   setup.sh [--system-only]     (--system-only: the Debian packages, no venvs)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root="${MLOPS_PYENV_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-platform/pyenv}"

need_pkgs=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || need_pkgs+=(postgresql)
command -v redis-server >/dev/null || need_pkgs+=(redis-server)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "integration setup: installing Debian packages: ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${need_pkgs[@]}" >/dev/null
  # The packages start system services; the tests run their own servers on loopback ports.
else
  echo "integration setup: postgresql ($pg_bin) and redis-server already installed"
fi

if [ "${1:-}" = "--system-only" ]; then
  echo "integration setup: --system-only: Python venvs skipped"
  exit 0
fi

python=${PYTHON:-python3}
for req in "$here"/requirements-*.txt; do
  name=$(basename "$req" .txt); name=${name#requirements-}
  venv="$root/$name"
  stamp=$(sha256sum "$req" | cut -c1-16)
  if [ -f "$venv/.complete" ] && [ "$(cat "$venv/.complete")" = "$stamp" ]; then
    echo "integration setup: venv $name up to date"
    continue
  fi
  echo "integration setup: creating venv $name ($(grep -v '^#' "$req" | tr '\n' ' '))"
  start=$(date +%s)
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >/dev/null
  "$venv/bin/pip" install --disable-pip-version-check --progress-bar off -r "$req" \
    | grep -E '^(Collecting|Successfully)' | sed -u "s/^/  $name: /" | awk 'NR % 25 == 1 || /Successfully/'
  echo "$stamp" >"$venv/.complete"
  echo "integration setup: venv $name ready in $(( $(date +%s) - start )) s"
done
