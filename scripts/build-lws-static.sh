#!/usr/bin/env bash
# Builds a static, position-independent libwebsockets 4.1.6 with libuv
# support compiled in (no event-library plugins), for the binary packages
# that must run without Debian's libwebsockets: the Python wheel and the
# npm prebuilt addon. Debian's own build loads libuv support as a plugin
# (libwebsockets-evlib_uv.so) from the hard-coded directory
# /usr/lib/x86_64-linux-gnu only, so a bundled copy of that library could
# never find a bundled plugin; linking lws statically into librtcore avoids
# the plugin altogether (lws's LGPL-2.1 carries a static-linking exception,
# see NOTICE).
#
# The sources are Debian's (the version and patches of the installed
# libwebsockets17),
# fetched with apt-get source from a private deb-src list: nothing under
# /etc/apt changes. Prints the install prefix on its last line.
# Usage: scripts/build-lws-static.sh [CACHE_DIR]   (default build-lws)
set -euo pipefail
cd "$(dirname "$0")/.."
cache=$(realpath -m "${1:-build-lws}")
prefix=$cache/install
if [ -f "$prefix/lib/cmake/libwebsockets/libwebsockets-config.cmake" ]; then
  echo "$prefix"
  exit 0
fi
mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial"
printf '%s\n' "deb-src http://deb.debian.org/debian bookworm main" \
  "deb-src http://deb.debian.org/debian-security bookworm-security main" >"$cache/apt/sources.list"
# The same source version as the libwebsockets17 installed here, if any.
want=$(dpkg-query -W -f='${source:Version}' libwebsockets17 2>/dev/null || true)
apt_opts=(-o "Dir::Etc::SourceList=$cache/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
  -o "Dir::State::Lists=$cache/apt/lists" -o "Dir::Cache=$cache/apt/cache" -o APT::Sandbox::User=root)
if [ ! -d "$cache/src/libwebsockets-4.1.6" ]; then
  echo "build-lws-static: fetching Debian's libwebsockets 4.1.6 sources" >&2
  apt-get "${apt_opts[@]}" update -qq >&2
  mkdir -p "$cache/src"
  (cd "$cache/src" && { apt-get "${apt_opts[@]}" source -qq "libwebsockets${want:+=$want}" ||
    apt-get "${apt_opts[@]}" source -qq libwebsockets; } >&2)
fi
[ -d "$cache/src/libwebsockets-4.1.6" ] || { echo "build-lws-static: expected libwebsockets 4.1.6 sources" >&2; exit 1; }
echo "build-lws-static: building (static, PIC, libuv built in)" >&2
# Debian's options (debian/rules) minus glib/libev and the plugins; no test
# apps, no extensions (the engine offers none, so no zlib). The engine uses
# plain WebSocket + TLS + libuv.
cmake -S "$cache/src/libwebsockets-4.1.6" -B "$cache/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
  -DLWS_WITH_SHARED=OFF -DLWS_WITH_STATIC=ON \
  -DLWS_WITH_LIBUV=ON -DLWS_WITH_EVLIB_PLUGINS=OFF \
  -DLWS_IPV6=ON -DLWS_UNIX_SOCK=ON -DLWS_WITH_ZLIB=OFF -DLWS_WITHOUT_EXTENSIONS=ON \
  -DLWS_WITHOUT_TESTAPPS=ON -DLWS_WITHOUT_TEST_SERVER=ON -DLWS_WITHOUT_TEST_PING=ON \
  -DLWS_WITHOUT_TEST_CLIENT=ON -DLWS_WITH_MINIMAL_EXAMPLES=OFF -DDISABLE_WERROR=ON >&2
ninja -C "$cache/build" -j"${RTCORE_JOBS:-2}" install >&2
echo "$prefix"
