// The one list of the engine's settings: every rtc_config field a user sets,
// with its rtcore-server flag and environment variable, its unit and range,
// how rtc_engine_create copies it, and a one-line description.
// rtc_config_option() hands it out, and what shows settings derives from it:
// rtcore-server's flags, environment variables, --help and parsing; the
// defaults the bindings report; the Node typings (bindings/node/index.d.ts,
// written by scripts/gen-types.js). The defaults themselves come from
// EngineConfig, which rtc_config_init() copies for every row that is not
// `special`; config_from_c (config.cpp) copies each such row into
// EngineConfig's member of the same name. A ctest (capi_options_doc) checks
// that every documented rtc_config field is a row here or listed in
// kSpecialFields below; another (capi_config_copy) that every row's value
// reaches EngineConfig.
//
// Adding a setting: the rtc_config field, appended, with its doc comment
// (capi/include/rtcore.h), its layout line in capi/abi/baseline.txt and
// tests/capi/abi_layout.c; the EngineConfig member with its default
// (core/engine/engine_config.hpp); a row here; its flag in README.md's table;
// then `npm run gen-types` in bindings/node (after `npm run build`) rewrites
// index.d.ts. A `special` row also needs its hand-written code in
// config.cpp.
//
// X(field, type, unit, flag, env, min, max, copy, help)
//   type  RTC_OPTION_STRING / _UINT / _BOOL / _ENUM (choices in help's
//         leading "a|b|c: ", by index)
//   unit  RTC_UNIT_NONE, _BYTES (K/M/G suffixes), _MS, _SECONDS (flag in
//         seconds, fractions allowed, field in ms)
//   min, max  bounds on the field's value (not checked for strings)
//   copy  how config_from_c fills EngineConfig's member of the same name
//         from a caller whose struct has the field:
//         as_is          copied (a string unless NULL)
//         zero_default   0 (a string: NULL or "") keeps the default
//         min_checked    below min is RTC_EINVAL (max not checked here)
//         range_checked  outside min..max is RTC_EINVAL
//         special        hand-written in config.cpp (validated, renamed or
//                        converted); rtc_config_init leaves it to config.cpp
#pragma once

#include <cstdint>

namespace rtcore_capi {
enum class Copy { as_is, zero_default, min_checked, range_checked, special };
}  // namespace rtcore_capi

// clang-format off (one row per setting, as the doc checks read them)
#define RTCORE_OPTIONS_TABLE(X)                                                                              \
  X(host, RTC_OPTION_STRING, RTC_UNIT_NONE, "--host", "RTCORE_HOST", 0, 0, zero_default, "listen address")   \
  X(port, RTC_OPTION_UINT, RTC_UNIT_NONE, "--port", "RTCORE_PORT", 0, 65535, range_checked,                  \
    "TCP port, 0 picks a free one")                                                                          \
  X(redis_url, RTC_OPTION_STRING, RTC_UNIT_NONE, "--redis", "RTCORE_REDIS_URL", 0, 0, special,               \
    "Redis backplane: redis://[user:password@]host[:port][/db] or unix:///path; nodes sharing it act as "    \
    "one "                                                                                                   \
    "(default: none, the node runs alone)")                                                                  \
  X(redis_prefix, RTC_OPTION_STRING, RTC_UNIT_NONE, "--redis-prefix", "RTCORE_REDIS_PREFIX", 0, 0, as_is,    \
    "channel and key prefix (default rtcore:)")                                                              \
  X(node_ttl_ms, RTC_OPTION_UINT, RTC_UNIT_SECONDS, "--node-ttl", "RTCORE_NODE_TTL", 1, 86400000,            \
    zero_default, "a node silent this long is dead and its users go offline")                                \
  X(redis_connect_timeout_ms, RTC_OPTION_UINT, RTC_UNIT_MS, "--redis-connect-timeout",                       \
    "RTCORE_REDIS_CONNECT_TIMEOUT", 1, 600000, zero_default, "connect timeout of each Redis connection")     \
  X(redis_buffer_bytes, RTC_OPTION_UINT, RTC_UNIT_BYTES, "--redis-buffer-bytes",                             \
    "RTCORE_REDIS_BUFFER_BYTES", 1, 1ull << 40, zero_default, "publishes kept during a Redis outage")        \
  X(join_timeout_ms, RTC_OPTION_UINT, RTC_UNIT_MS, "--join-timeout", "RTCORE_JOIN_TIMEOUT", 1, 86400000,     \
    zero_default, "a join_room id unconfirmed by Redis this long is answered `unavailable`; the join stays") \
  X(presence_limit, RTC_OPTION_UINT, RTC_UNIT_NONE, "--presence-limit", "RTCORE_PRESENCE_LIMIT", 1, 1000000, \
    zero_default, "most users one `presence` answer lists; beyond, it says \"truncated\"")                   \
  X(node_id, RTC_OPTION_STRING, RTC_UNIT_NONE, "--node-id", "RTCORE_NODE_ID", 0, 0, special,                 \
    "this node's id: 1-128 printable ASCII bytes, no spaces (default: random)")                              \
  X(auth_mode, RTC_OPTION_ENUM, RTC_UNIT_NONE, "--auth", "RTCORE_AUTH", 0, 1, special,                       \
    "none|jwt-hs256: none trusts the path's user id; jwt-hs256 needs an HS256 JWT (?token=, Authorization: " \
    "Bearer, or subprotocol bearer.JWT) proving it")                                                         \
  X(jwt_audience, RTC_OPTION_STRING, RTC_UNIT_NONE, "--jwt-audience", "RTCORE_JWT_AUDIENCE", 0, 0, as_is,    \
    "required \"aud\" claim (default: not checked)")                                                         \
  X(jwt_issuer, RTC_OPTION_STRING, RTC_UNIT_NONE, "--jwt-issuer", "RTCORE_JWT_ISSUER", 0, 0, as_is,          \
    "required \"iss\" claim (default: not checked)")                                                         \
  X(jwt_leeway_s, RTC_OPTION_UINT, RTC_UNIT_NONE, "--jwt-leeway", "RTCORE_JWT_LEEWAY", 0, 86400, as_is,      \
    "tolerance on exp/nbf, seconds")                                                                         \
  X(allowed_origins, RTC_OPTION_STRING, RTC_UNIT_NONE, "--allowed-origins", "RTCORE_ALLOWED_ORIGINS", 0, 0,  \
    special, "comma-separated browser origins allowed; others get 403 (default: any)")                       \
  X(max_connections, RTC_OPTION_UINT, RTC_UNIT_NONE, "--max-connections", "RTCORE_MAX_CONNECTIONS", 0,       \
    1u << 30, as_is, "connections on this node, 503 beyond; 0 = no limit")                                   \
  X(max_connections_per_user, RTC_OPTION_UINT, RTC_UNIT_NONE, "--max-connections-per-user",                  \
    "RTCORE_MAX_CONNECTIONS_PER_USER", 0, 1u << 30, as_is,                                                   \
    "connections of one user on this node, 429 beyond; 0 = no limit")                                        \
  X(handshake_timeout_ms, RTC_OPTION_UINT, RTC_UNIT_SECONDS, "--handshake-timeout",                          \
    "RTCORE_HANDSHAKE_TIMEOUT", 1, 65535000, min_checked, "HTTP request + upgrade deadline")                 \
  X(idle_timeout_ms, RTC_OPTION_UINT, RTC_UNIT_SECONDS, "--idle-timeout", "RTCORE_IDLE_TIMEOUT", 0,          \
    65535000, as_is, "close a connection silent this long; 0 = off")                                         \
  X(expose_stats, RTC_OPTION_BOOL, RTC_UNIT_NONE, "--expose-stats", "RTCORE_EXPOSE_STATS", 0, 1, as_is,      \
    "serve GET /stats (JSON counters)")                                                                      \
  X(tls_cert_file, RTC_OPTION_STRING, RTC_UNIT_NONE, "--tls-cert", "RTCORE_TLS_CERT", 0, 0, special,         \
    "PEM certificate chain: serve wss:// (TLS 1.2+)")                                                        \
  X(tls_key_file, RTC_OPTION_STRING, RTC_UNIT_NONE, "--tls-key", "RTCORE_TLS_KEY", 0, 0, special,            \
    "PEM private key for --tls-cert")                                                                        \
  X(max_message_size, RTC_OPTION_UINT, RTC_UNIT_BYTES, "--max-message-size", "RTCORE_MAX_MESSAGE_SIZE", 1,   \
    1ull << 40, min_checked, "largest client message; larger closes with 1009")                              \
  X(max_send_queue_bytes, RTC_OPTION_UINT, RTC_UNIT_BYTES, "--max-queue-bytes", "RTCORE_MAX_QUEUE_BYTES", 1, \
    1ull << 40, min_checked,                                                                                 \
    "per-connection send queue; a client past it is a slow consumer, closed with 1008")                      \
  X(ping_interval_ms, RTC_OPTION_UINT, RTC_UNIT_SECONDS, "--ping-interval", "RTCORE_PING_INTERVAL", 1,       \
    65535000, min_checked, "ping an idle connection after this")                                             \
  X(ping_timeout_ms, RTC_OPTION_UINT, RTC_UNIT_SECONDS, "--ping-timeout", "RTCORE_PING_TIMEOUT", 1,          \
    65535000, min_checked, "then close it if still silent")                                                  \
  X(max_rooms_per_connection, RTC_OPTION_UINT, RTC_UNIT_NONE, "--max-rooms", "RTCORE_MAX_ROOMS", 0,          \
    1u << 30, as_is, "rooms per connection; 0 = unlimited")                                                  \
  X(allow_post_without_join, RTC_OPTION_BOOL, RTC_UNIT_NONE, "--allow-post-without-join",                    \
    "RTCORE_ALLOW_POST_WITHOUT_JOIN", 0, 1, as_is, "room_message without joining first")                     \
  X(log_level, RTC_OPTION_UINT, RTC_UNIT_NONE, "--log-level", "RTCORE_LOG_LEVEL", 0, 3, range_checked,       \
    "0 errors, 1 warnings, 2 info, 3 debug")                                                                 \
  X(log_format, RTC_OPTION_ENUM, RTC_UNIT_NONE, "--log-format", "RTCORE_LOG_FORMAT", 0, 1, special,          \
    "text|json: stderr lines as text, or one JSON object each (time, level, event, node, msg, fields)")      \
  X(internal_listen, RTC_OPTION_STRING, RTC_UNIT_NONE, "--internal-listen", "RTCORE_INTERNAL_LISTEN", 0, 0,  \
    special,                                                                                                 \
    "HOST:PORT of a second, plain-HTTP listener for GET /metrics, /readyz, /stats and /healthz (PORT 0: a "  \
    "free "                                                                                                  \
    "one); the public port then 404s the first three (default: none)")                                       \
  X(history_size, RTC_OPTION_UINT, RTC_UNIT_NONE, "--history-size", "RTCORE_HISTORY_SIZE", 0, 100000,        \
    range_checked,                                                                                           \
    "messages kept per room and per user's direct messages for recovery and history reads; 0 = history off") \
  X(history_ttl_s, RTC_OPTION_UINT, RTC_UNIT_NONE, "--history-ttl", "RTCORE_HISTORY_TTL", 1, 31536000,       \
    zero_default, "seconds a kept message lives; a stream idle this long starts a new epoch (default 300)")  \
  X(lws_transport, RTC_OPTION_BOOL, RTC_UNIT_NONE, "--lws-transport", "RTCORE_LWS_TRANSPORT", 0, 1, as_is,   \
    "serve every connection through libwebsockets instead of rtcore's own accept and upgrade path (a "       \
    "fallback: "                                                                                             \
    "more CPU per connection and memory per idle connection)")
// clang-format on

// rtc_config fields that are not rows: set through dedicated flags or calls
// (the secret never through a flag; the rate limit as one N[:BURST] flag).
inline constexpr const char* kSpecialFields[] = {"struct_size", "jwt_secret", "jwt_secret_len",
                                                 "rate_limit_per_s", "rate_limit_burst"};
