// A thin owner of one rtc_engine in the C API's queued mode
// (rtc_engine_create_queued): the engine thread never touches Python; the
// asyncio loop watches the queue's fd and takes whole batches. Everything
// else forwards to the C API and returns its result code.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rtcore.h"

namespace rtcore_py {

// Which events to queue (a bit mask; the C API's RTC_EVENTS_* bits). An
// event not queued keeps the engine's own default, e.g. no message events
// means unknown_type, no connect events means every valid upgrade accepted.
enum HookBits : uint32_t {
  kHookConnect = RTC_EVENTS_CONNECT,
  kHookOpen = RTC_EVENTS_OPEN,
  kHookDisconnect = RTC_EVENTS_DISCONNECT,
  kHookMessage = RTC_EVENTS_MESSAGE,
  kHookPresence = RTC_EVENTS_PRESENCE,
  kHookAuthorize = RTC_EVENTS_AUTHORIZE,
  kHookLog = RTC_EVENTS_LOG,  // the engine's log lines, to Python's logging
};

// The kinds Python sees (rtcore._native.EVENT_*), one per C event kind;
// kAnswer covers both presence queries' answers.
enum class EventKind : int {
  kConnect = 0,
  kOpen = 1,
  kDisconnect = 2,
  kMessage = 3,
  kPresence = 4,
  kAuthorize = 5,
  kLog = 6,
  kAnswer = 7,
  kHistory = 8,
};

struct BatchFree {
  void operator()(rtc_event_batch* b) const { rtc_event_batch_free(b); }
};
using Batch = std::unique_ptr<rtc_event_batch, BatchFree>;

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

  // The queue's fd (readable while events wait), -1 without an engine.
  int fd() const { return rtc_events_fd(engine_); }
  // Every event queued so far (an empty batch when none).
  Batch take();

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
  // The answers arrive as RTC_EVENT_ROOM_MEMBERS / RTC_EVENT_USERS_ONLINE
  // events carrying token (exactly one per call that returned RTC_OK).
  int room_members(std::string_view room, uint32_t limit, uint64_t token);
  int users_online(const std::vector<std::string>& users, uint64_t token);
  // The answer arrives as an RTC_EVENT_HISTORY event carrying token.
  int history(std::string_view room, uint32_t limit, uint64_t before, uint64_t token);

 private:
  rtc_engine* engine_ = nullptr;
};

}  // namespace rtcore_py
