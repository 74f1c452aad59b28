#!/bin/sh
# check_exports.sh: the shared library exports only the C API.
#
# Usage: check_exports.sh path/to/librtcore.so
#
# Fails if `nm -D --defined-only` shows a defined dynamic symbol whose name
# does not start with rtc_ (ignoring _init, _fini, _edata, _end, __bss_start
# and absolute symbols of type A, such as version-script nodes), or if fewer
# than 10 rtc_ symbols are exported. Ends with "1 passed, 0 failed" or
# "0 passed, 1 failed".
set -u

MIN_RTC_SYMBOLS=10
NM=${NM:-nm}

fail() {
  echo "check_exports: $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}

[ $# -eq 1 ] || fail "usage: $0 path/to/librtcore.so"
lib=$1
[ -f "$lib" ] || fail "no such file: $lib"

symbols=$("$NM" -D --defined-only "$lib") || fail "$NM -D failed on $lib"

# Lines are "VALUE TYPE NAME" (VALUE may be absent); names may carry a
# version suffix such as rtc_version@@RTCORE_0.
names=$(printf '%s\n' "$symbols" | awk '
  NF >= 2 {
    type = $(NF - 1); name = $NF
    sub(/@.*/, "", name)
    if (type == "A") next
    print type " " name
  }')

bad=$(printf '%s\n' "$names" | awk '
  NF == 2 {
    name = $2
    if (name ~ /^rtc_/) next
    if (name == "_init" || name == "_fini" || name == "_edata" ||
        name == "_end" || name == "__bss_start") next
    print
  }')

count=$(printf '%s\n' "$names" | awk 'NF == 2 && $2 ~ /^rtc_/' | wc -l)

status=0
if [ -n "$bad" ]; then
  echo "check_exports: $lib exports symbols outside the C API:" >&2
  printf '%s\n' "$bad" | sed 's/^/  /' >&2
  status=1
fi
if [ "$count" -lt "$MIN_RTC_SYMBOLS" ]; then
  echo "check_exports: only $count rtc_ symbols exported" \
       "(expected at least $MIN_RTC_SYMBOLS)" >&2
  status=1
fi

if [ "$status" -eq 0 ]; then
  echo "check_exports: $count rtc_ symbols, nothing else exported"
  echo "1 passed, 0 failed"
  exit 0
fi
echo "0 passed, 1 failed"
exit 1
