// rtc_history_read: arguments checked and copied at the call; the read runs
// on the engine thread and its answer reaches the caller's callback there.
#include <memory>
#include <string>
#include <vector>

#include "engine/engine_core.hpp"
#include "internal.hpp"
#include "protocol/client_message.hpp"
#include "protocol/validate.hpp"

using rtcore::EngineCore;
using rtcore_capi::guarded;
using rtcore_capi::Once;
using rtcore_capi::view;

extern "C" {

int rtc_history_read(rtc_engine* engine, const char* room, size_t room_len, uint32_t limit, uint64_t before,
                     rtc_history_cb callback, void* userdata) {
  return guarded([&]() -> int {
    std::string r(view(room, room_len));
    if (!engine || !callback || !rtcore::protocol::is_valid_room(r) || before > rtcore::protocol::kMaxOffset)
      return RTC_EINVAL;
    if (engine->engine->config().history_size == 0) return RTC_ENOTSUP;
    auto fail = [callback, userdata] {
      callback(userdata, RTC_ESTATE, nullptr, 0, 0, nullptr, nullptr, nullptr, 0);
    };
    auto once = std::make_shared<Once<decltype(fail)>>(fail);
    int rc =
        engine->engine->post([r = std::move(r), limit, before, callback, userdata, once](EngineCore& core) {
          core.history_read(r, limit, before, [callback, userdata, once](rtcore::HistoryRead read) {
            if (!once->take()) return;
            if (!read.ok)
              return callback(userdata, RTC_EUNAVAILABLE, nullptr, 0, 0, nullptr, nullptr, nullptr, 0);
            std::vector<uint64_t> offsets;
            std::vector<const char*> frames;
            std::vector<size_t> lens;
            offsets.reserve(read.entries.size());
            frames.reserve(read.entries.size());
            lens.reserve(read.entries.size());
            for (const auto& e : read.entries) {
              offsets.push_back(e.offset);
              frames.push_back(e.frame.data());
              lens.push_back(e.frame.size());
            }
            callback(userdata, RTC_OK, read.epoch.data(), read.epoch.size(), read.top, offsets.data(),
                     frames.data(), lens.data(), read.entries.size());
          });
        })
            ? RTC_OK
            : RTC_ESTATE;
    // Not queued: the callback must not run for this request.
    if (rc != RTC_OK) once->take();
    return rc;
  });
}

}  // extern "C"
