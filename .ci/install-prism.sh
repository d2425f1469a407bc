#!/usr/bin/env bash
# Installs Stoplight Prism (the OpenAPI mock server used by tests/contract/)
# into a project-local directory, so no global npm state is touched.
# Idempotent: does nothing when the pinned version is already there.
# Prints the path of the prism binary on its last line.
#
#   .ci/install-prism.sh            # installs into <repo>/.tools/prism
#   PRISM_DIR=/somewhere .ci/install-prism.sh
set -euo pipefail

PRISM_VERSION="5.14.2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PRISM_DIR="${PRISM_DIR:-$ROOT/.tools/prism}"
BIN="$PRISM_DIR/node_modules/.bin/prism"
STAMP="$PRISM_DIR/node_modules/@stoplight/prism-cli/package.json"

command -v node >/dev/null || { echo "install-prism: node is not installed" >&2; exit 2; }
command -v npm >/dev/null || { echo "install-prism: npm is not installed" >&2; exit 2; }

installed_version() {
  [ -x "$BIN" ] && [ -f "$STAMP" ] || return 1
  node -e 'process.stdout.write(require(process.argv[1]).version)' "$STAMP"
}

if [ "$(installed_version || true)" != "$PRISM_VERSION" ]; then
  mkdir -p "$PRISM_DIR"
  # A package.json of our own keeps npm from walking up to another project.
  [ -f "$PRISM_DIR/package.json" ] || echo '{"private": true}' > "$PRISM_DIR/package.json"
  npm install --prefix "$PRISM_DIR" --no-audit --no-fund --loglevel=error \
    --save-exact "@stoplight/prism-cli@$PRISM_VERSION" >&2
  [ "$(installed_version || true)" = "$PRISM_VERSION" ] \
    || { echo "install-prism: prism $PRISM_VERSION not found after install" >&2; exit 1; }
fi
echo "$BIN"
