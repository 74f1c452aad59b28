#include "options.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace rtcore_server {
namespace {

constexpr const char* kUsage = R"(Usage: rtcore-server [options]

Runs an rtcore WebSocket messaging node (docs/protocol.md): clients connect to
ws://HOST:PORT/ws/{user_id}; GET /healthz answers 200. SIGINT or SIGTERM
closes every connection with 1001 and exits 0.

Every option can also be set through the environment variable named after
it; a flag on the command line wins over the environment.

  --host ADDR                 RTCORE_HOST               listen address (default 127.0.0.1)
  --port N                    RTCORE_PORT               TCP port, 0 picks a free one (default 8080)
  --redis URL                 RTCORE_REDIS_URL          Redis backplane: redis://[user:password@]host[:port][/db]
                                                        or unix:///path; nodes sharing it act as one.
                                                        Without it the node runs alone (in-process)
  --redis-prefix PREFIX       RTCORE_REDIS_PREFIX       channel and key prefix (default rtcore:)
  --node-ttl SECONDS          RTCORE_NODE_TTL           a node silent this long is dead and its users
                                                        go offline (default 15)
  --redis-buffer-bytes BYTES  RTCORE_REDIS_BUFFER_BYTES publishes kept during a Redis outage (default 8M)
  --join-timeout MS           RTCORE_JOIN_TIMEOUT       a join_room id unconfirmed by Redis this long is
                                                        answered `unavailable`; the join stays (default 3000)
  --node-id ID                RTCORE_NODE_ID            this node's id: 1-128 printable ASCII bytes, no
                                                        spaces (default: random)
  --auth none|jwt-hs256       RTCORE_AUTH               none (default): the path's user id is trusted;
                                                        jwt-hs256: an HS256 JWT (?token=, Authorization:
                                                        Bearer, or subprotocol bearer.JWT) proves it
  --jwt-secret-file PATH      RTCORE_JWT_SECRET_FILE    file holding the HMAC secret (trailing newline
                                                        dropped); or the secret itself in RTCORE_JWT_SECRET
  --jwt-audience AUD          RTCORE_JWT_AUDIENCE       required "aud" claim (default: not checked)
  --jwt-issuer ISS            RTCORE_JWT_ISSUER         required "iss" claim (default: not checked)
  --jwt-leeway SECONDS        RTCORE_JWT_LEEWAY         tolerance on exp/nbf (default 30)
  --allowed-origins LIST      RTCORE_ALLOWED_ORIGINS    comma-separated browser origins allowed; others
                                                        get 403 (default: any)
  --rate-limit N[:BURST]      RTCORE_RATE_LIMIT         messages per second per connection (default
                                                        1000:2000); 0 disables
  --max-connections N         RTCORE_MAX_CONNECTIONS    on this node, 503 beyond (default 100000; 0 = no limit)
  --max-connections-per-user N RTCORE_MAX_CONNECTIONS_PER_USER
                                                        429 beyond (default 100; 0 = no limit)
  --handshake-timeout SECONDS RTCORE_HANDSHAKE_TIMEOUT  HTTP request + upgrade deadline (default 10)
  --idle-timeout SECONDS      RTCORE_IDLE_TIMEOUT       close a connection silent this long (default 0: off)
  --expose-stats              RTCORE_EXPOSE_STATS=1     serve GET /stats (JSON counters)
  --tls-cert PATH             RTCORE_TLS_CERT           PEM certificate chain: serve wss:// (TLS 1.2+)
  --tls-key PATH              RTCORE_TLS_KEY            PEM private key for --tls-cert
  --max-message-size BYTES    RTCORE_MAX_MESSAGE_SIZE   largest client message; larger closes with
                                                        1009 (default 1M; K/M/G suffixes allowed)
  --max-queue-bytes BYTES     RTCORE_MAX_QUEUE_BYTES    per-connection send queue; a client past it is
                                                        a slow consumer, closed with 1008 (default 4M)
  --ping-interval SECONDS     RTCORE_PING_INTERVAL      ping an idle connection after this (default 30)
  --ping-timeout SECONDS      RTCORE_PING_TIMEOUT       then close it if still silent (default 30)
  --max-rooms N               RTCORE_MAX_ROOMS          rooms per connection, 0 = unlimited (default 1024)
  --allow-post-without-join   RTCORE_ALLOW_POST_WITHOUT_JOIN=1
                                                        room_message without joining first
  --shutdown-timeout MS       RTCORE_SHUTDOWN_TIMEOUT   grace for clients to close on stop (default 1000)
  --log-level N               RTCORE_LOG_LEVEL          0 errors, 1 warnings, 2 info, 3 debug (default 1)
  --help                                                this text
  --version                                             print the version
)";

bool parse_uint(std::string_view text, uint64_t max, uint64_t& out, bool allow_suffix) {
  if (text.empty()) return false;
  std::string s(text);
  uint64_t mult = 1;
  if (allow_suffix) {
    char last = s.back();
    if (last == 'K' || last == 'k') mult = 1ull << 10;
    if (last == 'M' || last == 'm') mult = 1ull << 20;
    if (last == 'G' || last == 'g') mult = 1ull << 30;
    if (mult != 1) s.pop_back();
  }
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
  if (errno != 0 || v > max / mult) return false;
  out = v * mult;
  return true;
}

bool parse_seconds(std::string_view text, double& out) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v) || v <= 0 || v > 65535) return false;
  out = v;
  return true;
}

bool read_secret_file(const std::string& path, std::string& out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[4096];
  size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  out.assign(buf, n);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return !out.empty();
}

bool parse_bool(std::string_view text) { return text == "1" || text == "true" || text == "yes" || text == "on"; }

struct Flag {
  const char* name;
  const char* env;
  bool takes_value;
};

constexpr Flag kFlags[] = {
    {"--host", "RTCORE_HOST", true},
    {"--port", "RTCORE_PORT", true},
    {"--redis", "RTCORE_REDIS_URL", true},
    {"--node-id", "RTCORE_NODE_ID", true},
    {"--redis-prefix", "RTCORE_REDIS_PREFIX", true},
    {"--auth", "RTCORE_AUTH", true},
    {"--jwt-secret-file", "RTCORE_JWT_SECRET_FILE", true},
    {"--jwt-secret", "RTCORE_JWT_SECRET", true},
    {"--jwt-audience", "RTCORE_JWT_AUDIENCE", true},
    {"--jwt-issuer", "RTCORE_JWT_ISSUER", true},
    {"--jwt-leeway", "RTCORE_JWT_LEEWAY", true},
    {"--allowed-origins", "RTCORE_ALLOWED_ORIGINS", true},
    {"--rate-limit", "RTCORE_RATE_LIMIT", true},
    {"--max-connections", "RTCORE_MAX_CONNECTIONS", true},
    {"--max-connections-per-user", "RTCORE_MAX_CONNECTIONS_PER_USER", true},
    {"--handshake-timeout", "RTCORE_HANDSHAKE_TIMEOUT", true},
    {"--idle-timeout", "RTCORE_IDLE_TIMEOUT", true},
    {"--expose-stats", "RTCORE_EXPOSE_STATS", false},
    {"--tls-cert", "RTCORE_TLS_CERT", true},
    {"--tls-key", "RTCORE_TLS_KEY", true},
    {"--node-ttl", "RTCORE_NODE_TTL", true},
    {"--redis-buffer-bytes", "RTCORE_REDIS_BUFFER_BYTES", true},
    {"--join-timeout", "RTCORE_JOIN_TIMEOUT", true},
    {"--max-message-size", "RTCORE_MAX_MESSAGE_SIZE", true},
    {"--max-queue-bytes", "RTCORE_MAX_QUEUE_BYTES", true},
    {"--ping-interval", "RTCORE_PING_INTERVAL", true},
    {"--ping-timeout", "RTCORE_PING_TIMEOUT", true},
    {"--max-rooms", "RTCORE_MAX_ROOMS", true},
    {"--allow-post-without-join", "RTCORE_ALLOW_POST_WITHOUT_JOIN", false},
    {"--shutdown-timeout", "RTCORE_SHUTDOWN_TIMEOUT", true},
    {"--log-level", "RTCORE_LOG_LEVEL", true},
};

// Applies one setting; false (after printing why) if the value is bad.
bool apply(std::string_view name, std::string_view value, Options& o) {
  uint64_t n = 0;
  bool ok = true;
  if (name == "--host") {
    o.host = value;
    ok = !value.empty();
  } else if (name == "--port") {
    ok = parse_uint(value, 65535, n, false);
    o.port = static_cast<uint32_t>(n);
  } else if (name == "--redis") {
    o.redis_url = value;
  } else if (name == "--node-id") {
    // 1..128 printable ASCII bytes, no space (what other nodes accept).
    o.node_id = value;
    ok = !value.empty() && value.size() <= 128 &&
         std::all_of(value.begin(), value.end(), [](char c) { return c > 0x20 && c < 0x7F; });
  } else if (name == "--auth") {
    o.auth = value;
    ok = value == "none" || value == "jwt-hs256";
  } else if (name == "--jwt-secret") {
    // Only from the environment in practice (a flag would show in `ps`).
    o.jwt_secret = value;
    ok = !value.empty();
  } else if (name == "--jwt-secret-file") {
    ok = read_secret_file(std::string(value), o.jwt_secret);
    if (!ok) {
      std::fprintf(stderr, "rtcore-server: cannot read a secret from %.*s\n", static_cast<int>(value.size()),
                   value.data());
      return false;
    }
  } else if (name == "--jwt-audience") {
    o.jwt_audience = value;
  } else if (name == "--jwt-issuer") {
    o.jwt_issuer = value;
  } else if (name == "--jwt-leeway") {
    ok = parse_uint(value, 86400, n, false);
    o.jwt_leeway_s = static_cast<long>(n);
  } else if (name == "--allowed-origins") {
    o.allowed_origins = value;
  } else if (name == "--rate-limit") {
    auto colon = value.find(':');
    uint64_t burst = 0;
    ok = parse_uint(value.substr(0, colon), 1u << 30, n, false) &&
         (colon == std::string_view::npos || parse_uint(value.substr(colon + 1), 1u << 30, burst, false));
    o.rate_limit = static_cast<long>(n);
    o.rate_burst = colon == std::string_view::npos ? -1 : static_cast<long>(burst);
  } else if (name == "--max-connections") {
    ok = parse_uint(value, 1u << 30, n, false);
    o.max_connections = static_cast<long>(n);
  } else if (name == "--max-connections-per-user") {
    ok = parse_uint(value, 1u << 30, n, false);
    o.max_connections_per_user = static_cast<long>(n);
  } else if (name == "--handshake-timeout") {
    ok = parse_seconds(value, o.handshake_timeout_s);
  } else if (name == "--idle-timeout") {
    double s = 0;
    ok = value == "0" || parse_seconds(value, s);
    o.idle_timeout_s = s;
  } else if (name == "--expose-stats") {
    o.expose_stats = value.empty() || parse_bool(value);
  } else if (name == "--tls-cert") {
    o.tls_cert = value;
  } else if (name == "--tls-key") {
    o.tls_key = value;
  } else if (name == "--redis-prefix") {
    o.redis_prefix = value;
  } else if (name == "--node-ttl") {
    ok = parse_seconds(value, o.node_ttl_s);
  } else if (name == "--redis-buffer-bytes") {
    ok = parse_uint(value, 1ull << 40, n, true) && n > 0;
    o.redis_buffer_bytes = n;
  } else if (name == "--join-timeout") {
    ok = parse_uint(value, 86400000, n, false) && n > 0;  // milliseconds, up to a day
    o.join_timeout_ms = static_cast<uint32_t>(n);
  } else if (name == "--max-message-size") {
    ok = parse_uint(value, 1ull << 40, n, true) && n > 0;
    o.max_message_size = n;
  } else if (name == "--max-queue-bytes") {
    ok = parse_uint(value, 1ull << 40, n, true) && n > 0;
    o.max_queue_bytes = n;
  } else if (name == "--ping-interval") {
    ok = parse_seconds(value, o.ping_interval_s);
  } else if (name == "--ping-timeout") {
    ok = parse_seconds(value, o.ping_timeout_s);
  } else if (name == "--max-rooms") {
    ok = parse_uint(value, 1u << 30, n, false);
    o.max_rooms = static_cast<long>(n);
  } else if (name == "--allow-post-without-join") {
    o.allow_post_without_join = value.empty() || parse_bool(value);
  } else if (name == "--shutdown-timeout") {
    ok = parse_uint(value, 600000, n, false) && n > 0;
    o.shutdown_timeout_ms = static_cast<uint32_t>(n);
  } else if (name == "--log-level") {
    ok = parse_uint(value, 3, n, false);
    o.log_level = static_cast<uint32_t>(n);
  }
  if (!ok) {
    bool secret = name == "--jwt-secret";  // never echo a secret
    std::fprintf(stderr, "rtcore-server: invalid value '%.*s' for %.*s\n",
                 secret ? 3 : static_cast<int>(value.size()), secret ? "***" : value.data(),
                 static_cast<int>(name.size()), name.data());
  }
  return ok;
}

}  // namespace

ParseOutcome parse_options(int argc, char** argv, Options& out) {
  for (const Flag& f : kFlags) {
    const char* v = std::getenv(f.env);
    if (!v) continue;
    if (!f.takes_value && !parse_bool(v)) continue;
    if (!apply(f.name, f.takes_value ? v : "1", out)) {
      std::fprintf(stderr, "rtcore-server: (from %s)\n", f.env);
      return ParseOutcome::kExitError;
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return ParseOutcome::kExitOk;
    }
    if (arg == "--version") {
      std::printf("rtcore-server %s\n", rtc_version());
      return ParseOutcome::kExitOk;
    }
    std::string_view name = arg, value;
    bool inline_value = false;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    const Flag* flag = nullptr;
    for (const Flag& f : kFlags)
      if (name == f.name) flag = &f;
    if (!flag) {
      std::fprintf(stderr, "rtcore-server: unknown option '%s' (see --help)\n", argv[i]);
      return ParseOutcome::kExitError;
    }
    if (name == "--jwt-secret") {
      // Command lines are visible to every user (ps, /proc): secrets come
      // from a file or the environment only.
      std::fprintf(stderr, "rtcore-server: pass the secret with --jwt-secret-file or RTCORE_JWT_SECRET\n");
      return ParseOutcome::kExitError;
    }
    if (flag->takes_value && !inline_value) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "rtcore-server: %s needs a value\n", flag->name);
        return ParseOutcome::kExitError;
      }
      value = argv[++i];
    }
    if (!apply(name, value, out)) return ParseOutcome::kExitError;
  }
  return ParseOutcome::kRun;
}

void to_config(const Options& o, rtc_config& c) {
  rtc_config_init(&c);
  c.host = o.host.c_str();
  c.port = o.port;
  c.redis_url = o.redis_url.empty() ? nullptr : o.redis_url.c_str();
  c.node_id = o.node_id.empty() ? nullptr : o.node_id.c_str();
  if (o.max_message_size) c.max_message_size = o.max_message_size;
  if (o.max_queue_bytes) c.max_send_queue_bytes = o.max_queue_bytes;
  if (o.ping_interval_s > 0) c.ping_interval_ms = static_cast<uint32_t>(std::lround(o.ping_interval_s * 1000));
  if (o.ping_timeout_s > 0) c.ping_timeout_ms = static_cast<uint32_t>(std::lround(o.ping_timeout_s * 1000));
  if (o.max_rooms >= 0) c.max_rooms_per_connection = static_cast<uint32_t>(o.max_rooms);
  c.allow_post_without_join = o.allow_post_without_join ? 1 : 0;
  c.log_level = o.log_level;
  if (!o.redis_prefix.empty()) c.redis_prefix = o.redis_prefix.c_str();
  if (o.node_ttl_s > 0) c.node_ttl_ms = static_cast<uint32_t>(std::lround(o.node_ttl_s * 1000));
  if (o.redis_buffer_bytes) c.redis_buffer_bytes = o.redis_buffer_bytes;
  if (o.join_timeout_ms) c.join_timeout_ms = o.join_timeout_ms;
  c.auth_mode = o.auth == "jwt-hs256" ? RTC_AUTH_JWT_HS256 : RTC_AUTH_NONE;
  c.jwt_secret = o.jwt_secret.data();
  c.jwt_secret_len = o.jwt_secret.size();
  if (!o.jwt_audience.empty()) c.jwt_audience = o.jwt_audience.c_str();
  if (!o.jwt_issuer.empty()) c.jwt_issuer = o.jwt_issuer.c_str();
  if (o.jwt_leeway_s >= 0) c.jwt_leeway_s = static_cast<uint32_t>(o.jwt_leeway_s);
  if (!o.allowed_origins.empty()) c.allowed_origins = o.allowed_origins.c_str();
  if (o.rate_limit >= 0) {
    c.rate_limit_per_s = static_cast<uint32_t>(o.rate_limit);
    c.rate_limit_burst = o.rate_burst >= 0 ? static_cast<uint32_t>(o.rate_burst) : 2 * c.rate_limit_per_s;
  }
  if (o.max_connections >= 0) c.max_connections = static_cast<uint32_t>(o.max_connections);
  if (o.max_connections_per_user >= 0) c.max_connections_per_user = static_cast<uint32_t>(o.max_connections_per_user);
  if (o.handshake_timeout_s > 0) c.handshake_timeout_ms = static_cast<uint32_t>(std::lround(o.handshake_timeout_s * 1000));
  if (o.idle_timeout_s >= 0) c.idle_timeout_ms = static_cast<uint32_t>(std::lround(o.idle_timeout_s * 1000));
  c.expose_stats = o.expose_stats ? 1 : 0;
  if (!o.tls_cert.empty()) c.tls_cert_file = o.tls_cert.c_str();
  if (!o.tls_key.empty()) c.tls_key_file = o.tls_key.c_str();
}

}  // namespace rtcore_server
