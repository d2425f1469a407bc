#!/usr/bin/env bash
# What the console's browser tests (tests/web/) need beyond the Python packages:
#   - Debian's Chromium, which Playwright drives (Playwright's own browser
#     download cannot work without the internet; the `playwright` wheel brings
#     its driver, so no `playwright install` is needed)
#   - axe-core, pinned, into <repo>/.tools/axe-core (the accessibility checks
#     inject its axe.min.js into every page)
# Idempotent: each step is skipped when its tool is already there.
set -euo pipefail

AXE_CORE_VERSION="4.14.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AXE_DIR="${AXE_DIR:-$ROOT/.tools/axe-core}"
AXE_PACKAGE="$AXE_DIR/node_modules/axe-core/package.json"

sudo_if_needed() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

if ! command -v chromium >/dev/null 2>&1; then
    echo "installing chromium (Debian package) for the console's browser tests"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
chromium --version 2>/dev/null | head -1

installed_axe() {
    [ -f "$AXE_PACKAGE" ] || return 1
    node -e 'process.stdout.write(require(process.argv[1]).version)' "$AXE_PACKAGE"
}
if [ "$(installed_axe || true)" != "$AXE_CORE_VERSION" ]; then
    command -v npm >/dev/null || { echo "install-browser-tools: npm is not installed" >&2; exit 2; }
    mkdir -p "$AXE_DIR"
    [ -f "$AXE_DIR/package.json" ] || echo '{"private": true}' > "$AXE_DIR/package.json"
    npm install --prefix "$AXE_DIR" --no-audit --no-fund --loglevel=error \
        --save-exact "axe-core@$AXE_CORE_VERSION" >&2
    [ "$(installed_axe || true)" = "$AXE_CORE_VERSION" ] \
        || { echo "install-browser-tools: axe-core $AXE_CORE_VERSION not found after install" >&2; exit 1; }
fi
echo "axe-core $(installed_axe)"
