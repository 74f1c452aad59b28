#!/usr/bin/env bash
# The Node host's tests, as a user gets the package: packs bindings/node
# (its prepack step copies the engine sources in), installs that tarball
# into a scratch app (which builds the addon offline against the installed
# Node headers), then runs `node --test` (including `tsc --noEmit` on
# index.d.ts and `scripts/gen-types.js --check`) against the installed
# copy. Needs only the npm registry.
# Run after scripts/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "test-node: installing Node.js from Debian"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm libnode-dev >/dev/null
fi
echo "test-node: node $(node --version), npm $(npm --version)"

started=$(date +%s)
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

echo "== npm ci (test dependencies: ws, express, typescript, node-addon-api)"
(cd bindings/node && npm ci --ignore-scripts --no-progress --loglevel=error)

# RTCORE_NODE_KEEP=DIR: install into DIR and keep it (scripts/test.sh passes
# it on to the example parity and doc tests as DIR/app/node_modules).
if [ -n "${RTCORE_NODE_KEEP:-}" ]; then
  scratch=$RTCORE_NODE_KEEP
  rm -rf "$scratch" && mkdir -p "$scratch"
else
  scratch=$(mktemp -d /tmp/rtcore-node-test.XXXXXX)
  trap 'rm -rf "$scratch"' EXIT
fi

echo "== npm pack"
(cd bindings/node && npm pack --pack-destination "$scratch" --loglevel=error >/dev/null)
tarball=$(ls "$scratch"/rtcore-*.tgz)

echo "== npm install $(basename "$tarball") into a scratch app (builds the addon)"
mkdir "$scratch/app"
(cd "$scratch/app" && echo '{"name":"rtcore-scratch-app","private":true}' >package.json &&
  npm install "$tarball" --no-progress --loglevel=error --foreground-scripts >"$scratch/install.log" 2>&1) ||
  { cat "$scratch/install.log"; exit 1; }
(cd "$scratch/app" && node -e "const r=require('rtcore'); console.log('test-node: rtcore', r.version, 'loads')")

echo "== node --test"
RTCORE_PACKAGE="$scratch/app/node_modules/rtcore" timeout 600 \
  node --test --test-reporter=spec bindings/node/test/*.test.js
echo "== Node host tests passed in $(($(date +%s) - started)) s"
