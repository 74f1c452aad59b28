# Third-party dependencies, all from Debian packages (scripts/install-deps).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# libuv 1.44 ships no CMake config (STACK-NOTES).
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
# Link the shared lws only: two copies of lws in one process break.
find_package(libwebsockets CONFIG REQUIRED)
find_package(RapidJSON CONFIG QUIET)
find_path(RAPIDJSON_INCLUDE rapidjson/reader.h REQUIRED)
