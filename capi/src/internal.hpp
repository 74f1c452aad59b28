// Shared by the C API's source files (not installed): the engine handle,
// the catch-all every extern "C" body runs through, and small helpers.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <string_view>

#include "engine/engine.hpp"
#include "engine/engine_config.hpp"
#include "event_queue.hpp"
#include "rtcore.h"

struct rtc_engine {
  // Queued mode only (rtc_engine_create_queued). Declared first, so it
  // outlives the engine: the engine's last events and a query's RTC_ESTATE
  // answer may arrive while the engine is destroyed.
  std::unique_ptr<rtcore_capi::EventQueue> queue;
  std::unique_ptr<rtcore::Engine> engine;
};

namespace rtcore_capi {

// Reads a field of a caller's versioned struct only if the caller's struct
// is large enough to have it.
#define RTC_HAS_FIELD(ptr, type, field) ((ptr)->struct_size >= offsetof(type, field) + sizeof((ptr)->field))

inline std::string_view view(const char* p, size_t n) {
  return p ? std::string_view(p, n) : std::string_view();
}

// No exception crosses the ABI: every extern "C" body runs through this.
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

// The caller's callback, called exactly once: with the answer, or, if the
// query is dropped unanswered (the engine stopped before running it, and
// the command was destroyed), with RTC_ESTATE from the destructor.
template <typename Answer>
class Once {
 public:
  explicit Once(Answer fail) : fail_(std::move(fail)) {}
  ~Once() {
    if (!called_) fail_();
  }
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;
  // True the first time only.
  bool take() {
    if (called_) return false;
    called_ = true;
    return true;
  }

 private:
  Answer fail_;
  bool called_ = false;
};

// Translates a caller's rtc_config (any published size) into the engine's.
int config_from_c(const rtc_config* c, rtcore::EngineConfig& out);
// Wraps the C handlers (a full-size copy) as engine hooks.
rtcore::EngineHooks hooks_from_c(const rtc_handlers& h);
// The hooks of queued mode: they fill q (configured bits) and answer
// unknown_type / overloaded through e (event_hooks.cpp).
rtcore::EngineHooks queue_hooks(rtc_engine* e, EventQueue& q);

}  // namespace rtcore_capi
