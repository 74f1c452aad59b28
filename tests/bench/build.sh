#!/usr/bin/env bash
# Builds the benchmark tools into build-bench/ (no change to the project's
# CMake): the load generator, the Google Benchmark micro-benchmarks (core
# sources compiled directly), and a Release rtcore-server in build-release/.
# Usage: tests/bench/build.sh [--no-server] [--no-micro]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build-bench
mkdir -p "$out"
server=1 micro=1
for a in "$@"; do
  case $a in
    --no-server) server=0 ;;
    --no-micro) micro=0 ;;
  esac
done
CXX=${CXX:-g++}
flags=(-std=c++20 -O2 -g -Wall -Wextra)

# Load generator: one file, no dependencies.
src=$root/tests/bench/loadgen/loadgen.cpp
if [[ ! -x $out/loadgen || $src -nt $out/loadgen ]]; then
  $CXX "${flags[@]}" -o "$out/loadgen" "$src"
fi

if [[ $server == 1 ]]; then
  if [[ ! -f $root/build-release/build.ninja ]]; then
    cmake -S "$root" -B "$root/build-release" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRTCORE_BUILD_TESTS=OFF >/dev/null
  fi
  ninja -C "$root/build-release" rtcore-server >/dev/null
fi

if [[ $micro == 1 ]]; then
  if [[ ! -f /usr/include/benchmark/benchmark.h ]]; then
    echo "installing libbenchmark-dev" >&2
    (apt-get install -y libbenchmark-dev >/dev/null 2>&1 ||
      { apt-get update >/dev/null 2>&1 && apt-get install -y libbenchmark-dev >/dev/null; })
  fi
  core=$root/core
  msrc=(
    "$root/tests/bench/micro/micro_bench.cpp"
    "$core/protocol/client_message.cpp" "$core/protocol/error_code.cpp" "$core/protocol/json_check.cpp"
    "$core/protocol/server_message.cpp" "$core/protocol/timestamp.cpp" "$core/protocol/validate.cpp"
    "$core/protocol/ws_frame.cpp" "$core/buffer/frame.cpp" "$core/buffer/send_queue.cpp" "$core/hub/hub.cpp"
  )
  newest=0
  for f in "${msrc[@]}" "$core"/*/*.hpp; do
    t=$(stat -c %Y "$f"); (( t > newest )) && newest=$t
  done
  if [[ ! -x $out/micro_bench ]] || (( $(stat -c %Y "$out/micro_bench") < newest )); then
    $CXX -std=c++20 -O2 -g -DNDEBUG -I"$core" -o "$out/micro_bench" "${msrc[@]}" \
      -lbenchmark -lpthread
  fi
fi
echo "$out"
