#!/usr/bin/env bash
# The public ABI of librtcore, as libabigail sees it from the public header
# (abidw --headers-dir capi/include: only the types rtcore.h declares and
# the functions it exports), against the committed baseline
# capi/abi/rtcore.abi. Complements tests/capi/check_abi.sh (field offsets,
# constants, symbol names) with types: a removed function or a changed
# signature or struct fails. Allowed: new functions (--no-added-syms) and
# fields appended at the end of a struct (capi/abi/rtcore.suppr: the
# struct_size pattern of rtcore.h).
# Usage: scripts/check-abi.sh [LIB]               check (default build/librtcore.so)
#        scripts/check-abi.sh --update [LIB]      regenerate the baseline
#        scripts/check-abi.sh --dump LIB OUT      write LIB's ABI to OUT
#        scripts/check-abi.sh --compare OLD NEW   compare two ABI files
set -euo pipefail
# File arguments are relative to the caller's directory.
args=()
for a in "$@"; do
  case $a in --*) args+=("$a") ;; *) args+=("$(realpath -m "$a")") ;; esac
done
set -- "${args[@]}"
cd "$(dirname "$0")/.."
baseline=capi/abi/rtcore.abi
suppr=capi/abi/rtcore.suppr

dump() {  # $1 library, $2 output
  abidw --headers-dir capi/include --drop-private-types --exported-interfaces-only --drop-undefined-syms \
    --no-show-locs --no-corpus-path --no-comp-dir-path --type-id-style hash --out-file "$2" "$1"
  # Translation-unit paths name the checkout; they are not part of the ABI.
  sed -i "s|path='$PWD/|path='|" "$2"
}

compare() {  # $1 old, $2 new
  local rc=0
  abidiff --suppressions "$suppr" --no-added-syms "$1" "$2" || rc=$?
  if ((rc != 0)); then
    # abidiff's status is a bit mask: 4 an ABI change, 8 an incompatible one.
    echo "check-abi: public ABI changed (abidiff status $rc). An intended addition: scripts/check-abi.sh --update"
    return 1
  fi
  echo "check-abi: public ABI of the header unchanged (added functions and appended fields allowed)"
}

case "${1:-}" in
  --update)
    dump "${2:-build/librtcore.so}" "$baseline"
    echo "check-abi: $baseline updated ($(wc -c <"$baseline") bytes)"
    ;;
  --dump) dump "$2" "$3" ;;
  --compare) compare "$2" "$3" ;;
  *)
    tmp=$(mktemp)
    trap 'rm -f "$tmp"' EXIT
    dump "${1:-build/librtcore.so}" "$tmp"
    compare "$baseline" "$tmp"
    ;;
esac
