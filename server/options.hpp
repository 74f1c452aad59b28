// Command-line flags and RTCORE_* environment variables of rtcore-server.
#pragma once

#include <string>

#include "rtcore.h"

namespace rtcore_server {

struct Options {
  std::string host = "127.0.0.1";
  uint32_t port = 8080;
  std::string redis_url;
  std::string node_id;
  uint64_t max_message_size = 0;  // 0: library default
  uint64_t max_queue_bytes = 0;
  double ping_interval_s = 0;
  double ping_timeout_s = 0;
  long max_rooms = -1;  // -1: library default
  bool allow_post_without_join = false;
  uint32_t log_level = 1;
  uint32_t shutdown_timeout_ms = 1000;
  std::string redis_prefix;
  double node_ttl_s = 0;
  uint64_t redis_buffer_bytes = 0;
  uint32_t join_timeout_ms = 0;  // 0: library default
  // Protections; negative / empty means "library default".
  std::string auth = "none";
  std::string jwt_secret;  // never printed
  std::string jwt_audience, jwt_issuer;
  long jwt_leeway_s = -1;
  std::string allowed_origins;
  long rate_limit = -1, rate_burst = -1;
  long max_connections = -1, max_connections_per_user = -1;
  double handshake_timeout_s = 0, idle_timeout_s = -1;
  bool expose_stats = false;
  std::string tls_cert, tls_key;
};

enum class ParseOutcome { kRun, kExitOk, kExitError };

// Reads the environment first, then argv (flags win). Prints help, version
// or an error itself; the outcome says whether to run.
ParseOutcome parse_options(int argc, char** argv, Options& out);

// Fills an rtc_config from the options (strings borrowed from opts).
void to_config(const Options& opts, rtc_config& config);

}  // namespace rtcore_server
