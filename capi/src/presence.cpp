// Room presence queries: rtc_room_members and rtc_users_online. Arguments
// are checked and copied at the call; the query runs on the engine thread
// and its answer reaches the caller's callback there.
#include <memory>
#include <string>
#include <vector>

#include "engine/engine_core.hpp"
#include "internal.hpp"
#include "protocol/validate.hpp"

using rtcore::EngineCore;
using rtcore_capi::guarded;
using rtcore_capi::Once;
using rtcore_capi::view;

namespace {

// Most users one rtc_users_online call may ask about: one Redis script
// call with a key per user, which must stay short for the engine thread.
constexpr size_t kMaxOnlineUsers = 1000;

int post(rtc_engine* e, std::function<void(EngineCore&)> fn) {
  if (!e) return RTC_EINVAL;
  return e->engine->post(std::move(fn)) ? RTC_OK : RTC_ESTATE;
}

}  // namespace

extern "C" {

int rtc_room_members(rtc_engine* engine, const char* room, size_t room_len, uint32_t limit,
                     rtc_room_members_cb callback, void* userdata) {
  return guarded([&]() -> int {
    std::string r(view(room, room_len));
    if (!engine || !callback || !rtcore::protocol::is_valid_room(r)) return RTC_EINVAL;
    auto fail = [callback, userdata] { callback(userdata, RTC_ESTATE, nullptr, nullptr, 0, 0); };
    auto once = std::make_shared<Once<decltype(fail)>>(fail);
    int rc = post(engine, [r = std::move(r), limit, callback, userdata, once](EngineCore& core) {
      core.room_members(
          r, limit, [callback, userdata, once](bool ok, std::vector<std::string> users, bool truncated) {
            if (!once->take()) return;
            if (!ok) return callback(userdata, RTC_EUNAVAILABLE, nullptr, nullptr, 0, 0);
            std::vector<const char*> ptrs;
            std::vector<size_t> lens;
            ptrs.reserve(users.size());
            lens.reserve(users.size());
            for (const auto& u : users) {
              ptrs.push_back(u.data());
              lens.push_back(u.size());
            }
            callback(userdata, RTC_OK, ptrs.data(), lens.data(), users.size(), truncated ? 1 : 0);
          });
    });
    // Not queued: the callback must not run for this request.
    if (rc != RTC_OK) once->take();
    return rc;
  });
}

int rtc_users_online(rtc_engine* engine, const char* const* users, const size_t* users_len, size_t count,
                     rtc_users_online_cb callback, void* userdata) {
  return guarded([&]() -> int {
    if (!engine || !callback || !users || !users_len || count == 0 || count > kMaxOnlineUsers)
      return RTC_EINVAL;
    std::vector<std::string> list;
    list.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      std::string u(view(users[i], users_len[i]));
      if (!rtcore::protocol::is_valid_user_id(u)) return RTC_EINVAL;
      list.push_back(std::move(u));
    }
    auto fail = [callback, userdata] { callback(userdata, RTC_ESTATE, nullptr, nullptr, nullptr, 0); };
    auto once = std::make_shared<Once<decltype(fail)>>(fail);
    auto shared = std::make_shared<std::vector<std::string>>(std::move(list));
    int rc = post(engine, [shared, callback, userdata, once](EngineCore& core) {
      core.users_online(*shared, [shared, callback, userdata, once](bool ok, std::vector<bool> online) {
        if (!once->take()) return;
        if (!ok || online.size() != shared->size())
          return callback(userdata, ok ? RTC_EINTERNAL : RTC_EUNAVAILABLE, nullptr, nullptr, nullptr, 0);
        std::vector<const char*> ptrs;
        std::vector<size_t> lens;
        std::vector<int32_t> flags;
        for (size_t i = 0; i < shared->size(); ++i) {
          ptrs.push_back((*shared)[i].data());
          lens.push_back((*shared)[i].size());
          flags.push_back(online[i] ? 1 : 0);
        }
        callback(userdata, RTC_OK, ptrs.data(), lens.data(), flags.data(), shared->size());
      });
    });
    if (rc != RTC_OK) once->take();
    return rc;
  });
}

}  // extern "C"
