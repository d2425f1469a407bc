#!/usr/bin/env bash
# Everything the test suite needs beyond the Python packages, on a fresh Debian
# machine. Idempotent and quick when all is there already.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared="${PAGER_SHARED_DIR:-$root/../shared}"

# PostgreSQL at 127.0.0.1:5432 (trust auth, database `test`): start it if it is
# installed but stopped.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1; then
        for version in $(ls /etc/postgresql 2>/dev/null); do
            pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        done
    fi
    for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
    pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
fi

# The real Prometheus Alertmanager (Debian package), installed by the shared script.
"$shared/alertmanager/run-alertmanager.sh" --install-only >/dev/null

# Stoplight Prism for the Twilio contract tests, and the deployment test tools.
bash "$root/.ci/install-prism.sh"
bash "$root/.ci/install-deploy-tools.sh"

# Debian's Chromium and axe-core for the web console's browser tests.
bash "$root/.ci/install-browser-tools.sh"
