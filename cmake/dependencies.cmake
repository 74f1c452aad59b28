# Third-party dependencies, all from Debian packages (scripts/install-deps).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)

# libuv 1.44 ships no CMake config (STACK-NOTES).
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
# Link the shared lws only: two copies of lws in one process break.
find_package(libwebsockets CONFIG REQUIRED)
find_path(RAPIDJSON_INCLUDE rapidjson/reader.h REQUIRED)
# hiredis 0.14's CMake package is broken (STACK-NOTES).
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
# Both the C and C++ msgpack packages are named msgpack: ask for the C++ one.
find_package(msgpack 4.1 CONFIG REQUIRED)
add_compile_definitions(MSGPACK_NO_BOOST)
