#!/usr/bin/env bash
# Builds the Debian packages librtcore0, librtcore-dev and rtcore-server
# with CPack into DIR (default build-deb): a Release build installed under
# /usr, without tests. Prints the .deb paths.
# Usage: scripts/build-debs.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-deb}
cmake -S . -B "$dir" -G Ninja -DRTCORE_WERROR=ON -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX=/usr -DRTCORE_BUILD_TESTS=OFF >/dev/null
ninja -C "$dir" -j"${RTCORE_JOBS:-2}" rtcore rtcore-server >/dev/null
rm -f "$dir"/*.deb
(cd "$dir" && cpack -G DEB >cpack.log 2>&1) || { cat "$dir/cpack.log"; exit 1; }
ls "$PWD/$dir"/*.deb
