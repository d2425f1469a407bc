#!/usr/bin/env bash
# Build a clean virtualenv the way the Dockerfile's build stage does, outside
# Docker, and optionally run the image's entrypoint from it with the image's
# environment. For checking the packaging and `pager` entrypoint where no
# Docker daemon is at hand.
#
#   deploy/entrypoint-smoke.sh DIR                 # python -m venv DIR; pip install -c constraints.txt .
#   deploy/entrypoint-smoke.sh DIR -- --help       # ...then run: DIR/bin/pager --help
#   deploy/entrypoint-smoke.sh DIR -- serve --listen 127.0.0.1:18080
#
# PYTHON picks the interpreter (default python3). DIR is created anew, unless
# SMOKE_REUSE=1 and DIR already holds a venv this script built (the tests build
# once and then run the entrypoint several times: a pip install per run would
# eat their start-up deadline on a loaded machine).
set -euo pipefail

if [[ $# -lt 1 || "$1" == -* ]]; then
    echo "usage: $0 DIR [-- PAGER-ARGS...]" >&2
    exit 2
fi
dir=$(realpath -m "$1"); shift
root=$(cd "$(dirname "$0")/.." && pwd)

if [[ "${SMOKE_REUSE:-}" != 1 || ! -x "$dir/bin/pager" ]]; then
    rm -rf "$dir"
    "${PYTHON:-python3}" -m venv "$dir"
    (cd "$root" && PIP_DISABLE_PIP_VERSION_CHECK=1 "$dir/bin/pip" install -q -c constraints.txt .)
    echo "venv ready: $dir (entrypoint $dir/bin/pager)"
fi

if [[ "${1:-}" == "--" ]]; then
    shift
    # The image's ENV, with the database in the venv dir instead of the volume.
    export PAGER_LISTEN="${PAGER_LISTEN:-0.0.0.0:8080}"
    export PAGER_POLICIES="${PAGER_POLICIES:-$root/policies}"
    export PAGER_DATABASE_URL="${PAGER_DATABASE_URL:-sqlite+aiosqlite:///$dir/pager.db}"
    export PAGER_LOG_FORMAT="${PAGER_LOG_FORMAT:-json}"
    exec "$dir/bin/pager" "$@"
fi
