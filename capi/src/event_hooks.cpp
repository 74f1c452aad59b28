// The engine hooks of queued mode (rtc_engine_create_queued): each copies
// its event into the engine's EventQueue and returns; deferrable requests
// are deferred for the host to resolve.
#include <cstdio>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "internal.hpp"

using rtcore::ConnId;
using rtcore_capi::EventQueue;
using rtcore_capi::QueuedEvent;

namespace {

int32_t action_code(rtcore::Action action) {
  switch (action) {
    case rtcore::Action::kJoinRoom: return RTC_ACTION_JOIN_ROOM;
    case rtcore::Action::kRoomMessage: return RTC_ACTION_ROOM_MESSAGE;
    case rtcore::Action::kDirectMessage: return RTC_ACTION_DIRECT_MESSAGE;
    case rtcore::Action::kPresence: return RTC_ACTION_PRESENCE;
    case rtcore::Action::kOnline: return RTC_ACTION_ONLINE;
  }
  return RTC_ACTION_DIRECT_MESSAGE;
}

void send_error(rtc_engine* e, ConnId conn, std::string_view code, std::string_view text,
                std::string_view id_json) {
  rtc_send_error(e, conn, code.data(), code.size(), text.data(), text.size(),
                 id_json.empty() ? nullptr : id_json.data(), id_json.size());
}

}  // namespace

namespace rtcore_capi {

// The engine hooks of queued mode. They run on the engine thread, copy what
// they need and return; nothing throws out of them (an event that cannot be
// allocated is lost, and a deferral refused instead).
rtcore::EngineHooks queue_hooks(rtc_engine* e, EventQueue& q) {
  rtcore::EngineHooks hooks;
  uint32_t bits = q.configured();
  if (bits & RTC_EVENTS_CONNECT) {
    hooks.on_connect = [&q](const rtcore::ConnectRequest& req, rtcore::ConnectDecision& out) {
      try {
        auto ev = std::make_unique<QueuedEvent>(RTC_EVENT_CONNECT);
        ev->view.request_id = req.request_id;
        ev->user_id.assign(req.user_id);
        ev->a.assign(req.path);
        ev->b.assign(req.query);
        if (req.headers)
          for (const auto& [name, value] : *req.headers) ev->header_text.emplace_back(name, value);
        ev->seal();
        q.push(std::move(ev));
        out.defer = true;  // the host decides with rtc_connect_resolve
      } catch (const std::bad_alloc&) {
        out.accept = false;
        out.http_status = 503;
      }
    };
  }
  if (bits & RTC_EVENTS_OPEN) {
    hooks.on_open = [&q](ConnId id, std::string_view user) {
      if (!q.wants(RTC_EVENTS_OPEN)) return;
      try {
        auto ev = std::make_unique<QueuedEvent>(RTC_EVENT_OPEN);
        ev->view.conn = id;
        ev->user_id.assign(user);
        ev->seal();
        q.push(std::move(ev));
      } catch (const std::bad_alloc&) {
      }
    };
  }
  if (bits & RTC_EVENTS_DISCONNECT) {
    hooks.on_disconnect = [&q](ConnId id, std::string_view user, uint16_t code) {
      if (!q.wants(RTC_EVENTS_DISCONNECT)) return;
      try {
        auto ev = std::make_unique<QueuedEvent>(RTC_EVENT_DISCONNECT);
        ev->view.conn = id;
        ev->view.code = code;
        ev->user_id.assign(user);
        ev->seal();
        q.push(std::move(ev));
      } catch (const std::bad_alloc&) {
      }
    };
  }
  if (bits & RTC_EVENTS_MESSAGE) {
    hooks.on_message = [e, &q](ConnId id, std::string_view user, std::string_view type, std::string_view json,
                               std::string_view id_json) {
      try {
        if (!q.wants_type(type)) {
          // Answered here: a type the host does not handle never wakes it.
          send_error(e, id, "unknown_type", "no handler for message type \"" + std::string(type) + "\"",
                     id_json);
          return;
        }
        auto ev = std::make_unique<QueuedEvent>(RTC_EVENT_MESSAGE);
        ev->view.conn = id;
        ev->user_id.assign(user);
        ev->a.assign(type);
        ev->b.assign(json);
        ev->c.assign(id_json);
        ev->seal();
        // The host is not keeping up: refuse rather than buffer without bound.
        if (!q.push_message(std::move(ev)))
          send_error(e, id, "overloaded", "the host is not keeping up; message dropped", id_json);
      } catch (const std::bad_alloc&) {
      }
    };
  }
  if (bits & RTC_EVENTS_PRESENCE) {
    hooks.on_presence = [&q](std::string_view user, bool online, std::string_view ts) {
      if (!q.wants(RTC_EVENTS_PRESENCE)) return;
      try {
        auto ev = std::make_unique<QueuedEvent>(RTC_EVENT_PRESENCE);
        ev->view.code = online ? RTC_PRESENCE_ONLINE : RTC_PRESENCE_OFFLINE;
        ev->user_id.assign(user);
        ev->a.assign(ts);
        ev->seal();
        q.push(std::move(ev));
      } catch (const std::bad_alloc&) {
      }
    };
  }
  if (bits & RTC_EVENTS_AUTHORIZE) {
    hooks.on_authorize = [&q](ConnId id, std::string_view user, rtcore::Action action,
                              std::string_view target, uint64_t request_id) {
      try {
        auto ev = std::make_unique<QueuedEvent>(RTC_EVENT_AUTHORIZE);
        ev->view.conn = id;
        ev->view.request_id = request_id;
        ev->view.code = action_code(action);
        ev->user_id.assign(user);
        ev->a.assign(target);
        ev->seal();
        q.push(std::move(ev));
        return rtcore::Verdict::kDefer;  // the host answers with rtc_authorize_resolve
      } catch (const std::bad_alloc&) {
        return rtcore::Verdict::kDeny;
      }
    };
  }
  if (bits & RTC_EVENTS_LOG) {
    hooks.on_log = [&q](int level, std::string_view event, std::string_view message,
                        std::string_view fields) {
      if (!q.wants(RTC_EVENTS_LOG)) {
        std::string line = "rtcore: " + std::string(message) + "\n";
        std::fwrite(line.data(), 1, line.size(), stderr);
        return;
      }
      try {
        auto ev = std::make_unique<QueuedEvent>(RTC_EVENT_LOG);
        ev->view.code = level;
        ev->a.assign(event);
        ev->b.assign(message);
        ev->c.assign(fields);
        ev->seal();
        q.push(std::move(ev));
      } catch (const std::bad_alloc&) {
      }
    };
  }
  return hooks;
}

}  // namespace rtcore_capi
