// rtc_handlers and the on_connect decision: the C handlers wrapped as the
// engine's hooks.
#include <cstring>
#include <string>
#include <vector>

#include "internal.hpp"
#include "protocol/validate.hpp"

using rtcore::ConnId;

extern "C" {

void rtc_handlers_init(rtc_handlers* handlers) {
  if (!handlers) return;
  std::memset(handlers, 0, sizeof *handlers);
  handlers->struct_size = sizeof *handlers;
}

int rtc_connect_decision_set_user(rtc_connect_decision* decision, const char* user_id, size_t len) {
  if (!decision || !user_id || !rtcore::protocol::is_valid_user_id(std::string_view(user_id, len)))
    return RTC_EINVAL;
  std::memcpy(decision->user_id, user_id, len);
  decision->user_id[len] = '\0';
  decision->user_id_len = static_cast<uint32_t>(len);
  return RTC_OK;
}

}  // extern "C"

namespace rtcore_capi {

// Wraps the C handlers as engine hooks. The handlers struct is copied, so
// the caller's may go away after rtc_engine_create.
rtcore::EngineHooks hooks_from_c(const rtc_handlers& h) {
  rtcore::EngineHooks hooks;
  void* ud = h.user_data;
  if (h.on_connect) {
    auto fn = h.on_connect;
    hooks.on_connect = [fn, ud](const rtcore::ConnectRequest& req, rtcore::ConnectDecision& out) {
      std::vector<rtc_header> headers;
      for (const auto& [name, value] : *req.headers)
        headers.push_back(rtc_header{name.data(), name.size(), value.data(), value.size()});
      rtc_connect_request creq{sizeof(rtc_connect_request),
                               req.path.data(),
                               req.path.size(),
                               req.query.data(),
                               req.query.size(),
                               req.user_id.data(),
                               req.user_id.size(),
                               headers.data(),
                               headers.size(),
                               req.request_id};
      rtc_connect_decision d;
      std::memset(&d, 0, sizeof d);
      d.struct_size = sizeof d;
      d.accept = 1;
      rtc_connect_decision_set_user(&d, req.user_id.data(), req.user_id.size());
      fn(ud, &creq, &d);
      out.defer = d.defer != 0;
      out.accept = d.accept != 0;
      out.http_status = d.http_status;
      out.user_id.assign(d.user_id, d.user_id_len <= 128 ? d.user_id_len : 0);
    };
  }
  if (h.on_open) {
    auto fn = h.on_open;
    hooks.on_open = [fn, ud](ConnId id, std::string_view user) { fn(ud, id, user.data(), user.size()); };
  }
  if (h.on_disconnect) {
    auto fn = h.on_disconnect;
    hooks.on_disconnect = [fn, ud](ConnId id, std::string_view user, uint16_t code) {
      fn(ud, id, user.data(), user.size(), code);
    };
  }
  if (h.on_message_with_id) {
    auto fn = h.on_message_with_id;
    hooks.on_message = [fn, ud](ConnId id, std::string_view user, std::string_view type,
                                std::string_view json, std::string_view id_json) {
      fn(ud, id, user.data(), user.size(), type.data(), type.size(), json.data(), json.size(), id_json.data(),
         id_json.size());
    };
  } else if (h.on_message) {
    auto fn = h.on_message;
    hooks.on_message = [fn, ud](ConnId id, std::string_view user, std::string_view type,
                                std::string_view json, std::string_view /*id_json*/) {
      fn(ud, id, user.data(), user.size(), type.data(), type.size(), json.data(), json.size());
    };
  }
  if (h.on_authorize) {
    auto fn = h.on_authorize;
    hooks.on_authorize = [fn, ud](ConnId id, std::string_view user, rtcore::Action action,
                                  std::string_view target, uint64_t request_id) {
      int32_t a = action == rtcore::Action::kJoinRoom      ? RTC_ACTION_JOIN_ROOM
                  : action == rtcore::Action::kRoomMessage ? RTC_ACTION_ROOM_MESSAGE
                  : action == rtcore::Action::kPresence    ? RTC_ACTION_PRESENCE
                  : action == rtcore::Action::kOnline      ? RTC_ACTION_ONLINE
                                                           : RTC_ACTION_DIRECT_MESSAGE;
      int32_t v = fn(ud, id, user.data(), user.size(), a, target.data(), target.size(), request_id);
      return v == RTC_AUTHZ_ALLOW   ? rtcore::Verdict::kAllow
             : v == RTC_AUTHZ_DEFER ? rtcore::Verdict::kDefer
                                    : rtcore::Verdict::kDeny;
    };
  }
  if (h.on_presence) {
    auto fn = h.on_presence;
    hooks.on_presence = [fn, ud](std::string_view user, bool online, std::string_view ts) {
      fn(ud, user.data(), user.size(), online ? RTC_PRESENCE_ONLINE : RTC_PRESENCE_OFFLINE, ts.data(),
         ts.size());
    };
  }
  if (h.on_log) {
    auto fn = h.on_log;
    hooks.on_log = [fn, ud](int level, std::string_view event, std::string_view message,
                            std::string_view fields) {
      fn(ud, level, event.data(), event.size(), message.data(), message.size(), fields.data(), fields.size());
    };
  }
  return hooks;
}

}  // namespace rtcore_capi
