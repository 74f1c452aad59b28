// A thin owner of one rtc_engine: the C handlers it installs copy each event
// into an EventQueue and return at once, so the engine thread never touches
// Python. Everything else forwards to the C API and returns its result code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "event_queue.hpp"
#include "rtcore.h"

namespace rtcore_py {

// Which engine handlers to install (a bit mask); an uninstalled handler
// keeps the engine's own default, e.g. no on_message means unknown_type.
enum HookBits : uint32_t {
  kHookConnect = 1u << 0,
  kHookOpen = 1u << 1,
  kHookDisconnect = 1u << 2,
  kHookMessage = 1u << 3,
  kHookPresence = 1u << 4,
  kHookAuthorize = 1u << 5,
  kHookLog = 1u << 6,  // the engine's log lines, to Python's logging
};


class NativeEngine {
 public:
  NativeEngine() = default;
  ~NativeEngine();  // destroys the engine (stopping it if running)
  NativeEngine(const NativeEngine&) = delete;
  NativeEngine& operator=(const NativeEngine&) = delete;

  // rtc_engine_create with config (filled from the settings table by the
  // module, strings borrowed for the call) and the handlers hooks selects;
  // RTC_ESTATE if this object already holds an engine.
  int create(const rtc_config& config, uint32_t hooks);
  // rtc_engine_start with the process's asynchronous signals blocked, so
  // the engine thread inherits a mask that leaves them to Python's thread.
  int start();
  int stop(uint32_t timeout_ms);
  void destroy();  // idempotent
  bool created() const { return engine_ != nullptr; }

  uint32_t port() const;
  uint32_t internal_port() const;
  std::string node_id() const;
  int stats(rtc_stats& out) const;
  // The Prometheus text of rtc_engine_metrics.
  int metrics(std::string& out) const;

  int fd() const { return queue_.fd(); }
  std::vector<Event> take() { return queue_.take(); }

  int resolve(uint64_t request_id, bool accept, int32_t status, std::string_view user_id);
  int authorize_resolve(uint64_t request_id, bool allow);
  int send_to_user(std::string_view user, std::string_view from, int32_t kind, std::string_view payload);
  int send_to_connection(rtc_conn_id conn, std::string_view from, int32_t kind, std::string_view payload);
  int broadcast(std::string_view room, std::string_view from, int32_t kind, std::string_view payload);
  int join(rtc_conn_id conn, std::string_view room);
  int leave(rtc_conn_id conn, std::string_view room);
  int send_error(rtc_conn_id conn, std::string_view code, std::string_view message, std::string_view id_json);
  int disconnect(rtc_conn_id conn, uint32_t close_code);
  int disconnect_user(std::string_view user, uint32_t close_code);
  // The answers arrive as kAnswer events carrying token (exactly one per
  // call that returned RTC_OK).
  int room_members(std::string_view room, uint32_t limit, uint64_t token);
  int users_online(const std::vector<std::string>& users, uint64_t token);
  // The answer arrives as a kHistory event carrying token, like the above.
  int history(std::string_view room, uint32_t limit, uint64_t before, uint64_t token);

 private:
  static void on_connect(void* self, const rtc_connect_request* req, rtc_connect_decision* decision);
  static void on_open(void* self, rtc_conn_id conn, const char* user, size_t user_len);
  static void on_disconnect(void* self, rtc_conn_id conn, const char* user, size_t user_len, uint32_t code);
  static void on_message(void* self, rtc_conn_id conn, const char* user, size_t user_len, const char* type,
                         size_t type_len, const char* json, size_t json_len, const char* id_json,
                         size_t id_json_len);
  static void on_presence(void* self, const char* user, size_t user_len, int32_t status, const char* ts,
                          size_t ts_len);
  static void on_log(void* self, int32_t level, const char* event, size_t event_len, const char* message,
                     size_t message_len, const char* fields, size_t fields_len);
  static int32_t on_authorize(void* self, rtc_conn_id conn, const char* user, size_t user_len, int32_t action,
                              const char* target, size_t target_len, uint64_t request_id);

  EventQueue queue_;
  rtc_engine* engine_ = nullptr;
};

}  // namespace rtcore_py
