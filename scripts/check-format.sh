#!/usr/bin/env bash
# Every tracked C and C++ file is as clang-format (Debian 12's, version 14)
# writes it under .clang-format. The settings and counters tables stay one
# row per line (`// clang-format off`): tests/capi/check_*_doc.sh read them.
# Usage: scripts/check-format.sh          check (exit 1 naming each file)
#        scripts/check-format.sh --fix    rewrite the files in place
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format not installed (apt-get install clang-format)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.c' '*.h' '*.cpp' '*.hpp')
if [[ ${1:-} == --fix ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "check-format: not clang-formatted (scripts/check-format.sh --fix):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "check-format: ${#files[@]} files formatted ($(clang-format --version | grep -o 'version [0-9.]*'))"
