# Debian packages (CPack DEB, one package per install component):
#   cmake -S . -B build-deb -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-deb && (cd build-deb && cpack -G DEB)
# scripts/build-debs.sh does exactly that; packaging/deb/README.md explains
# the packages and what lintian says about them.
# RTCORE_DEB_MAINTAINER: packaging/CMakeLists.txt (the changelog needs it too).
set(CPACK_PACKAGE_NAME rtcore)
set(CPACK_PACKAGE_VENDOR "the rtcore authors")
set(CPACK_PACKAGE_CONTACT "${RTCORE_DEB_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "embeddable real-time WebSocket messaging engine")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_SET_DESTDIR ON)  # /etc and /lib/systemd are absolute destinations
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL runtime dev server)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.org/rtcore")
# Depends: from the ELF files' NEEDED entries (dpkg-shlibdeps), plus what
# no ELF file names: libwebsockets loads its libuv support as a plugin.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# rtcore-server needs librtcore from the runtime component's staging tree
# (dpkg-shlibdeps runs in the component's own one); its Depends on
# librtcore0 is written out below.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ../runtime${CMAKE_INSTALL_FULL_LIBDIR})
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME librtcore${PROJECT_VERSION_MAJOR})
# The ldconfig trigger replaces CPack's postinst/postrm that call ldconfig.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/deb/librtcore/triggers)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "libwebsockets-evlib-uv (>= 4.1.6)")
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "rtcore: embeddable real-time WebSocket messaging engine (library)
 rtcore serves WebSocket clients with rooms, direct messages, presence and
 history on a libuv loop, optionally across nodes over Redis. This package
 holds the shared library; its C API is in librtcore-dev.")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME librtcore-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_ARCHITECTURE amd64)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "librtcore${PROJECT_VERSION_MAJOR} (= ${PROJECT_VERSION}-1)")
set(CPACK_DEBIAN_DEV_DESCRIPTION "rtcore: embeddable real-time WebSocket messaging engine (development files)
 The C API header (rtcore.h), the CMake package (find_package(rtcore), target
 rtcore::rtcore) and the pkg-config file (rtcore.pc) for building hosts that
 embed the rtcore engine.")

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME rtcore-server)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "librtcore${PROJECT_VERSION_MAJOR} (= ${PROJECT_VERSION}-1)")
set(CPACK_DEBIAN_SERVER_PACKAGE_SUGGESTS "redis-server")
set(CPACK_DEBIAN_SERVER_DESCRIPTION "rtcore: real-time WebSocket messaging server
 rtcore-server runs an rtcore node: WebSocket clients connect to
 ws://HOST:PORT/ws/{user_id} for rooms, direct messages and presence; several
 nodes share state over Redis. A systemd unit runs it as an unprivileged
 dynamic user with settings from /etc/default/rtcore-server.")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/deb/rtcore-server/conffiles
  ${PROJECT_SOURCE_DIR}/packaging/deb/rtcore-server/postinst
  ${PROJECT_SOURCE_DIR}/packaging/deb/rtcore-server/prerm
  ${PROJECT_SOURCE_DIR}/packaging/deb/rtcore-server/postrm)
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
