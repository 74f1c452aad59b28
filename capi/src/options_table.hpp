// The one list of the engine's settings: every rtc_config field a user sets,
// with its rtcore-server flag and environment variable, its unit and range,
// and a one-line description. rtc_config_option() hands it out, and what
// shows settings derives from it: rtcore-server's flags, environment
// variables, --help and parsing; the defaults the bindings report. The
// defaults themselves come from rtc_config_init() (that is, EngineConfig).
// A ctest (capi_options_doc) checks that every documented rtc_config field
// is a row here or listed in kSpecialFields below.
//
// X(field, type, unit, flag, env, min, max, help)
//   type  RTC_OPTION_STRING / _UINT / _BOOL / _ENUM (choices in help's
//         leading "a|b|c: ", by index)
//   unit  RTC_UNIT_NONE, _BYTES (K/M/G suffixes), _MS, _SECONDS (flag in
//         seconds, fractions allowed, field in ms)
//   min, max  bounds on the field's value (not checked for strings)
#pragma once

#include <cstdint>

#define RTCORE_OPTIONS_TABLE(X)                                                                                    \
  X(host, RTC_OPTION_STRING, RTC_UNIT_NONE, "--host", "RTCORE_HOST", 0, 0, "listen address")                                    \
  X(port, RTC_OPTION_UINT, RTC_UNIT_NONE, "--port", "RTCORE_PORT", 0, 65535, "TCP port, 0 picks a free one")                    \
  X(redis_url, RTC_OPTION_STRING, RTC_UNIT_NONE, "--redis", "RTCORE_REDIS_URL", 0, 0,                                                 \
    "Redis backplane: redis://[user:password@]host[:port][/db] or unix:///path; nodes sharing it act as one "    \
    "(default: none, the node runs alone)")                                                                       \
  X(redis_prefix, RTC_OPTION_STRING, RTC_UNIT_NONE, "--redis-prefix", "RTCORE_REDIS_PREFIX", 0, 0, "channel and key prefix (default rtcore:)")            \
  X(node_ttl_ms, RTC_OPTION_UINT, RTC_UNIT_SECONDS, "--node-ttl", "RTCORE_NODE_TTL", 1, 86400000,                                    \
    "a node silent this long is dead and its users go offline")                                                   \
  X(redis_connect_timeout_ms, RTC_OPTION_UINT, RTC_UNIT_MS, "--redis-connect-timeout", "RTCORE_REDIS_CONNECT_TIMEOUT", 1, 600000,                 \
    "connect timeout of each Redis connection")                                                                   \
  X(redis_buffer_bytes, RTC_OPTION_UINT, RTC_UNIT_BYTES, "--redis-buffer-bytes", "RTCORE_REDIS_BUFFER_BYTES", 1, 1ull << 40,                   \
    "publishes kept during a Redis outage")                                                                       \
  X(join_timeout_ms, RTC_OPTION_UINT, RTC_UNIT_MS, "--join-timeout", "RTCORE_JOIN_TIMEOUT", 1, 86400000,                                 \
    "a join_room id unconfirmed by Redis this long is answered `unavailable`; the join stays")                    \
  X(presence_limit, RTC_OPTION_UINT, RTC_UNIT_NONE, "--presence-limit", "RTCORE_PRESENCE_LIMIT", 1, 1000000,                \
    "most users one `presence` answer lists; beyond, it says \"truncated\"")                                      \
  X(node_id, RTC_OPTION_STRING, RTC_UNIT_NONE, "--node-id", "RTCORE_NODE_ID", 0, 0,                                                 \
    "this node's id: 1-128 printable ASCII bytes, no spaces (default: random)")                                   \
  X(auth_mode, RTC_OPTION_ENUM, RTC_UNIT_NONE, "--auth", "RTCORE_AUTH", 0, 1,                                                    \
    "none|jwt-hs256: none trusts the path's user id; jwt-hs256 needs an HS256 JWT (?token=, Authorization: "     \
    "Bearer, or subprotocol bearer.JWT) proving it")                                                              \
  X(jwt_audience, RTC_OPTION_STRING, RTC_UNIT_NONE, "--jwt-audience", "RTCORE_JWT_AUDIENCE", 0, 0,                                       \
    "required \"aud\" claim (default: not checked)")                                                              \
  X(jwt_issuer, RTC_OPTION_STRING, RTC_UNIT_NONE, "--jwt-issuer", "RTCORE_JWT_ISSUER", 0, 0, "required \"iss\" claim (default: not checked)") \
  X(jwt_leeway_s, RTC_OPTION_UINT, RTC_UNIT_NONE, "--jwt-leeway", "RTCORE_JWT_LEEWAY", 0, 86400, "tolerance on exp/nbf, seconds")      \
  X(allowed_origins, RTC_OPTION_STRING, RTC_UNIT_NONE, "--allowed-origins", "RTCORE_ALLOWED_ORIGINS", 0, 0,                                 \
    "comma-separated browser origins allowed; others get 403 (default: any)")                                     \
  X(max_connections, RTC_OPTION_UINT, RTC_UNIT_NONE, "--max-connections", "RTCORE_MAX_CONNECTIONS", 0, 1u << 30,                            \
    "connections on this node, 503 beyond; 0 = no limit")                                                         \
  X(max_connections_per_user, RTC_OPTION_UINT, RTC_UNIT_NONE, "--max-connections-per-user", "RTCORE_MAX_CONNECTIONS_PER_USER", 0, 1u << 30,          \
    "connections of one user on this node, 429 beyond; 0 = no limit")                                             \
  X(handshake_timeout_ms, RTC_OPTION_UINT, RTC_UNIT_SECONDS, "--handshake-timeout", "RTCORE_HANDSHAKE_TIMEOUT", 1, 65535000,                  \
    "HTTP request + upgrade deadline")                                                                            \
  X(idle_timeout_ms, RTC_OPTION_UINT, RTC_UNIT_SECONDS, "--idle-timeout", "RTCORE_IDLE_TIMEOUT", 0, 65535000,                            \
    "close a connection silent this long; 0 = off")                                                               \
  X(expose_stats, RTC_OPTION_BOOL, RTC_UNIT_NONE, "--expose-stats", "RTCORE_EXPOSE_STATS", 0, 1, "serve GET /stats (JSON counters)")     \
  X(tls_cert_file, RTC_OPTION_STRING, RTC_UNIT_NONE, "--tls-cert", "RTCORE_TLS_CERT", 0, 0,                                          \
    "PEM certificate chain: serve wss:// (TLS 1.2+)")                                                             \
  X(tls_key_file, RTC_OPTION_STRING, RTC_UNIT_NONE, "--tls-key", "RTCORE_TLS_KEY", 0, 0, "PEM private key for --tls-cert")          \
  X(max_message_size, RTC_OPTION_UINT, RTC_UNIT_BYTES, "--max-message-size", "RTCORE_MAX_MESSAGE_SIZE", 1, 1ull << 40,                       \
    "largest client message; larger closes with 1009")                                                            \
  X(max_send_queue_bytes, RTC_OPTION_UINT, RTC_UNIT_BYTES, "--max-queue-bytes", "RTCORE_MAX_QUEUE_BYTES", 1, 1ull << 40,                    \
    "per-connection send queue; a client past it is a slow consumer, closed with 1008")                           \
  X(ping_interval_ms, RTC_OPTION_UINT, RTC_UNIT_SECONDS, "--ping-interval", "RTCORE_PING_INTERVAL", 1, 65535000,                          \
    "ping an idle connection after this")                                                                         \
  X(ping_timeout_ms, RTC_OPTION_UINT, RTC_UNIT_SECONDS, "--ping-timeout", "RTCORE_PING_TIMEOUT", 1, 65535000,                            \
    "then close it if still silent")                                                                              \
  X(max_rooms_per_connection, RTC_OPTION_UINT, RTC_UNIT_NONE, "--max-rooms", "RTCORE_MAX_ROOMS", 0, 1u << 30,                         \
    "rooms per connection; 0 = unlimited")                                                                        \
  X(allow_post_without_join, RTC_OPTION_BOOL, RTC_UNIT_NONE, "--allow-post-without-join", "RTCORE_ALLOW_POST_WITHOUT_JOIN", 0, 1,                   \
    "room_message without joining first")                                                                         \
  X(log_level, RTC_OPTION_UINT, RTC_UNIT_NONE, "--log-level", "RTCORE_LOG_LEVEL", 0, 3, "0 errors, 1 warnings, 2 info, 3 debug")  \
  X(log_format, RTC_OPTION_ENUM, RTC_UNIT_NONE, "--log-format", "RTCORE_LOG_FORMAT", 0, 1,                                      \
    "text|json: stderr lines as text, or one JSON object each (time, level, event, node, msg, fields)")          \
  X(internal_listen, RTC_OPTION_STRING, RTC_UNIT_NONE, "--internal-listen", "RTCORE_INTERNAL_LISTEN", 0, 0,                       \
    "HOST:PORT of a second, plain-HTTP listener for GET /metrics, /readyz, /stats and /healthz (PORT 0: a free "  \
    "one); the public port then 404s the first three (default: none)")                                           \
  X(history_size, RTC_OPTION_UINT, RTC_UNIT_NONE, "--history-size", "RTCORE_HISTORY_SIZE", 0, 100000,              \
    "messages kept per room and per user's direct messages for recovery and history reads; 0 = history off")     \
  X(history_ttl_s, RTC_OPTION_UINT, RTC_UNIT_NONE, "--history-ttl", "RTCORE_HISTORY_TTL", 1, 31536000,             \
    "seconds a kept message lives; a stream idle this long starts a new epoch (default 300)")

// rtc_config fields that are not rows: set through dedicated flags or calls
// (the secret never through a flag; the rate limit as one N[:BURST] flag).
inline constexpr const char* kSpecialFields[] = {"struct_size", "jwt_secret", "jwt_secret_len", "rate_limit_per_s",
                                                 "rate_limit_burst"};
