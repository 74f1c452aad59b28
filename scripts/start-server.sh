#!/usr/bin/env bash
# Fresh machine to running server: installs the dependencies, builds, and
# starts rtcore-server on the in-process backplane (one node, no Redis).
# Extra arguments go to rtcore-server, e.g. --port 9000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
exec ./build/rtcore-server --host "${RTCORE_HOST:-127.0.0.1}" "$@"
