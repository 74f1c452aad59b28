// The engine's settings and host hooks, in C++ terms. The C API and the
// bindings translate their own forms into these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/conn_id.hpp"

namespace rtcore {

// Largest history_size accepted (messages per stream).
inline constexpr uint32_t kMaxHistorySize = 100000;

struct EngineConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  size_t max_message_size = 1 << 20;
  size_t max_send_queue_bytes = 4 << 20;
  uint32_t ping_interval_ms = 30000;
  uint32_t ping_timeout_ms = 30000;
  uint32_t max_rooms_per_connection = 1024;  // 0: unlimited
  bool allow_post_without_join = false;
  std::string node_id;    // empty: random
  std::string redis_url;  // empty: in-process backplane
  std::string redis_prefix = "rtcore:";
  uint32_t node_ttl_ms = 15000;
  size_t redis_buffer_bytes = 8 << 20;
  uint32_t redis_connect_timeout_ms = 2000;
  // A join_room with an id whose room subscription the backplane has not
  // confirmed within this time is answered with error `unavailable`; the
  // membership stays and takes effect once it is confirmed. 0: no bound.
  uint32_t join_timeout_ms = 3000;
  // Most users one `presence` answer lists; beyond, it says truncated.
  uint32_t presence_limit = 1000;
  // History (docs/protocol.md section 8): messages kept per stream (room or
  // user), 0 = off; each kept for history_ttl_s, and a stream without a new
  // message for that long starts over in a new epoch.
  uint32_t history_size = 0;
  uint32_t history_ttl_s = 300;

  // --- protections (SECURITY.md lists each with its default) ---
  enum class AuthMode { kNone, kJwtHs256 };
  AuthMode auth_mode = AuthMode::kNone;
  std::string jwt_secret;
  int64_t jwt_leeway_s = 30;
  std::string jwt_audience, jwt_issuer;
  // Browser origins allowed to connect; empty allows any. A request
  // without an Origin header (not a browser) is not affected.
  std::vector<std::string> allowed_origins;
  uint32_t rate_limit_per_s = 1000;  // messages per second per connection; 0 off
  uint32_t rate_limit_burst = 2000;
  uint32_t max_connections = 100000;        // 0: unlimited (503 beyond)
  uint32_t max_connections_per_user = 100;  // 0: unlimited (429 beyond)
  uint32_t handshake_timeout_ms = 10000;
  uint32_t idle_timeout_ms = 0;  // no client message for this long: 1000 close; 0 off
  // Serve GET /stats (JSON counters) on the listening port.
  bool expose_stats = false;
  // wss://: PEM certificate chain and private key; both empty for ws://.
  std::string tls_cert_file, tls_key_file;
  int log_level = 1;
  // Log lines as JSON objects (common/log.hpp) instead of text.
  bool log_json = false;
  // A second, plain-HTTP listener serving /metrics, /readyz, /stats and
  // /healthz (docs/protocol.md section 10); the public port then answers
  // 404 for /metrics, /readyz and /stats. internal_port 0 picks a free one.
  bool internal_listen = false;
  std::string internal_host;
  uint16_t internal_port = 0;
  // Serve every public connection through libwebsockets instead of the own
  // accept and upgrade path (transport/ws_server.hpp: WsServerOptions::
  // own_transport); the path is chosen per listener, the protocol is the same.
  bool lws_transport = false;
};

struct ConnectRequest {
  std::string_view path;
  std::string_view query;
  std::string_view user_id;
  const std::vector<std::pair<std::string_view, std::string_view>>* headers = nullptr;
  uint64_t request_id = 0;  // for a deferred decision
};

// What the authorization hook is asked about, and what it may answer.
// kPresence: a `presence` query (target: the room); kOnline: an `online`
// query (target: empty).
enum class Action { kJoinRoom, kRoomMessage, kDirectMessage, kPresence, kOnline };
enum class Verdict { kDeny, kAllow, kDefer };

struct ConnectDecision {
  bool accept = true;
  int http_status = 0;  // refusal status; 0 means 403
  std::string user_id;  // starts as the path's user id
  // The host decides later through EngineCore::resolve_connect.
  bool defer = false;
};

// Hooks run on the engine thread and must not block. Empty ones are skipped
// (an empty on_message makes custom types an unknown_type error).
struct EngineHooks {
  std::function<void(const ConnectRequest&, ConnectDecision&)> on_connect;
  std::function<void(ConnId, std::string_view user)> on_open;
  std::function<void(ConnId, std::string_view user, uint16_t close_code)> on_disconnect;
  // id_json: the request's id as JSON text (a quoted string or an integer),
  // verbatim from the frame; empty when the message had none.
  std::function<void(ConnId, std::string_view user, std::string_view type, std::string_view json,
                     std::string_view id_json)>
      on_message;
  std::function<void(std::string_view user, bool online, std::string_view timestamp)> on_presence;
  // kDeny refuses the action with error `forbidden`; kDefer holds it (and
  // the connection's later messages) until EngineCore::resolve_authorization
  // with request_id. target is the room, the recipient of a direct message,
  // or empty (online).
  std::function<Verdict(ConnId, std::string_view user, Action action, std::string_view target,
                        uint64_t request_id)>
      on_authorize;
  // Every log line the engine writes (level 0 error .. 3 debug, a snake_case
  // event name, the message, the fields as a JSON object). Set: lines go
  // here instead of stderr. Runs on the engine thread; must not block.
  std::function<void(int level, std::string_view event, std::string_view message, std::string_view fields)>
      on_log;
};

}  // namespace rtcore
