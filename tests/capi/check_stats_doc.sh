#!/bin/sh
# check_stats_doc.sh TABLE HEADER: every row of the stats table
# (core/engine/stats_table.hpp) is a field of rtc_stats in rtcore.h that
# carries a comment saying what it counts. (That the fields are exactly the
# rows, in order, is checked at compile time in capi/src/stats.cpp.)
set -eu
table=$1 header=$2
rows=$(sed -n 's/^ *X(\([a-z_]*\), k\(Gauge\|Counter\),.*/\1/p' "$table")
[ -n "$rows" ] || { echo "no rows found in $table"; echo "0 passed, 1 failed"; exit 1; }
body=$(sed -n '/^typedef struct rtc_stats {/,/^} rtc_stats;/p' "$header")
missing=""
for r in $rows; do
  echo "$body" | grep -Eq "uint64_t $r; */\*" || missing="$missing $r"
done
if [ -n "$missing" ]; then
  echo "rtc_stats lacks a documented field for:$missing"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "$(echo "$rows" | wc -l) counters documented in rtc_stats"
echo "1 passed, 0 failed"
