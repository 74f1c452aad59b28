# Third-party dependencies, all from Debian packages (scripts/install-deps).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)

# libuv 1.44 ships no CMake config (STACK-NOTES).
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
# Link the shared lws only: two copies of lws in one process break.
# RTCORE_LWS_PREFIX: a static libwebsockets with libuv built in instead
# (scripts/build-lws-static.sh), linked into librtcore for the binary
# packages that bundle their dependencies (the wheel, the npm prebuilt):
# Debian's lws finds its libuv plugin only in /usr/lib/x86_64-linux-gnu.
set(RTCORE_LWS_PREFIX "" CACHE PATH "static libwebsockets install (scripts/build-lws-static.sh); empty: Debian's shared one")
if(RTCORE_LWS_PREFIX)
  find_package(libwebsockets CONFIG REQUIRED PATHS ${RTCORE_LWS_PREFIX} NO_DEFAULT_PATH)
  if(NOT TARGET websockets_shared)
    # The targets name it websockets_shared; here it is the static library.
    add_library(websockets_shared INTERFACE IMPORTED)
    target_link_libraries(websockets_shared INTERFACE websockets)
    # lws 4.1's exported target carries no include directory: without this
    # the engine would compile against Debian's headers, whose lws_config.h
    # (plugins, extensions) does not match the static build's structs.
    target_include_directories(websockets_shared INTERFACE ${RTCORE_LWS_PREFIX}/include)
  endif()
  message(STATUS "rtcore: static libwebsockets from ${RTCORE_LWS_PREFIX}")
else()
  find_package(libwebsockets CONFIG REQUIRED)
endif()
find_path(RAPIDJSON_INCLUDE rapidjson/reader.h REQUIRED)
# hiredis 0.14's CMake package is broken (STACK-NOTES).
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
# Both the C and C++ msgpack packages are named msgpack: ask for the C++ one.
find_package(msgpack 4.1 CONFIG REQUIRED)
add_compile_definitions(MSGPACK_NO_BOOST)
