// The state shared by the JS thread and the engine thread: the event queue
// the engine's handlers fill, and the one thread-safe function that drains
// it on the JS thread, a whole batch per call.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "rtcore.h"

namespace rtcore_node {

// kAnswer: a presence query's answer (id = the JS token, status, request =
// truncated, users, flags = online[i] for isOnline). kHistory: a history
// read's answer (id = the JS token, status, a = epoch, request = top, users =
// the stored frames, oldest first).
enum class EventKind : uint32_t {
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

// Bits of Host::wanted: which events have a JS listener. Events nobody
// listens to are dropped on the engine thread instead of waking JS.
enum : uint32_t { kWantOpen = 1, kWantDisconnect = 2, kWantPresence = 4, kWantLog = 8 };

struct Event {
  EventKind kind = EventKind::kOpen;
  uint64_t id = 0;       // connection id, or request id for kConnect
  uint64_t request = 0;  // request id for kAuthorize
  uint32_t code = 0;     // close code, presence status, RTC_ACTION_* (authorize), or RTC_LOG_* (log)
  std::string user;  // user id, or the fields JSON (log)
  std::string a;  // type (message), path (connect), timestamp (presence), target (authorize), event (log)
  std::string b;  // json (message), query (connect), message (log)
  std::string id_json;  // message: the request's id as JSON, empty if none
  std::vector<std::pair<std::string, std::string>> headers;
  int32_t status = 0;              // kAnswer, kHistory: RTC_OK or an RTC_E* code
  std::vector<std::string> users;  // kAnswer | the frames (kHistory)
  std::vector<uint8_t> flags;      // kAnswer of isOnline
};

class Host;
void drain_on_js_thread(Napi::Env env, Napi::Function dispatch, Host* host, void* unused);
using Tsfn = Napi::TypedThreadSafeFunction<Host, void, drain_on_js_thread>;

class Host {
 public:
  // Engine thread: queue an event; wake JS only if no wake-up is pending, so
  // one JS call drains everything queued meanwhile.
  void push(Event&& ev);
  // Like push, for client messages: false (nothing queued) while the
  // messages already waiting for JS hold max_bytes or more, so a stalled
  // event loop cannot make a flood grow memory without bound.
  bool push_bounded(Event&& ev, size_t max_bytes);
  // JS thread: take everything queued so far.
  std::vector<Event> take();
  // Engine thread: does a JS listener want this host-defined type?
  bool wants_type(std::string_view type);
  void set_types(std::unordered_set<std::string> types, bool all);

  Tsfn tsfn;
  bool tsfn_live = false;  // JS thread only
  std::atomic<uint32_t> wanted{0};
  // Cleared before the thread-safe function is released: a handler that
  // still runs afterwards (it cannot, the engine is stopped first) drops.
  std::atomic<bool> accepting{true};
  rtc_engine* engine = nullptr;

 private:
  std::mutex mu_;
  std::vector<Event> queue_;
  bool scheduled_ = false;
  size_t message_bytes_ = 0;  // json bytes of queued message events
  std::mutex types_mu_;
  std::unordered_set<std::string> types_;
  bool all_types_ = false;
};

// The C handlers; user_data is the Host. They run on the engine thread and
// never block: they copy what they need and queue it. on_connect and
// on_authorize are installed only with a JS hook (without one the engine
// decides alone, with no round trip to JS).
rtc_handlers make_handlers(Host* host, bool with_connect_hook, bool with_authorize_hook);

}  // namespace rtcore_node
