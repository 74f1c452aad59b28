#!/usr/bin/env bash
# Installs everything rtcore needs to build and test on Debian 12, from
# Debian's packages and PyPI. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libssl-dev
  libhiredis-dev libmsgpack-cxx-dev rapidjson-dev
  googletest libgtest-dev
  redis-server
  nginx  # the one-port proxy test (bindings/python/tests/test_one_port.py)
  clang libclang-rt-14-dev clang-format  # fuzzing; scripts/check-format.sh
  python3 python3-pip
  chromium
  # Packaging (scripts/test-packaging.sh): .deb checks, wheel repair, ABI.
  dpkg-dev lintian systemd patchelf abigail-tools
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python packages for the integration tests (real WebSocket clients).
PY=${PYTHON:-python3}
if ! $PY -c 'import websockets, pytest' 2>/dev/null; then
  echo "install-deps: installing Python test packages"
  $PY -m pip install -q --disable-pip-version-check -r tests/integration/requirements.txt 2>/dev/null ||
    $PY -m pip install -q --disable-pip-version-check --break-system-packages -r tests/integration/requirements.txt
fi
