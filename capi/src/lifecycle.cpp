// Engine lifecycle: create, start, stop, destroy.
#include <algorithm>
#include <cstring>

#include "internal.hpp"

using rtcore::Engine;
using rtcore_capi::config_from_c;
using rtcore_capi::guarded;
using rtcore_capi::hooks_from_c;

extern "C" {

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

uint32_t rtc_engine_port(const rtc_engine* engine) {
  return engine ? engine->engine->port() : 0;
}

uint32_t rtc_engine_internal_port(const rtc_engine* engine) {
  return engine ? engine->engine->internal_port() : 0;
}

const char* rtc_engine_node_id(const rtc_engine* engine) {
  return engine ? engine->engine->node_id().c_str() : "";
}

int rtc_engine_stop(rtc_engine* engine, uint32_t timeout_ms) {
  if (!engine) return RTC_EINVAL;
  return guarded(
      [&]() -> int { return engine->engine->stop(timeout_ms ? timeout_ms : 1000) ? RTC_OK : RTC_ESTATE; });
}

void rtc_engine_destroy(rtc_engine* engine) {
  if (!engine) return;
  // ~Engine stops and joins from any other thread; from the engine thread
  // (a handler) it mutes the handlers and leaves the stop to that thread.
  guarded([&]() -> int {
    delete engine;
    return RTC_OK;
  });
}

}  // extern "C"
