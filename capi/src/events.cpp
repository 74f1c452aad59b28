// Queued mode (rtc_engine_create_queued): the engine hooks (event_hooks.cpp)
// copy each event into the engine's EventQueue instead of calling C
// handlers, and the host takes them in batches from its own thread
// (rtc_events_take). Also the queries whose answers are queued events.
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "internal.hpp"

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
    e->engine =
        std::make_unique<rtcore::Engine>(std::move(cfg), rtcore_capi::queue_hooks(e.get(), *e->queue));
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
