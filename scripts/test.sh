#!/usr/bin/env bash
# Fresh machine to passing test suite: installs the dependencies, builds
# with -Wall -Wextra -Werror, and runs every test twice: once plainly, once
# under AddressSanitizer + UBSan (leaks fail the run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

run_suite() {  # $1 build dir, rest: extra cmake args
  local dir=$1
  shift
  echo "== build ($dir)"
  scripts/build.sh "$dir" "$@"
  echo "== unit and C API tests ($dir)"
  (cd "$dir" && ctest --output-on-failure --timeout 300)
  echo "== integration tests ($dir)"
  RTCORE_SERVER="$PWD/$dir/rtcore-server" python3 -m pytest tests/integration -q -p no:cacheprovider
}

started=$(date +%s)
echo "== format"
scripts/check-format.sh
run_suite build
echo "== Python host"
scripts/test-python.sh
echo "== Node host"
RTCORE_NODE_KEEP="$PWD/build/node-scratch" scripts/test-node.sh
echo "== JS client (node --test against real servers, then the demo page in headless Chromium)"
scripts/test-js-client.sh
echo "== examples in four languages (one parity script) and every README snippet"
RTCORE_PARITY_REQUIRE_ALL=1 RTCORE_DOCTEST_REQUIRE_ALL=1 \
  RTCORE_NODE_PATH="$PWD/build/node-scratch/app/node_modules" scripts/test-examples.sh
scripts/test-packaging.sh  # .debs (installed, served, purged), manylinux wheel, npm prebuilt, --prefix + CMake/pkg-config hosts, abidiff
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export RTCORE_SANITIZED=1  # tests skip RSS bounds (ASan keeps freed memory)
export LSAN_OPTIONS=suppressions=$PWD/tests/support/lsan.supp
run_suite build-asan -DRTCORE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
echo "== fuzzing (each target for a bounded time, ASan + UBSan)"
RTCORE_FUZZ_STRICT=1 scripts/fuzz.sh "${RTCORE_FUZZ_SECONDS:-20}"
echo "== benchmark smoke (fails on loss, duplicates, reordering, crashes; never on timing)"
tests/bench/run --smoke
echo "== all tests passed in $(( $(date +%s) - started )) s"
