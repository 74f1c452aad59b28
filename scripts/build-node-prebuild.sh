#!/usr/bin/env bash
# Builds the Node addon's prebuilt binary for npm: bindings/node/prebuilds/
# linux-x64/ gets rtcore.node, librtcore.so.0 (libwebsockets linked in
# statically, with libuv built in: scripts/build-lws-static.sh) and copies
# of the libraries librtcore needs that Debian provides (libuv, hiredis,
# OpenSSL, libcap), each stripped and with RPATH $ORIGIN, plus their license
# texts. They keep their SONAMEs: inside Node, libuv and OpenSSL symbols
# bind to Node's own copies anyway (docs: STACK-NOTES of the project), and a
# Node linked against the system's shared libuv/OpenSSL reuses those. Then
# `npm pack` in bindings/node carries prebuilds/ (package.json "files"), and
# `npm install` of that tarball builds nothing when the prebuilt loads
# (scripts/install.js). Remove the folder again with --clean.
# Usage: scripts/build-node-prebuild.sh [--clean] [BUILD_DIR]  (default build-node-prebuild)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=bindings/node/prebuilds/linux-x64
if [ "${1:-}" = "--clean" ]; then
  rm -rf bindings/node/prebuilds
  exit 0
fi
dir=$(realpath -m "${1:-build-node-prebuild}")
lws=$(scripts/build-lws-static.sh build-lws | tail -1)
nodeinc=$(node -p 'require("path").resolve(process.execPath, "../../include/node")')
[ -f "$nodeinc/node_api.h" ] || nodeinc=/usr/include/node
(cd bindings/node && [ -d node_modules/node-addon-api ] ||
  npm ci --ignore-scripts --no-progress --loglevel=error --no-audit --no-fund >&2)
addon_api=$(cd bindings/node && node -p 'require("path").resolve(require("node-addon-api").include_dir)')
cmake -S bindings/node -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DRTCORE_ENGINE_DIR="$PWD" -DNODE_INCLUDE_DIR="$nodeinc" -DNODE_ADDON_API_DIR="$addon_api" \
  -DRTCORE_LWS_PREFIX="$lws" >&2
ninja -C "$dir" -j"${RTCORE_JOBS:-2}" rtcore_node >&2

rm -rf bindings/node/prebuilds
mkdir -p "$dest/licenses"
cp "$dir/rtcore.node" "$dest/"
cp -L "$dir/librtcore.so.0" "$dest/"
# The non-glibc, non-libstdc++ libraries librtcore needs, from this machine.
ldd "$dest/librtcore.so.0" | awk '$3 ~ /^\// {print $1, $3}' | while read -r soname file; do
  case $soname in
    libc.so* | libm.so* | libdl.so* | libpthread.so* | librt.so* | libstdc++.so* | libgcc_s.so* | ld-linux*) continue ;;
  esac
  cp -L "$file" "$dest/$soname"
  chmod 644 "$dest/$soname"
  real=$(realpath "$file")
  pkg=$( (dpkg -S "$real" || dpkg -S "${real#/usr}") 2>/dev/null | head -1 | cut -d: -f1)
  if [ -n "$pkg" ] && [ -f "/usr/share/doc/$pkg/copyright" ]; then
    cp "/usr/share/doc/$pkg/copyright" "$dest/licenses/$pkg.copyright"
  else
    echo "build-node-prebuild: no Debian copyright file for $file" >&2
    exit 1
  fi
done
for f in "$dest"/*.so* "$dest/rtcore.node"; do
  strip --strip-unneeded "$f"
  patchelf --set-rpath '$ORIGIN' "$f"
done
for pkg in libwebsockets17 libmsgpack-cxx-dev rapidjson-dev; do
  if [ -f "/usr/share/doc/$pkg/copyright" ]; then cp "/usr/share/doc/$pkg/copyright" "$dest/licenses/$pkg.copyright"; fi
done
cp NOTICE "$dest/licenses/NOTICE"
ls -la "$dest" >&2
echo "$PWD/$dest"
