// Command-line flags and RTCORE_* environment variables of rtcore-server.
// Every engine setting comes from the library's settings table
// (rtc_config_option): its flag, environment variable, unit, range and help
// line are the library's, so a new setting needs no change here. Only the
// server's own settings and the special forms (the JWT secret, which never
// comes from a flag; --rate-limit N[:BURST]; --shutdown-timeout) are here.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "rtcore.h"

namespace rtcore_server {

struct Options {
  // Table settings given by flag or environment: row name -> value as given
  // (validated). Strings in an rtc_config from to_config point in here.
  std::map<std::string, std::string, std::less<>> settings;
  // Read by main (mirrors of table settings, with the server's defaults).
  std::string host = "127.0.0.1";
  uint32_t port = 8080;
  std::string redis_url;
  std::string auth = "none";
  std::string tls_cert, tls_key;
  std::string log_format = "text";  // text | json (the server's own lines follow it)
  std::string internal_listen;      // HOST:PORT; empty: none
  // The server's own and the special forms.
  std::string jwt_secret;  // never printed
  long rate_limit = -1, rate_burst = -1;
  uint32_t shutdown_timeout_ms = 1000;
};

enum class ParseOutcome { kRun, kExitOk, kExitError };

// Reads the environment first, then argv (flags win). Prints help, version
// or an error itself; the outcome says whether to run.
ParseOutcome parse_options(int argc, char** argv, Options& out);

// Fills an rtc_config from the options (strings borrowed from opts).
void to_config(const Options& opts, rtc_config& config);

}  // namespace rtcore_server
