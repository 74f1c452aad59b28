#!/bin/sh
# check_install.sh BUILD_DIR SOURCE_DIR: installs into a scratch prefix and
# builds the C example against it with pkg-config only, as a user would
# (--define-prefix: the .pc file is read where it was installed).
set -eu
build=$1
src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror $(pkg-config --define-prefix --cflags rtcore) "$src/examples/c/embed.c" \
  $(pkg-config --define-prefix --libs rtcore) -Wl,-rpath,"$prefix/lib" -Wl,-rpath,"$prefix/lib/x86_64-linux-gnu" -o "$prefix/embed"
test -x "$prefix/bin/rtcore-server"
"$prefix/bin/rtcore-server" --version
echo "1 passed, 0 failed"
