// The JS side of one engine in the C API's queued mode
// (rtc_engine_create_queued): a uv_poll_t watches the queue's fd on Node's
// loop, and each wake-up takes the whole batch and hands it to JS in one
// call. The engine thread never touches JS; the queue, its batching and its
// overloaded bound live under the C API.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rtcore.h"

namespace rtcore_node {

// The kinds JS sees (lib/engine.js EV_*): kAnswer covers both presence
// queries' answers.
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

// Bits of setWanted() (lib/engine.js WANT_*): which events have a JS
// listener. The others are not queued (rtc_events_select).
enum : uint32_t { kWantOpen = 1, kWantDisconnect = 2, kWantPresence = 4, kWantLog = 8 };

class Host {
 public:
  Host() = default;
  ~Host();  // unwatches; the engine itself is destroyed by its owner first
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // rtc_engine_create_queued with config; connect/authorize decisions are
  // queued only with a JS hook (without one the engine decides alone).
  int create(const rtc_config& config, bool with_connect_hook, bool with_authorize_hook);
  // Destroys the engine (stopping it if running); idempotent.
  void destroy();

  // Starts watching the queue's fd on env's loop, unref'd; every wake-up
  // calls dispatch(batch). False if libuv refuses.
  bool watch(Napi::Env env, Napi::Function dispatch);
  // Stops watching and closes the poll handle; idempotent.
  void unwatch();
  // Whether the poll handle keeps the loop alive (as net.Server's ref()).
  void set_ref(bool on);
  // Takes every queued event and, if there were any, calls dispatch with
  // them. With make_callback the call runs as a fresh callback from the
  // loop (microtasks drained after it); without, inside the current one.
  void drain(Napi::Env env, bool make_callback);

  // Which events have a listener, and which message types (all: every
  // one); applied now and to an engine created later.
  void set_wanted(uint32_t bits, std::vector<std::string> types, bool all);

  rtc_engine* engine = nullptr;

 private:
  static void on_readable(uv_poll_t* handle, int status, int events);
  void apply_wanted();

  uv_poll_t* poll_ = nullptr;  // owned until its close callback frees it
  Napi::FunctionReference dispatch_;
  std::unique_ptr<Napi::AsyncContext> context_;
  uint32_t wanted_ = 0;
  std::vector<std::string> types_;
  bool all_types_ = false;
};

}  // namespace rtcore_node
