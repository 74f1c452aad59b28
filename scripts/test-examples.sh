#!/usr/bin/env bash
# The example chat server in C, C++, Python and Node against one client
# script (tests/parity), then every snippet of every README (tests/doc).
# Needs a build (RTCORE_BUILD, default build), an interpreter that imports
# rtcore (RTCORE_PYTHON, default python3; scripts/test-python.sh installs
# it), and a NODE_PATH under which require('rtcore') resolves
# (RTCORE_NODE_PATH; scripts/test.sh passes the install scripts/test-node.sh
# kept). In CI (CI=true) a missing host fails instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export RTCORE_BUILD=${RTCORE_BUILD:-$PWD/build}
export RTCORE_SERVER=${RTCORE_SERVER:-$RTCORE_BUILD/rtcore-server}
export RTCORE_PYTHON=${RTCORE_PYTHON:-python3}
# ws for the Node snippets and examples that use it, after rtcore's own path.
export RTCORE_NODE_PATH="${RTCORE_NODE_PATH:-}${RTCORE_NODE_PATH:+:}$PWD/bindings/node/node_modules"
if [ "${CI:-}" = true ]; then
  export RTCORE_PARITY_REQUIRE_ALL=1 RTCORE_DOCTEST_REQUIRE_ALL=1
fi
"$RTCORE_PYTHON" -m pytest tests/parity tests/doc -q -p no:cacheprovider -rs "$@"
