#!/usr/bin/env bash
# Packaging tests: rtcore installed the way each ecosystem installs things.
#   version  one version everywhere (CMake project, C header, Python, Node)
#   cmake    `cmake --install --prefix P`, then a find_package(rtcore) project
#            and a pkg-config Makefile build against P and serve a client
#   deb      the .debs (CPack): lintian, apt-get install on this machine,
#            the installed rtcore-server serves a chat client, systemd-analyze
#            verify of the unit, then apt-get remove --purge
#   wheel    sdist builds in a fresh venv; auditwheel-repaired wheel installs
#            in a fresh venv without build tools and the chat example serves
#   npm      npm pack with the prebuilt addon, installed without build tools;
#            the chat example serves
#   abi      abidiff of the public header's ABI against capi/abi/rtcore.abi
# Usage: scripts/test-packaging.sh [SECTION...]   (default: all)
# Needs scripts/install-deps.sh and a build in build/ (scripts/build.sh).
# BUILD_DIR picks another build; PYTHON the interpreter of the wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${BUILD_DIR:-build}
PY=${PYTHON:-python3}
sections=("$@")
((${#sections[@]})) || sections=(version cmake deb wheel npm abi)
scratch=$(mktemp -d /tmp/rtcore-packaging.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
started=$(date +%s)
version=$(sed -n 's/^project(rtcore VERSION \([0-9][0-9.]*\).*/\1/p' CMakeLists.txt)
[ -n "$version" ] || { echo "test-packaging: no project(rtcore VERSION ...) in CMakeLists.txt"; exit 1; }
fail() { echo "test-packaging: FAIL: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
probe() { python3 packaging/tests/chat_probe.py "$@"; }
# A PATH without compilers or build tools: symlinks to exactly the tools
# named, in a fresh directory.
bare_path() {  # $1 dir, rest: tools
  local dir=$1 t
  shift
  mkdir -p "$dir"
  for t in "$@"; do ln -sf "$(command -v "$t")" "$dir/$t"; done
  for t in cc gcc c++ g++ clang cmake make ninja; do
    PATH=$dir command -v "$t" >/dev/null && fail "$t is on the bare PATH"
  done
  return 0
}

section_version() {
  echo "== version: $version (CMakeLists.txt project VERSION)"
  local h=capi/include/rtcore.h  # CMake refuses to configure when it differs
  grep -q "^#define RTC_VERSION_STRING \"$version\"$" "$h" || fail "$h does not say $version"
  local py
  py=$("$PY" bindings/python/_build/rtcore_build.py --version)
  [ "$py" = "$version" ] || fail "the Python package's version is $py"
  local node
  node=$(node -p 'require("./bindings/node/package.json").version')
  [ "$node" = "$version" ] || fail "bindings/node/package.json says $node (set it to the CMake project version)"
  echo "   header, Python metadata and package.json agree; rtc_version(), rtcore.__version__"
  echo "   and require('rtcore').version are checked by the cmake, wheel and npm sections"
}

section_cmake() {
  echo "== cmake: install into a prefix, then build hosts with find_package and pkg-config"
  local p=$scratch/prefix
  cmake --install "$build" --prefix "$p" >/dev/null
  for f in include/rtcore.h include/rtcore.hpp lib/librtcore.so lib/cmake/rtcore/rtcoreConfig.cmake \
    lib/cmake/rtcore/rtcoreConfigVersion.cmake lib/pkgconfig/rtcore.pc bin/rtcore-server; do
    [ -e "$p/$f" ] || fail "$f not installed"
  done
  # Relocatable: move the tree after installing; both hosts use the new place.
  mv "$p" "$scratch/moved"
  p=$scratch/moved
  [ "$(PKG_CONFIG_PATH=$p/lib/pkgconfig pkg-config --variable=includedir rtcore)" -ef "$p/include" ] ||
    fail "rtcore.pc does not follow its own location"
  [ "$(PKG_CONFIG_PATH=$p/lib/pkgconfig pkg-config --modversion rtcore)" = "$version" ] || fail "rtcore.pc version"
  cmake -S packaging/tests/consumer -B "$scratch/consumer-cmake" -G Ninja -DCMAKE_PREFIX_PATH="$p" \
    -DCMAKE_BUILD_WITH_INSTALL_RPATH=OFF >"$scratch/consumer-cmake.log" 2>&1 ||
    { cat "$scratch/consumer-cmake.log"; fail "find_package(rtcore CONFIG REQUIRED)"; }
  ninja -C "$scratch/consumer-cmake" >/dev/null
  cp -r packaging/tests/consumer "$scratch/consumer-make"
  PKG_CONFIG_PATH="$p/lib/pkgconfig" make -s -C "$scratch/consumer-make" >/dev/null
  local bin port
  for bin in "$scratch/consumer-cmake/consumer" "$scratch/consumer-make/consumer-pc"; do
    port=$(free_port)
    env -u LD_LIBRARY_PATH "$bin" "$port" "$version" >"$scratch/consumer.log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    probe "$port" || { cat "$scratch/consumer.log"; fail "$bin did not serve"; }
    wait "$pid" || { cat "$scratch/consumer.log"; fail "$bin exited non-zero"; }
    echo "   $(basename "$(dirname "$bin")"): $(tail -1 "$scratch/consumer.log")"
  done
  # The server installed into the prefix finds librtcore through its RPATH.
  port=$(free_port)
  env -u LD_LIBRARY_PATH "$p/bin/rtcore-server" --port "$port" >"$scratch/server.log" 2>&1 &
  local spid=$!
  pids+=("$spid")
  probe "$port" || { cat "$scratch/server.log"; fail "prefix rtcore-server did not serve"; }
  kill -TERM "$spid"
  wait "$spid" || fail "prefix rtcore-server did not exit 0 on SIGTERM"
}

section_deb() {
  echo "== deb: build with CPack, lintian, install, serve, remove"
  local debs
  mapfile -t debs < <(scripts/build-debs.sh build-deb)
  ((${#debs[@]} == 3)) || fail "expected 3 .debs, got: ${debs[*]}"
  lintian --fail-on error,warning "${debs[@]}" >"$scratch/lintian.log" 2>&1 ||
    { cat "$scratch/lintian.log"; fail "lintian (see packaging/deb/README.md)"; }
  grep -v 'running with root privileges' "$scratch/lintian.log" || true
  local SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  local pkgs=(librtcore0 librtcore-dev rtcore-server) pkg
  for pkg in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" &&
      fail "$pkg is already installed on this machine: not touching it"
  done
  # Leave the machine as found, whatever happens below.
  deb_cleanup() {
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get remove --purge -y -qq "${pkgs[@]}" >/dev/null 2>&1 || true
  }
  trap 'deb_cleanup; cleanup' EXIT
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${debs[@]}" \
    >"$scratch/apt.log" 2>&1 || { cat "$scratch/apt.log"; fail "apt-get install ./*.deb"; }
  for f in /usr/bin/rtcore-server /lib/systemd/system/rtcore-server.service /etc/default/rtcore-server \
    /usr/include/rtcore.h /usr/lib/x86_64-linux-gnu/librtcore.so.0; do
    [ -e "$f" ] || fail "$f not installed"
  done
  [ "$(pkg-config --modversion rtcore)" = "$version" ] || fail "system rtcore.pc"
  systemd-analyze verify /lib/systemd/system/rtcore-server.service 2>"$scratch/verify.log" ||
    { cat "$scratch/verify.log"; fail "systemd-analyze verify"; }
  [ -s "$scratch/verify.log" ] && { cat "$scratch/verify.log"; fail "systemd-analyze verify warned"; }
  # No systemd as PID 1 here: run the unit's command as systemd would, with
  # the EnvironmentFile's settings, as an unprivileged user, no new privileges.
  local port
  port=$(free_port)
  (
    set -a
    . /etc/default/rtcore-server
    set +a
    export RTCORE_PORT=$port
    exec setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs \
      /usr/bin/rtcore-server
  ) >"$scratch/deb-server.log" 2>&1 &
  local spid=$!
  pids+=("$spid")
  probe "$port" || { cat "$scratch/deb-server.log"; fail "installed rtcore-server did not serve"; }
  kill -TERM "$spid"
  wait "$spid" || { cat "$scratch/deb-server.log"; fail "installed rtcore-server did not exit 0 on SIGTERM"; }
  # The SIGTERM notice is logged in the env file's RTCORE_LOG_FORMAT=json.
  grep -q '^{.*"event":' "$scratch/deb-server.log" ||
    { cat "$scratch/deb-server.log"; fail "RTCORE_LOG_FORMAT=json from /etc/default/rtcore-server not applied"; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get remove --purge -y -qq "${pkgs[@]}" >"$scratch/apt.log" 2>&1 ||
    { cat "$scratch/apt.log"; fail "apt-get remove --purge"; }
  trap cleanup EXIT
  for pkg in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "installed" && fail "$pkg still installed"
  done
  [ ! -e /etc/default/rtcore-server ] && [ ! -e /usr/bin/rtcore-server ] || fail "files left after purge"
  echo "   installed, served as nobody with /etc/default/rtcore-server, verified the unit, purged"
}

section_wheel() {
  echo "== wheel: sdist -> wheel in a fresh venv, auditwheel repair, install without build tools"
  local out
  if [ -n "${RTCORE_REUSE_WHEEL:-}" ]; then  # iterating on the test itself
    out=$(ls build-wheel/sdist/rtcore-*.tar.gz; ls build-wheel/dist/rtcore-*.whl)
    cp build-wheel/auditwheel-show.txt "$scratch/build-wheel.log"
  else
    out=$(scripts/build-wheel.sh build-wheel 2>"$scratch/build-wheel.log" | tail -2) ||
      { cat "$scratch/build-wheel.log"; fail "scripts/build-wheel.sh"; }
  fi
  grep -o 'constrains the platform tag to "[^"]*"' "$scratch/build-wheel.log" | sed 's/^/   auditwheel show: /' || true
  local sdist whl
  sdist=$(sed -n 1p <<<"$out")
  whl=$(sed -n 2p <<<"$out")
  [[ $(basename "$whl") == rtcore-$version-cp3*-manylinux_*_x86_64.whl ]] || fail "wheel name $(basename "$whl")"
  [[ $(basename "$sdist") == rtcore-$version.tar.gz ]] || fail "sdist name $(basename "$sdist")"
  tar tzf "$sdist" >"$scratch/sdist.txt"
  grep -q "^rtcore-$version/engine/capi/include/rtcore.h$" "$scratch/sdist.txt" || fail "sdist lacks the engine sources"
  # The wheel was built by pip from the sdist unpacked in a temporary
  # directory: nothing outside it (../..) was there to use.
  echo "   $(basename "$sdist"), $(basename "$whl") ($(du -k "$whl" | cut -f1) KiB)"
  local venv=$scratch/venv-wheel bare=$scratch/bare-bin
  "$PY" -m venv "$venv"
  bare_path "$bare" sh env
  env -i HOME="$scratch" PATH="$bare:$venv/bin" "$venv/bin/python" -m pip install -q --no-index \
    --disable-pip-version-check "$whl" || fail "pip install $(basename "$whl") without build tools"
  local site
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  # Every library the engine needs resolves to the wheel's own copies.
  local so lib
  for so in "$site"/rtcore/_native*.so "$site"/rtcore/librtcore.so.*; do
    env -u LD_LIBRARY_PATH ldd "$so" >"$scratch/ldd.txt"
    grep -q "not found" "$scratch/ldd.txt" && { cat "$scratch/ldd.txt"; fail "$so: unresolved library"; }
    grep -q "libwebsockets" "$scratch/ldd.txt" && fail "$so needs a shared libwebsockets (it is linked in statically)"
    for lib in libuv libssl libcrypto libhiredis libcap; do
      if grep -q "^\s*$lib[-.]" "$scratch/ldd.txt"; then
        grep "^\s*$lib[-.]" "$scratch/ldd.txt" | grep -Eq "=> $site/(rtcore/\.\./)?rtcore\.libs/" ||
          { cat "$scratch/ldd.txt"; fail "$so: $lib is not the bundled copy"; }
      fi
    done
  done
  env -u LD_LIBRARY_PATH ldd "$site"/rtcore/librtcore.so.* >"$scratch/ldd.txt"
  grep -Eq "=> $site/(rtcore/\.\./)?rtcore\.libs/libuv-" "$scratch/ldd.txt" ||
    fail "librtcore does not use the bundled libuv"
  [ "$(env -i HOME="$scratch" PATH="$bare:$venv/bin" "$venv/bin/python" -c 'import rtcore; print(rtcore.__version__)')" = "$version" ] ||
    fail "rtcore.__version__ differs from $version"
  # The chat example from that venv serves real clients.
  local port
  port=$(free_port)
  (cd "$scratch" && exec env -i HOME="$scratch" PATH="$bare:$venv/bin" "$venv/bin/python" \
    "$root/examples/python/chat_server.py" --host 127.0.0.1 --port "$port") >"$scratch/py-chat.log" 2>&1 &
  local spid=$!
  pids+=("$spid")
  probe "$port" || { cat "$scratch/py-chat.log"; fail "the Python chat example from the wheel did not serve"; }
  # What the running process mapped: the bundled copies, no system ones
  # (Python's own ssl module may map the system OpenSSL besides).
  local maps=/proc/$spid/maps
  grep -Eq '/lib/x86_64-linux-gnu/lib(uv|hiredis|websockets|cap)[.-]' "$maps" &&
    { grep -E '/lib/x86_64-linux-gnu/lib(uv|hiredis|websockets|cap)' "$maps" | awk '{print $6}' | sort -u
      fail "the server mapped a system copy of a bundled library"; }
  for lib in libuv libhiredis libssl libcrypto; do
    grep -q "rtcore.libs/$lib-" "$maps" || fail "the server did not map the bundled $lib"
  done
  kill -TERM "$spid"
  wait "$spid" || { cat "$scratch/py-chat.log"; fail "the Python chat example did not exit 0 on SIGTERM"; }
  echo "   installed with no compiler on PATH; ldd and /proc/PID/maps show only the bundled copies;"
  echo "   examples/python/chat_server.py served; libwebsockets is static with libuv built in (no evlib plugin)"
}

section_npm() {
  echo "== npm: pack with the prebuilt addon, install without build tools, run the chat example"
  export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
  trap 'scripts/build-node-prebuild.sh --clean; cleanup' EXIT
  scripts/build-node-prebuild.sh build-node-prebuild >/dev/null 2>"$scratch/prebuild.log" ||
    { cat "$scratch/prebuild.log"; fail "scripts/build-node-prebuild.sh"; }
  (cd bindings/node && npm pack --pack-destination "$scratch" --loglevel=error >/dev/null)
  scripts/build-node-prebuild.sh --clean
  trap cleanup EXIT
  local tgz
  tgz=$(ls "$scratch"/rtcore-*.tgz)
  [ "$(basename "$tgz")" = "rtcore-$version.tgz" ] || fail "tarball $(basename "$tgz")"
  tar tzf "$tgz" >"$scratch/tgz.txt"
  local f
  for f in prebuilds/linux-x64/rtcore.node prebuilds/linux-x64/librtcore.so.0 prebuilds/linux-x64/libuv.so.1 \
    prebuilds/linux-x64/licenses/NOTICE LICENSE NOTICE engine/capi/include/rtcore.h scripts/install.js; do
    grep -qx "package/$f" "$scratch/tgz.txt" || fail "the tarball lacks $f"
  done
  echo "   $(basename "$tgz") ($(du -k "$tgz" | cut -f1) KiB) carries prebuilds/linux-x64"
  local bare=$scratch/bare-npm app=$scratch/app
  bare_path "$bare" node npm sh env
  mkdir -p "$app" "$scratch/home"
  echo '{"name":"rtcore-npm-app","private":true}' >"$app/package.json"
  (cd "$app" && env -i HOME="$scratch/home" PATH="$bare" npm install "$tgz" --no-progress --foreground-scripts \
    --loglevel=error >"$scratch/npm-install.log" 2>&1) || { cat "$scratch/npm-install.log"; fail "npm install without build tools"; }
  grep -q "rtcore: using the prebuilt addon" "$scratch/npm-install.log" ||
    { cat "$scratch/npm-install.log"; fail "npm install did not use the prebuilt addon"; }
  [ ! -e "$app/node_modules/rtcore/build" ] || fail "npm install built the addon"
  env -u LD_LIBRARY_PATH ldd "$app/node_modules/rtcore/prebuilds/linux-x64/rtcore.node" >"$scratch/ldd.txt"
  grep -q "not found\|libwebsockets" "$scratch/ldd.txt" && { cat "$scratch/ldd.txt"; fail "the prebuilt's libraries"; }
  [ "$(cd "$app" && env -i PATH="$bare" node -p 'require("rtcore").version')" = "$version" ] ||
    fail "require('rtcore').version differs from $version"
  cp examples/node/chat_server.js "$app/"
  local port
  port=$(free_port)
  (cd "$app" && exec env -i HOME="$scratch/home" PATH="$bare" PORT="$port" node chat_server.js) \
    >"$scratch/node-chat.log" 2>&1 &
  local spid=$!
  pids+=("$spid")
  probe "$port" || { cat "$scratch/node-chat.log"; fail "the Node chat example did not serve"; }
  grep -q "node_modules/rtcore/prebuilds/linux-x64/librtcore.so.0" "/proc/$spid/maps" ||
    fail "the Node server did not load the prebuilt librtcore"
  grep -q "libwebsockets" "/proc/$spid/maps" && fail "the Node server mapped a shared libwebsockets"
  kill -TERM "$spid"
  wait "$spid" || { cat "$scratch/node-chat.log"; fail "the Node chat example did not exit 0 on SIGTERM"; }
  echo "   npm install used the prebuilt (no cmake or compiler on PATH); examples/node/chat_server.js served"
}

section_abi() {
  echo "== abi: abidiff of the public header's ABI against capi/abi/rtcore.abi"
  scripts/check-abi.sh "$build/librtcore.so" | sed 's/^/   /'
  # Negative tests on edited copies of this build's ABI: a removed function
  # and a changed return type must fail; a field appended to a struct
  # (rtc_config shrunk in the "old" copy) and an added function must pass.
  local cur=$scratch/current.abi
  scripts/check-abi.sh --dump "$build/librtcore.so" "$cur"
  python3 packaging/tests/abi_mutate.py "$cur" "$scratch/removed.abi" remove rtc_engine_port
  python3 packaging/tests/abi_mutate.py "$cur" "$scratch/retyped.abi" retype rtc_engine_port
  python3 packaging/tests/abi_mutate.py "$cur" "$scratch/shrunk.abi" shrink rtc_config
  scripts/check-abi.sh --compare "$cur" "$scratch/removed.abi" >"$scratch/abi.log" 2>&1 &&
    { cat "$scratch/abi.log"; fail "a removed function passed the ABI check"; }
  grep -q "rtc_engine_port" "$scratch/abi.log" || { cat "$scratch/abi.log"; fail "abidiff did not name the removed function"; }
  scripts/check-abi.sh --compare "$cur" "$scratch/retyped.abi" >"$scratch/abi.log" 2>&1 &&
    { cat "$scratch/abi.log"; fail "a changed return type passed the ABI check"; }
  scripts/check-abi.sh --compare "$scratch/shrunk.abi" "$cur" >"$scratch/abi.log" 2>&1 ||
    { cat "$scratch/abi.log"; fail "a field appended to rtc_config failed the ABI check"; }
  scripts/check-abi.sh --compare "$scratch/removed.abi" "$cur" >"$scratch/abi.log" 2>&1 ||
    { cat "$scratch/abi.log"; fail "an added function failed the ABI check"; }
  echo "   negative tests: removed function and changed signature fail; added function and appended field pass"
}

for s in "${sections[@]}"; do
  "section_$s"
done
echo "== packaging tests passed in $(($(date +%s) - started)) s"
