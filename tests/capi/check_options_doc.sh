#!/bin/sh
# check_options_doc.sh TABLE HEADER README: the settings table
# (capi/src/options_table.hpp) and rtc_config agree: every field of
# rtc_config is a row or one of the table's kSpecialFields, every row is a
# field, and every row's flag is documented in the README's table of
# rtcore-server options.
set -eu
table=$1 header=$2 readme=$3
rows=$(sed -n 's/^ *X(\([a-z_0-9]*\), RTC_OPTION_.*/\1/p' "$table")
flags=$(sed -n 's/^ *X([a-z_0-9]*, RTC_OPTION_[A-Z]*, RTC_UNIT_[A-Z]*, "\(--[a-z-]*\)".*/\1/p' "$table")
specials=$(sed -n '/kSpecialFields/,/};/p' "$table" | grep -o '"[a-z_]*"' | tr -d '"')
fields=$(sed -n '/^typedef struct rtc_config {/,/^} rtc_config;/p' "$header" |
  sed -n 's/^ *\(const char *\* *\|uint32_t \|uint64_t \|size_t \)\**\([a-z_0-9]*\);.*/\2/p')
fail=0
for f in $fields; do
  echo "$rows $specials" | tr ' ' '\n' | grep -qx "$f" || { echo "rtc_config.$f is not in the settings table"; fail=1; }
done
for r in $rows; do
  echo "$fields" | grep -qx "$r" || { echo "table row $r is not a field of rtc_config"; fail=1; }
done
for fl in $flags; do
  grep -q -- "\`$fl" "$readme" || { echo "README does not document $fl"; fail=1; }
done
if [ $fail = 1 ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
echo "$(echo "$rows" | wc -l) settings: table, rtc_config and README agree"
echo "1 passed, 0 failed"
