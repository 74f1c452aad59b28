#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) and
# runs each for a bounded time on a scratch copy of its committed seed
# corpus. Any crash, sanitizer report, leak, timeout (-timeout=5 s per input:
# slowdowns count) or out-of-memory fails the run; the failing input and the
# command that reproduces it are printed.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 60)
#
# Environment:
#   FUZZ_TARGETS="protocol_codec envelope"  run only these targets
#   FUZZ_BUILD_ONLY=1                        build, then stop
#   FUZZ_JOBS=N                              run N targets at once (default 1)
#   RTCORE_FUZZ_STRICT=1                     also enforce the strict checks
#                                            (tests/fuzz/README.md)
#   CXX                                      clang++ to use (default clang++)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-60}
ALL_TARGETS="protocol_codec upgrade_path envelope backplane_wire own_transport redis_reply"
TARGETS=${FUZZ_TARGETS:-$ALL_TARGETS}
JOBS=${FUZZ_JOBS:-1}
OUT=build-fuzz
CXX=${CXX:-clang++}

# -max_len per target: long enough for the interesting shapes (65+ levels of
# nesting, long numbers, 128-byte ids in 4-byte characters, full envelopes),
# short enough to keep executions fast.
max_len() {
  case $1 in
    protocol_codec) echo 8192 ;;
    upgrade_path) echo 1024 ;;
    envelope) echo 4096 ;;
    backplane_wire) echo 4096 ;;
    own_transport) echo 4096 ;;
    redis_reply) echo 4096 ;;
  esac
}

# --------------------------------------------------------------- toolchain
need_install=0
command -v "$CXX" >/dev/null 2>&1 || need_install=1
if [ $need_install = 0 ]; then
  # The fuzzer runtime comes with compiler-rt, which is a separate package.
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
    >/tmp/rtcore-fuzz-probe.$$.cpp
  "$CXX" -fsanitize=fuzzer,address,undefined /tmp/rtcore-fuzz-probe.$$.cpp -o /tmp/rtcore-fuzz-probe.$$ \
    >/dev/null 2>&1 || need_install=1
  rm -f /tmp/rtcore-fuzz-probe.$$.cpp /tmp/rtcore-fuzz-probe.$$
fi
if [ ! -f /usr/include/rapidjson/reader.h ] || [ ! -f /usr/include/msgpack.hpp ]; then need_install=1; fi
if [ $need_install = 1 ]; then
  echo "== installing clang 14, compiler-rt, rapidjson and msgpack-cxx"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang libclang-rt-14-dev rapidjson-dev \
    libmsgpack-cxx-dev >/dev/null
fi

# ------------------------------------------------------------------- build
FLAGS=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  -fsanitize-ignorelist=tests/fuzz/ubsan_ignorelist.txt -DMSGPACK_NO_BOOST -Icore -Itests/fuzz)
SOURCES=(core/protocol/client_message.cpp core/protocol/error_code.cpp core/protocol/json_check.cpp
  core/protocol/server_message.cpp core/protocol/timestamp.cpp core/protocol/validate.cpp
  core/protocol/ws_frame.cpp core/transport/upgrade_request.cpp core/backplane/envelope.cpp core/backplane/redis_url.cpp core/backplane/wire.cpp
  core/backplane/redis_reply_arena.cpp)
mkdir -p "$OUT/obj"
echo "== building fuzz targets into $OUT/"
pids=()
for src in "${SOURCES[@]}"; do
  obj="$OUT/obj/$(basename "${src%.cpp}").o"
  "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj" &
  pids+=($!)
done
for t in $TARGETS; do
  "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer -c "tests/fuzz/fuzz_$t.cpp" -o "$OUT/obj/fuzz_$t.o" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
OBJS=()
for src in "${SOURCES[@]}"; do OBJS+=("$OUT/obj/$(basename "${src%.cpp}").o"); done
for t in $TARGETS; do
  "$CXX" "${FLAGS[@]}" -fsanitize=fuzzer "$OUT/obj/fuzz_$t.o" "${OBJS[@]}" -lcrypto -lhiredis -o "$OUT/fuzz_$t"
done
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

dict_for() {
  case $1 in
    protocol_codec) echo tests/fuzz/dict/json.dict ;;
    upgrade_path) echo tests/fuzz/dict/upgrade_path.dict ;;
    envelope) echo tests/fuzz/dict/envelope.dict ;;
    backplane_wire) echo tests/fuzz/dict/backplane_wire.dict ;;
    own_transport) echo tests/fuzz/dict/own_transport.dict ;;
    redis_reply) echo tests/fuzz/dict/redis_reply.dict ;;
  esac
}

common_args() {  # $1 target
  echo "-timeout=5 -rss_limit_mb=2048 -max_len=$(max_len "$1") -dict=$(dict_for "$1")"
}

report_failure() {  # $1 target, $2 log
  local t=$1 log=$2 bin="$OUT/fuzz_$1"
  echo "!! fuzz target $t FAILED; last lines of $log:"
  tail -n 60 "$log" | sed 's/^/   | /'
  local found=0
  for f in "$OUT/artifacts/$t"/*; do
    [ -e "$f" ] || continue
    found=1
    echo "!! failing input: $f ($(stat -c %s "$f") bytes)"
    echo "   reproduce:  FUZZ_BUILD_ONLY=1 scripts/fuzz.sh && $bin -timeout=5 -rss_limit_mb=4096 $f"
    echo "   minimize:   $bin -minimize_crash=1 -runs=100000 $(common_args "$t") $f"
    echo "   as hex:     $(head -c 256 "$f" | od -v -An -tx1 | tr -d '\n' | tr -s ' ')"
  done
  [ $found = 1 ] || echo "!! no artifact was written (see the log above)"
}

# Stress inputs, built here so the committed corpus stays small: far deeper
# nesting and far longer numbers and strings than -max_len allows while
# fuzzing (about 1 MB each, or a million levels of nesting). Each must finish
# within the same -timeout and without overflowing the stack: any superlinear
# behaviour at this size blows far past it, while a linear pass under ASan
# takes well under a second.
make_stress() {
  local d="$OUT/stress"
  rm -rf "$d"
  mkdir -p "$d"
  python3 - "$d" <<'PY'
import sys, os
d = sys.argv[1]
N = 300_000
def w(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
w("deep-array", "[" * N)
w("deep-array-closed", "[" * N + "]" * N)
w("deep-object", '{"a":' * (N // 5) + "1" + "}" * (N // 5))
w("deep-content", '{"type":"room_message","room":"r","content":' + "[" * N + "]" * N + "}")
w("deep-at-limit", '{"type":"room_message","room":"r","content":' + "[" * 63 + "]" * 63 + "}")
w("huge-integer", '{"type":"room_message","room":"r","content":' + "9" * 1_000_000 + ',"id":' + "1" * 100_000 + "}")
w("huge-float", '{"type":"room_message","room":"r","content":-' + "1" * 500_000 + "." + "2" * 500_000 + "e+" + "9" * 1000 + "}")
w("huge-exponent", '{"type":"x","content":1e' + "9" * 500_000 + "}")
w("many-members", "{" + ",".join('"k%d":[%d]' % (i, i) for i in range(50_000)) + ',"type":"join_room","room":"r"}')
w("long-escapes", '{"type":"join_room","room":"' + "\\u00e9\\n\\ud83d\\ude00" * 50_000 + '"}')
w("long-string", '{"type":"room_message","room":"r","content":"' + "a" * 1_000_000 + '"}')
w("long-path", "/ws/" + "\u00e9" * 250_000)
w("long-url", "redis://" + "%41" * 100_000 + "@" + "h" * 500_000 + ":6379/1")
PY
  echo "$d"
}

stress_files() {  # which stress inputs each target runs
  local d=$1
  case $2 in
    protocol_codec) ls "$d"/deep-* "$d"/huge-* "$d"/many-* "$d"/long-escapes "$d"/long-string ;;
    upgrade_path) ls "$d"/long-path "$d"/long-url ;;
    envelope) ;;
    backplane_wire) ;;
    own_transport) ;;
    redis_reply) ;;
  esac
}

status=0
for t in $TARGETS; do rm -rf "$OUT/artifacts/$t"; done
stress_dir=$(make_stress)
echo "== stress inputs (deep nesting, huge numbers and strings)"
for t in $TARGETS; do
  files=$(stress_files "$stress_dir" "$t")
  [ -n "$files" ] || continue
  log="$OUT/logs/$t.stress.log"
  mkdir -p "$OUT/logs" "$OUT/artifacts/$t"
  # shellcheck disable=SC2086
  if "$OUT/fuzz_$t" -timeout=5 -rss_limit_mb=4096 -artifact_prefix="$OUT/artifacts/$t/" $files >"$log" 2>&1; then
    echo "   $t: $(echo $files | wc -w) stress inputs ok"
  else
    status=1
    report_failure "$t" "$log"
  fi
done

run_target() {  # $1 target; returns non-zero on failure
  local t=$1 bin="$OUT/fuzz_$1"
  local work="$OUT/work/$t" art="$OUT/artifacts/$t" log="$OUT/logs/$t.log"
  rm -rf "$work"
  mkdir -p "$work" "$art" "$OUT/logs"
  # Fuzz on a scratch copy: new inputs never land in the committed corpus.
  cp -r "tests/fuzz/corpus/$t/." "$work/"
  # shellcheck disable=SC2046
  "$bin" $(common_args "$t") -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
    -artifact_prefix="$art/" "$work" >"$log" 2>&1
}

summarize() {  # $1 target
  local log="$OUT/logs/$1.log"
  local last
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  local execs
  execs=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}' || true)
  echo "   $1: ok; ${execs:-?} exec/s; ${last:-}"
}

if [ "$SECONDS_PER_TARGET" -gt 0 ]; then
  echo "== fuzzing each target for ${SECONDS_PER_TARGET}s (${JOBS} at a time)"
  running=()
  names=()
  flush() {
    local i
    for i in "${!running[@]}"; do
      if wait "${running[$i]}"; then
        summarize "${names[$i]}"
      else
        status=1
        report_failure "${names[$i]}" "$OUT/logs/${names[$i]}.log"
      fi
    done
    running=()
    names=()
  }
  for t in $TARGETS; do
    run_target "$t" &
    running+=($!)
    names+=("$t")
    if [ "${#running[@]}" -ge "$JOBS" ]; then flush; fi
  done
  flush
fi

if [ $status = 0 ]; then
  echo "== fuzzing passed"
else
  echo "== fuzzing FAILED"
fi
exit $status
