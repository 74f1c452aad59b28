// The extern "C" shims: argument checks, translation into the C++ engine,
// and a catch-all so no exception ever crosses the ABI.
#include "rtcore.h"

#include <algorithm>
#include <cstring>
#include <vector>
#include <new>
#include <string>

#include "engine/engine.hpp"
#include "engine/engine_core.hpp"
#include "protocol/server_message.hpp"
#include "protocol/timestamp.hpp"
#include "protocol/validate.hpp"
#include "protocol/json_check.hpp"
#include "backplane/redis_url.hpp"

using rtcore::ConnId;
using rtcore::Engine;
using rtcore::EngineCore;
using rtcore::FramePtr;

struct rtc_engine {
  std::unique_ptr<Engine> engine;
};

namespace {

// Reads a field of a caller's versioned struct only if the caller's struct
// is large enough to have it.
#define RTC_HAS_FIELD(ptr, type, field) ((ptr)->struct_size >= offsetof(type, field) + sizeof((ptr)->field))

std::string_view view(const char* p, size_t n) { return p ? std::string_view(p, n) : std::string_view(); }

template <typename F>
int guarded(F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return RTC_ENOMEM;
  } catch (...) {
    return RTC_EINTERNAL;
  }
}

// Encodes a payload for the send functions; empty on invalid input.
std::string encode_payload(int32_t kind, std::string_view payload, bool room, std::string_view room_name,
                           std::string_view from) {
  // Content is wrapped in one more object, so it may nest one level less
  // than a whole frame: the frame then stays within what clients accept.
  int depth = kind == RTC_PAYLOAD_RAW ? rtcore::protocol::kMaxNestingDepth : rtcore::protocol::kMaxNestingDepth - 1;
  if (!rtcore::protocol::is_valid_json_value(payload, depth)) return {};
  if (kind == RTC_PAYLOAD_RAW) return std::string(payload);
  std::string ts = rtcore::protocol::now_timestamp();
  return room ? rtcore::protocol::encode_room_message(room_name, from, payload, ts)
              : rtcore::protocol::encode_direct_message(from, payload, ts);
}

bool valid_kind(int32_t kind) { return kind == RTC_PAYLOAD_CONTENT || kind == RTC_PAYLOAD_RAW; }

bool valid_close_code(uint32_t code) { return code == 1000 || (code >= 3000 && code <= 4999); }

int post(rtc_engine* e, std::function<void(EngineCore&)> fn) {
  if (!e) return RTC_EINVAL;
  return e->engine->post(std::move(fn)) ? RTC_OK : RTC_ESTATE;
}

}  // namespace

extern "C" {

const char* rtc_strerror(int code) {
  switch (code) {
#define RTC_X_MSG(name, value, msg) \
  case value: return msg;
    RTC_ERRNO_MAP(RTC_X_MSG)
#undef RTC_X_MSG
  }
  return "unknown error";
}

const char* rtc_err_name(int code) {
  switch (code) {
#define RTC_X_NAME(name, value, msg) \
  case value: return "RTC_" #name;
    RTC_ERRNO_MAP(RTC_X_NAME)
#undef RTC_X_NAME
  }
  return "RTC_UNKNOWN";
}

const char* rtc_version(void) { return RTC_VERSION_STRING; }

uint32_t rtc_version_number(void) {
  return (RTC_VERSION_MAJOR << 16) | (RTC_VERSION_MINOR << 8) | RTC_VERSION_PATCH;
}

void rtc_config_init(rtc_config* config) {
  if (!config) return;
  std::memset(config, 0, sizeof *config);
  config->struct_size = sizeof *config;
  rtcore::EngineConfig d;
  config->max_message_size = d.max_message_size;
  config->max_send_queue_bytes = d.max_send_queue_bytes;
  config->ping_interval_ms = d.ping_interval_ms;
  config->ping_timeout_ms = d.ping_timeout_ms;
  config->max_rooms_per_connection = d.max_rooms_per_connection;
  config->log_level = static_cast<uint32_t>(d.log_level);
  config->node_ttl_ms = d.node_ttl_ms;
  config->redis_connect_timeout_ms = d.redis_connect_timeout_ms;
  config->redis_buffer_bytes = d.redis_buffer_bytes;
  config->auth_mode = RTC_AUTH_NONE;
  config->jwt_leeway_s = static_cast<uint32_t>(d.jwt_leeway_s);
  config->rate_limit_per_s = d.rate_limit_per_s;
  config->rate_limit_burst = d.rate_limit_burst;
  config->max_connections = d.max_connections;
  config->max_connections_per_user = d.max_connections_per_user;
  config->handshake_timeout_ms = d.handshake_timeout_ms;
  config->idle_timeout_ms = d.idle_timeout_ms;
}

void rtc_handlers_init(rtc_handlers* handlers) {
  if (!handlers) return;
  std::memset(handlers, 0, sizeof *handlers);
  handlers->struct_size = sizeof *handlers;
}

void rtc_stats_init(rtc_stats* stats) {
  if (!stats) return;
  std::memset(stats, 0, sizeof *stats);
  stats->struct_size = sizeof *stats;
}

int rtc_connect_decision_set_user(rtc_connect_decision* decision, const char* user_id, size_t len) {
  if (!decision || !user_id || !rtcore::protocol::is_valid_user_id(std::string_view(user_id, len)))
    return RTC_EINVAL;
  std::memcpy(decision->user_id, user_id, len);
  decision->user_id[len] = '\0';
  decision->user_id_len = static_cast<uint32_t>(len);
  return RTC_OK;
}

static std::vector<std::string> split_origins(std::string_view list) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= list.size();) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view o = list.substr(start, end - start);
    while (!o.empty() && o.front() == ' ') o.remove_prefix(1);
    while (!o.empty() && o.back() == ' ') o.remove_suffix(1);
    if (!o.empty()) out.emplace_back(o);
    start = end + 1;
  }
  return out;
}

static int protections_from_c(const rtc_config* c, rtcore::EngineConfig& out) {
  using Mode = rtcore::EngineConfig::AuthMode;
  if (c->auth_mode == RTC_AUTH_JWT_HS256) {
    if (!c->jwt_secret || c->jwt_secret_len == 0) return RTC_EINVAL;
    out.auth_mode = Mode::kJwtHs256;
    out.jwt_secret.assign(c->jwt_secret, c->jwt_secret_len);
  } else if (c->auth_mode != RTC_AUTH_NONE) {
    return RTC_EINVAL;
  }
  out.jwt_leeway_s = c->jwt_leeway_s;
  if (c->jwt_audience) out.jwt_audience = c->jwt_audience;
  if (c->jwt_issuer) out.jwt_issuer = c->jwt_issuer;
  if (c->allowed_origins) out.allowed_origins = split_origins(c->allowed_origins);
  out.rate_limit_per_s = c->rate_limit_per_s;
  out.rate_limit_burst = c->rate_limit_burst ? c->rate_limit_burst : 2 * c->rate_limit_per_s;
  out.max_connections = c->max_connections;
  out.max_connections_per_user = c->max_connections_per_user;
  if (c->handshake_timeout_ms == 0) return RTC_EINVAL;
  out.handshake_timeout_ms = c->handshake_timeout_ms;
  out.idle_timeout_ms = c->idle_timeout_ms;
  out.expose_stats = c->expose_stats != 0;
  bool cert = c->tls_cert_file && *c->tls_cert_file, key = c->tls_key_file && *c->tls_key_file;
  if (cert != key) return RTC_EINVAL;  // both or neither
  if (cert) {
    out.tls_cert_file = c->tls_cert_file;
    out.tls_key_file = c->tls_key_file;
  }
  return RTC_OK;
}

static int config_from_c(const rtc_config* c, rtcore::EngineConfig& out) {
  if (!c) return RTC_OK;
  // The first version of the struct ends after log_level; nothing shorter
  // was ever published.
  if (c->struct_size < offsetof(rtc_config, log_level) + sizeof(c->log_level)) return RTC_ESTRUCT;
  if (c->host && *c->host) out.host = c->host;
  if (c->port > 65535) return RTC_EINVAL;
  out.port = static_cast<uint16_t>(c->port);
  if (c->max_message_size == 0 || c->max_send_queue_bytes == 0) return RTC_EINVAL;
  out.max_message_size = c->max_message_size;
  out.max_send_queue_bytes = c->max_send_queue_bytes;
  if (c->ping_interval_ms == 0 || c->ping_timeout_ms == 0) return RTC_EINVAL;
  out.ping_interval_ms = c->ping_interval_ms;
  out.ping_timeout_ms = c->ping_timeout_ms;
  out.max_rooms_per_connection = c->max_rooms_per_connection;
  out.allow_post_without_join = c->allow_post_without_join != 0;
  if (c->node_id) out.node_id = c->node_id;
  if (c->redis_url && *c->redis_url) {
    if (!rtcore::parse_redis_url(c->redis_url, nullptr)) return RTC_EINVAL;
    out.redis_url = c->redis_url;
  }
  if (c->log_level > 3) return RTC_EINVAL;
  out.log_level = static_cast<int>(c->log_level);
  // Fields appended later are read only from callers that know them.
  if (RTC_HAS_FIELD(c, rtc_config, redis_buffer_bytes)) {
    if (c->redis_prefix) out.redis_prefix = c->redis_prefix;
    if (c->node_ttl_ms) out.node_ttl_ms = c->node_ttl_ms;
    if (c->redis_connect_timeout_ms) out.redis_connect_timeout_ms = c->redis_connect_timeout_ms;
    if (c->redis_buffer_bytes) out.redis_buffer_bytes = c->redis_buffer_bytes;
  }
  if (RTC_HAS_FIELD(c, rtc_config, tls_key_file)) {
    if (int rc = protections_from_c(c, out); rc != RTC_OK) return rc;
  }
  return RTC_OK;
}

// Wraps the C handlers as engine hooks. The handlers struct is copied, so
// the caller's may go away after rtc_engine_create.
static rtcore::EngineHooks hooks_from_c(const rtc_handlers& h) {
  rtcore::EngineHooks hooks;
  void* ud = h.user_data;
  if (h.on_connect) {
    auto fn = h.on_connect;
    hooks.on_connect = [fn, ud](const rtcore::ConnectRequest& req, rtcore::ConnectDecision& out) {
      std::vector<rtc_header> headers;
      for (const auto& [name, value] : *req.headers)
        headers.push_back(rtc_header{name.data(), name.size(), value.data(), value.size()});
      rtc_connect_request creq{sizeof(rtc_connect_request),
                               req.path.data(), req.path.size(),
                               req.query.data(), req.query.size(),
                               req.user_id.data(), req.user_id.size(),
                               headers.data(), headers.size(),
                               req.request_id};
      rtc_connect_decision d;
      std::memset(&d, 0, sizeof d);
      d.struct_size = sizeof d;
      d.accept = 1;
      rtc_connect_decision_set_user(&d, req.user_id.data(), req.user_id.size());
      fn(ud, &creq, &d);
      out.defer = d.defer != 0;
      out.accept = d.accept != 0;
      out.http_status = d.http_status;
      out.user_id.assign(d.user_id, d.user_id_len <= 128 ? d.user_id_len : 0);
    };
  }
  if (h.on_open) {
    auto fn = h.on_open;
    hooks.on_open = [fn, ud](ConnId id, std::string_view user) { fn(ud, id, user.data(), user.size()); };
  }
  if (h.on_disconnect) {
    auto fn = h.on_disconnect;
    hooks.on_disconnect = [fn, ud](ConnId id, std::string_view user, uint16_t code) {
      fn(ud, id, user.data(), user.size(), code);
    };
  }
  if (h.on_message) {
    auto fn = h.on_message;
    hooks.on_message = [fn, ud](ConnId id, std::string_view user, std::string_view type, std::string_view json) {
      fn(ud, id, user.data(), user.size(), type.data(), type.size(), json.data(), json.size());
    };
  }
  if (h.on_authorize) {
    auto fn = h.on_authorize;
    hooks.on_authorize = [fn, ud](ConnId id, std::string_view user, rtcore::Action action, std::string_view target,
                                  uint64_t request_id) {
      int32_t a = action == rtcore::Action::kJoinRoom      ? RTC_ACTION_JOIN_ROOM
                  : action == rtcore::Action::kRoomMessage ? RTC_ACTION_ROOM_MESSAGE
                                                           : RTC_ACTION_DIRECT_MESSAGE;
      int32_t v = fn(ud, id, user.data(), user.size(), a, target.data(), target.size(), request_id);
      return v == RTC_AUTHZ_ALLOW   ? rtcore::Verdict::kAllow
             : v == RTC_AUTHZ_DEFER ? rtcore::Verdict::kDefer
                                    : rtcore::Verdict::kDeny;
    };
  }
  if (h.on_presence) {
    auto fn = h.on_presence;
    hooks.on_presence = [fn, ud](std::string_view user, bool online, std::string_view ts) {
      fn(ud, user.data(), user.size(), online ? RTC_PRESENCE_ONLINE : RTC_PRESENCE_OFFLINE, ts.data(), ts.size());
    };
  }
  return hooks;
}

int rtc_engine_create(const rtc_config* config, const rtc_handlers* handlers, rtc_engine** out) {
  if (!out) return RTC_EINVAL;
  *out = nullptr;
  return guarded([&]() -> int {
    rtcore::EngineConfig cfg;
    if (int rc = config_from_c(config, cfg); rc != RTC_OK) return rc;
    rtc_handlers h;
    rtc_handlers_init(&h);
    if (handlers) {
      if (handlers->struct_size < offsetof(rtc_handlers, on_presence) + sizeof(handlers->on_presence))
        return static_cast<int>(RTC_ESTRUCT);
      // An older caller's struct is shorter: the fields it lacks stay NULL.
      std::memcpy(&h, handlers, std::min<size_t>(handlers->struct_size, sizeof h));
      h.struct_size = sizeof h;
    }
    auto e = std::make_unique<rtc_engine>();
    e->engine = std::make_unique<Engine>(std::move(cfg), hooks_from_c(h));
    *out = e.release();
    return static_cast<int>(RTC_OK);
  });
}

int rtc_engine_start(rtc_engine* engine) {
  if (!engine) return RTC_EINVAL;
  return guarded([&]() -> int {
    switch (engine->engine->start()) {
      case rtcore::StartResult::kOk: return RTC_OK;
      case rtcore::StartResult::kAlreadyStarted: return RTC_ESTATE;
      case rtcore::StartResult::kListenFailed: return RTC_ELISTEN;
      case rtcore::StartResult::kTlsFailed: return RTC_ETLS;
      case rtcore::StartResult::kInternal: break;
    }
    return RTC_EINTERNAL;
  });
}

uint32_t rtc_engine_port(const rtc_engine* engine) { return engine ? engine->engine->port() : 0; }

const char* rtc_engine_node_id(const rtc_engine* engine) {
  return engine ? engine->engine->node_id().c_str() : "";
}

int rtc_engine_stop(rtc_engine* engine, uint32_t timeout_ms) {
  if (!engine) return RTC_EINVAL;
  return guarded([&]() -> int { return engine->engine->stop(timeout_ms ? timeout_ms : 1000) ? RTC_OK : RTC_ESTATE; });
}

void rtc_engine_destroy(rtc_engine* engine) {
  if (!engine) return;
  guarded([&]() -> int {
    engine->engine->stop(1000);
    delete engine;
    return RTC_OK;
  });
}

int rtc_send_to_user(rtc_engine* engine, const char* user_id, size_t user_id_len, const char* from,
                     size_t from_len, int32_t kind, const char* payload, size_t payload_len) {
  return guarded([&]() -> int {
    std::string user(view(user_id, user_id_len));
    if (!rtcore::protocol::is_valid_user_id(user) || !valid_kind(kind)) return RTC_EINVAL;
    std::string text = encode_payload(kind, view(payload, payload_len), false, {}, view(from, from_len));
    if (text.empty()) return RTC_EINVAL;
    return post(engine, [user = std::move(user), text = std::move(text)](EngineCore& core) {
      core.send_to_user(user, rtcore::make_text_frame(text));
    });
  });
}

int rtc_send_to_connection(rtc_engine* engine, rtc_conn_id conn, const char* from, size_t from_len, int32_t kind,
                           const char* payload, size_t payload_len) {
  return guarded([&]() -> int {
    if (conn == 0 || !valid_kind(kind)) return RTC_EINVAL;
    std::string text = encode_payload(kind, view(payload, payload_len), false, {}, view(from, from_len));
    if (text.empty()) return RTC_EINVAL;
    return post(engine, [conn, text = std::move(text)](EngineCore& core) {
      core.send_to_connection(conn, rtcore::make_text_frame(text));
    });
  });
}

int rtc_broadcast(rtc_engine* engine, const char* room, size_t room_len, const char* from, size_t from_len,
                  int32_t kind, const char* payload, size_t payload_len) {
  return guarded([&]() -> int {
    std::string r(view(room, room_len));
    if (!rtcore::protocol::is_valid_room(r) || !valid_kind(kind)) return RTC_EINVAL;
    std::string text = encode_payload(kind, view(payload, payload_len), true, r, view(from, from_len));
    if (text.empty()) return RTC_EINVAL;
    return post(engine, [r = std::move(r), text = std::move(text)](EngineCore& core) {
      core.broadcast(r, rtcore::make_text_frame(text));
    });
  });
}

static int membership(rtc_engine* engine, rtc_conn_id conn, const char* room, size_t room_len, bool join) {
  return guarded([&]() -> int {
    std::string r(view(room, room_len));
    if (conn == 0 || !rtcore::protocol::is_valid_room(r)) return RTC_EINVAL;
    return post(engine, [conn, r = std::move(r), join](EngineCore& core) {
      join ? core.join(conn, r) : core.leave(conn, r);
    });
  });
}

int rtc_join(rtc_engine* engine, rtc_conn_id conn, const char* room, size_t room_len) {
  return membership(engine, conn, room, room_len, true);
}

int rtc_leave(rtc_engine* engine, rtc_conn_id conn, const char* room, size_t room_len) {
  return membership(engine, conn, room, room_len, false);
}

int rtc_send_error(rtc_engine* engine, rtc_conn_id conn, const char* code, size_t code_len, const char* message,
                   size_t message_len, const char* id_json, size_t id_json_len) {
  return guarded([&]() -> int {
    std::string_view c = view(code, code_len), m = view(message, message_len), id = view(id_json, id_json_len);
    if (conn == 0 || c.empty() || !rtcore::protocol::is_valid_utf8(c) || !rtcore::protocol::is_valid_utf8(m) ||
        (!id.empty() && !rtcore::protocol::is_valid_json_id(id)))
      return RTC_EINVAL;
    std::string text = rtcore::protocol::encode_error(c, m, id);
    return post(engine, [conn, text = std::move(text)](EngineCore& core) {
      core.send_error_frame(conn, rtcore::make_text_frame(text));
    });
  });
}

int rtc_connect_resolve(rtc_engine* engine, uint64_t request_id, int32_t accept, int32_t http_status,
                        const char* user_id, size_t len) {
  return guarded([&]() -> int {
    std::string user(view(user_id, len));
    if (request_id == 0 || (!user.empty() && !rtcore::protocol::is_valid_user_id(user)) ||
        (user_id && len == 0) || (!accept && http_status != 0 && (http_status < 400 || http_status > 599)))
      return RTC_EINVAL;
    return post(engine, [request_id, accept, http_status, user = std::move(user)](EngineCore& core) mutable {
      core.resolve_connect(request_id, accept != 0, http_status, std::move(user));
    });
  });
}

int rtc_authorize_resolve(rtc_engine* engine, uint64_t request_id, int32_t allow) {
  if (request_id == 0) return RTC_EINVAL;
  return guarded([&]() -> int {
    return post(engine, [request_id, allow](EngineCore& core) { core.resolve_authorization(request_id, allow != 0); });
  });
}

int rtc_disconnect(rtc_engine* engine, rtc_conn_id conn, uint32_t close_code) {
  if (conn == 0 || !valid_close_code(close_code)) return RTC_EINVAL;
  return guarded([&]() -> int {
    return post(engine, [conn, close_code](EngineCore& core) {
      core.disconnect(conn, static_cast<uint16_t>(close_code));
    });
  });
}

int rtc_disconnect_user(rtc_engine* engine, const char* user_id, size_t user_id_len, uint32_t close_code) {
  return guarded([&]() -> int {
    std::string user(view(user_id, user_id_len));
    if (!rtcore::protocol::is_valid_user_id(user) || !valid_close_code(close_code)) return RTC_EINVAL;
    return post(engine, [user = std::move(user), close_code](EngineCore& core) {
      core.disconnect_user(user, static_cast<uint16_t>(close_code));
    });
  });
}

int rtc_engine_stats(const rtc_engine* engine, rtc_stats* stats) {
  if (!engine || !stats || stats->struct_size < sizeof(uint32_t)) return RTC_EINVAL;
  const rtcore::EngineStats& s = engine->engine->stats();
  rtc_stats full;
  full.struct_size = stats->struct_size;
  full.connections = s.connections.get();
  full.users = s.users.get();
  full.rooms = s.rooms.get();
  full.messages_in = s.messages_in.get();
  full.messages_out = s.messages_out.get();
  full.bytes_out = s.bytes_out.get();
  full.drops = s.drops.get();
  full.errors_sent = s.errors_sent.get();
  full.connections_total = s.connections_total.get();
  full.rejected_upgrades = s.rejected_upgrades.get();
  full.slow_consumer_closes = s.slow_consumer_closes.get();
  full.oversize_closes = s.oversize_closes.get();
  const rtcore::BackplaneStats& b = s.backplane;
  bool redis = !engine->engine->config().redis_url.empty();
  full.backplane_connected = redis ? b.connected.get() : 1;
  full.backplane_reconnects = b.reconnects.get();
  full.backplane_buffered_bytes = b.buffered_bytes.get();
  full.backplane_dropped = b.dropped.get();
  full.backplane_invalid = b.invalid_envelopes.get();
  full.backplane_published = b.published.get();
  full.backplane_received = b.received.get();
  full.auth_failures = s.auth_failures.get();
  full.origin_refusals = s.origin_refusals.get();
  full.connection_limit_refusals = s.connection_limit_refusals.get();
  full.user_limit_refusals = s.user_limit_refusals.get();
  full.rate_limited = s.rate_limited.get();
  full.rate_limit_closes = s.rate_limit_closes.get();
  full.idle_closes = s.idle_closes.get();
  full.forbidden = s.forbidden.get();
  full.internal_errors = s.internal_errors.get() + b.internal_errors.get();
  size_t n = stats->struct_size < sizeof full ? stats->struct_size : sizeof full;
  std::memcpy(stats, &full, n);
  return RTC_OK;
}

}  // extern "C"
