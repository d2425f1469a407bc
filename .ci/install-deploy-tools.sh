#!/usr/bin/env bash
# Install what tests/deploy needs on a fresh Debian machine. Idempotent: each
# step is skipped when its tool is already there.
#   - promtool, from Debian's `prometheus` package (rule checks and unit tests)
#   - into .venv: helm-sdkpy (Helm v4 as a library: lint and render),
#     jsonschema (values.schema.json), dockerfile-parse (Dockerfile checks)
# helm-sdkpy declares Python >= 3.12, but its wheel (a cffi binding to a Go
# shared library) works on 3.11, hence --ignore-requires-python.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="${VENV:-$root/.venv}"
py="$venv/bin/python"

HELM_SDKPY_VERSION="${HELM_SDKPY_VERSION:-0.1.32}"
JSONSCHEMA_VERSION="${JSONSCHEMA_VERSION:-4.26.0}"
DOCKERFILE_PARSE_VERSION="${DOCKERFILE_PARSE_VERSION:-2.0.1}"

sudo_if_needed() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

if ! command -v promtool >/dev/null 2>&1; then
    echo "installing promtool (Debian package prometheus)"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    # Only the tool is wanted: don't leave a Prometheus server running.
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
        sudo_if_needed systemctl disable --now prometheus || true
    fi
fi
promtool --version | head -1

if [[ ! -x "$py" ]]; then
    echo "creating $venv"
    python3 -m venv "$venv"
fi

want=(
    "helm-sdkpy==$HELM_SDKPY_VERSION"
    "jsonschema==$JSONSCHEMA_VERSION"
    "dockerfile-parse==$DOCKERFILE_PARSE_VERSION"
)
if ! "$py" - "${want[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, _, wanted = spec.partition("==")
    if version(name) != wanted:
        sys.exit(1)
PY
then
    echo "installing ${want[*]} into $venv"
    "$py" -m pip install -q --disable-pip-version-check --ignore-requires-python "${want[@]}"
fi
"$py" -c 'import helm_sdkpy; print("helm-sdkpy", helm_sdkpy.__version__, helm_sdkpy.get_version())'
