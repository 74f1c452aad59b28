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
  int log_level = 1;
};

struct ConnectRequest {
  std::string_view path;
  std::string_view query;
  std::string_view user_id;
  const std::vector<std::pair<std::string_view, std::string_view>>* headers = nullptr;
  uint64_t request_id = 0;  // for a deferred decision
};

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
  std::function<void(ConnId, std::string_view user, std::string_view type, std::string_view json)> on_message;
  std::function<void(std::string_view user, bool online, std::string_view timestamp)> on_presence;
};

}  // namespace rtcore
