// Queued mode (rtc_engine_create_queued): the engine hooks copy each event
// into the engine's EventQueue instead of calling C handlers, and the host
// takes them in batches from its own thread (rtc_events_take).
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "internal.hpp"

using rtcore::ConnId;
using rtcore_capi::EventPtr;
using rtcore_capi::EventQueue;
using rtcore_capi::guarded;
using rtcore_capi::QueuedEvent;
using rtcore_capi::view;

struct rtc_event_batch {
  std::vector<EventPtr> events;
};

namespace {

constexpr uint64_t kDefaultMaxMessageBytes = 64ull << 20;

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

EventQueue* queue_of(rtc_engine* e) {
  return e ? e->queue.get() : nullptr;
}

// A query's answer, queued with the caller's token.
struct Answer {
  EventQueue* queue;
  uint64_t token;
};

void push_answer(void* ud, EventPtr ev) {
  std::unique_ptr<Answer> a(static_cast<Answer*>(ud));  // each callback runs exactly once
  ev->view.token = a->token;
  ev->seal();
  a->queue->push(std::move(ev));
}

void on_members(void* ud, int32_t status, const char* const* users, const size_t* lens, size_t count,
                int32_t truncated) {
  try {
    auto ev = std::make_unique<QueuedEvent>(RTC_EVENT_ROOM_MEMBERS);
    ev->view.status = status;
    ev->view.code = truncated ? 1 : 0;
    try {
      for (size_t i = 0; i < count; ++i) ev->item_text.emplace_back(users[i], lens[i]);
    } catch (const std::bad_alloc&) {
      ev->view.status = RTC_ENOMEM;
      ev->item_text.clear();
    }
    push_answer(ud, std::move(ev));
  } catch (const std::bad_alloc&) {
    delete static_cast<Answer*>(ud);  // lost: the host fails it when it stops
  }
}

void on_online(void* ud, int32_t status, const char* const* users, const size_t* lens, const int32_t* online,
               size_t count) {
  try {
    auto ev = std::make_unique<QueuedEvent>(RTC_EVENT_USERS_ONLINE);
    ev->view.status = status;
    try {
      for (size_t i = 0; i < count; ++i) {
        ev->item_text.emplace_back(users[i], lens[i]);
        ev->online.push_back(online[i] ? 1 : 0);
      }
    } catch (const std::bad_alloc&) {
      ev->view.status = RTC_ENOMEM;
      ev->item_text.clear();
      ev->online.clear();
    }
    push_answer(ud, std::move(ev));
  } catch (const std::bad_alloc&) {
    delete static_cast<Answer*>(ud);
  }
}

void on_history(void* ud, int32_t status, const char* epoch, size_t epoch_len, uint64_t top,
                const uint64_t* offsets, const char* const* frames, const size_t* lens, size_t count) {
  try {
    auto ev = std::make_unique<QueuedEvent>(RTC_EVENT_HISTORY);
    ev->view.status = status;
    ev->view.top = top;
    try {
      if (epoch) ev->a.assign(epoch, epoch_len);
      for (size_t i = 0; i < count; ++i) {
        ev->item_text.emplace_back(frames[i], lens[i]);
        ev->offsets.push_back(offsets[i]);
      }
    } catch (const std::bad_alloc&) {
      ev->view.status = RTC_ENOMEM;
      ev->a.clear();
      ev->item_text.clear();
      ev->offsets.clear();
    }
    push_answer(ud, std::move(ev));
  } catch (const std::bad_alloc&) {
    delete static_cast<Answer*>(ud);
  }
}

// Runs query(answer) with a fresh Answer; keeps it only when the query took
// it (the callback then frees it).
template <typename Query>
int queued(rtc_engine* e, uint64_t token, Query query) {
  EventQueue* q = queue_of(e);
  if (!q) return RTC_EINVAL;
  auto a = std::make_unique<Answer>(Answer{q, token});
  int rc = query(a.get());
  if (rc == RTC_OK) a.release();
  return rc;
}

}  // namespace

extern "C" {

void rtc_events_config_init(rtc_events_config* config) {
  if (!config) return;
  std::memset(config, 0, sizeof *config);
  config->struct_size = sizeof *config;
}

int rtc_engine_create_queued(const rtc_config* config, const rtc_events_config* events, rtc_engine** out) {
  if (!out) return RTC_EINVAL;
  *out = nullptr;
  rtc_events_config ec;
  rtc_events_config_init(&ec);
  if (events) {
    if (events->struct_size <
        offsetof(rtc_events_config, max_message_bytes) + sizeof(events->max_message_bytes))
      return RTC_ESTRUCT;
    std::memcpy(&ec, events, std::min<size_t>(events->struct_size, sizeof ec));
  }
  return guarded([&]() -> int {
    rtcore::EngineConfig cfg;
    if (int rc = rtcore_capi::config_from_c(config, cfg); rc != RTC_OK) return rc;
    auto e = std::make_unique<rtc_engine>();
    try {
      e->queue = std::make_unique<EventQueue>(
          ec.events, ec.max_message_bytes ? ec.max_message_bytes : kDefaultMaxMessageBytes);
    } catch (const std::system_error&) {
      return RTC_ENOMEM;
    }
    e->engine = std::make_unique<rtcore::Engine>(std::move(cfg), queue_hooks(e.get(), *e->queue));
    *out = e.release();
    return RTC_OK;
  });
}

int rtc_events_fd(const rtc_engine* engine) {
  return engine && engine->queue ? engine->queue->fd() : -1;
}

int rtc_events_select(rtc_engine* engine, uint32_t events) {
  EventQueue* q = queue_of(engine);
  if (!q) return RTC_EINVAL;
  q->select(events);
  return RTC_OK;
}

int rtc_events_set_message_types(rtc_engine* engine, const char* const* types, const size_t* lens,
                                 size_t count, int32_t all) {
  EventQueue* q = queue_of(engine);
  if (!q || (!all && count && (!types || !lens))) return RTC_EINVAL;
  return guarded([&]() -> int {
    std::unordered_set<std::string> set;
    if (!all)
      for (size_t i = 0; i < count; ++i) set.emplace(view(types[i], lens[i]));
    q->set_types(std::move(set), all != 0);
    return RTC_OK;
  });
}

int rtc_events_take(rtc_engine* engine, rtc_event_batch** out) {
  if (!out) return RTC_EINVAL;
  *out = nullptr;
  EventQueue* q = queue_of(engine);
  if (!q) return RTC_EINVAL;
  return guarded([&]() -> int {
    auto batch = std::make_unique<rtc_event_batch>();  // before taking: a failure here loses nothing
    batch->events = q->take();
    if (!batch->events.empty()) *out = batch.release();
    return RTC_OK;
  });
}

size_t rtc_event_batch_count(const rtc_event_batch* batch) {
  return batch ? batch->events.size() : 0;
}

const rtc_event* rtc_event_batch_get(const rtc_event_batch* batch, size_t index) {
  if (!batch || index >= batch->events.size()) return nullptr;
  return &batch->events[index]->view;
}

void rtc_event_batch_free(rtc_event_batch* batch) {
  delete batch;
}

int rtc_room_members_queued(rtc_engine* engine, const char* room, size_t room_len, uint32_t limit,
                            uint64_t token) {
  return queued(engine, token,
                [&](void* ud) { return rtc_room_members(engine, room, room_len, limit, on_members, ud); });
}

int rtc_users_online_queued(rtc_engine* engine, const char* const* users, const size_t* users_len,
                            size_t count, uint64_t token) {
  return queued(engine, token,
                [&](void* ud) { return rtc_users_online(engine, users, users_len, count, on_online, ud); });
}

int rtc_history_read_queued(rtc_engine* engine, const char* room, size_t room_len, uint32_t limit,
                            uint64_t before, uint64_t token) {
  return queued(engine, token, [&](void* ud) {
    return rtc_history_read(engine, room, room_len, limit, before, on_history, ud);
  });
}

}  // extern "C"
