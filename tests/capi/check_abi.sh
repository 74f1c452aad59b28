#!/bin/sh
# check_abi.sh LAYOUT_BIN LIBRARY BASELINE: the public ABI may only grow.
# Every fact in the committed baseline (field offsets of the public structs,
# result codes, constants, exported functions) must still hold; new facts
# (appended fields, new functions) are fine. After an intended addition,
# regenerate the baseline with: check_abi.sh LAYOUT_BIN LIBRARY BASELINE --update
set -eu
layout=$1 lib=$2 baseline=$3
current=$(mktemp)
trap 'rm -f "$current"' EXIT
{
  "$layout"
  nm -D --defined-only "$lib" | awk '$2 == "T" && $3 ~ /^rtc_/ {print "symbol " $3}'
} | sort >"$current"
if [ "${4:-}" = "--update" ]; then
  cp "$current" "$baseline"
  echo "baseline updated: $(wc -l <"$baseline") facts"
  exit 0
fi
missing=$(sort "$baseline" | comm -23 - "$current")
if [ -n "$missing" ]; then
  echo "ABI break: these baseline facts no longer hold:"
  echo "$missing"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "ABI: $(wc -l <"$baseline") baseline facts hold, $(comm -13 "$baseline" "$current" | wc -l) new"
echo "1 passed, 0 failed"
