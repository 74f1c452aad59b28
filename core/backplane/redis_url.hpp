// Parsing of Redis connection URLs: redis://[user:password@]host[:port][/db]
// and unix:///path[?db=N]. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rtcore {

struct RedisAddress {
  std::string host;  // empty for a unix socket
  int port = 6379;
  std::string unix_path;
  std::string user;  // ACL user; empty means "default" (AUTH password)
  std::string password;
  int db = 0;
};

// The address, or nullopt (with *error set) for a malformed URL.
std::optional<RedisAddress> parse_redis_url(std::string_view url, std::string* error);

}  // namespace rtcore
