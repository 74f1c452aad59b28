#include "native_engine.hpp"

#include <signal.h>

#include <memory>
#include <new>

namespace rtcore_py {

// Client messages waiting for the Python loop, at most (bytes of JSON).
constexpr size_t kMaxQueuedMessageBytes = 64u << 20;

namespace {

std::string copy(const char* p, size_t n) { return p ? std::string(p, n) : std::string(); }

// Runs f with the asynchronous signals blocked on this thread, so that a
// thread started inside f inherits that mask.
template <typename F>
int with_signals_blocked(F&& f) {
  sigset_t block, old;
  sigemptyset(&block);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM, SIGWINCH, SIGPIPE})
    sigaddset(&block, s);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  int rc = f();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return rc;
}

}  // namespace

NativeEngine::~NativeEngine() { destroy(); }

int NativeEngine::create(const rtc_config& config, uint32_t hooks) {
  if (engine_) return RTC_ESTATE;
  rtc_handlers handlers;
  rtc_handlers_init(&handlers);
  handlers.user_data = this;
  if (hooks & kHookConnect) handlers.on_connect = &NativeEngine::on_connect;
  if (hooks & kHookOpen) handlers.on_open = &NativeEngine::on_open;
  if (hooks & kHookDisconnect) handlers.on_disconnect = &NativeEngine::on_disconnect;
  if (hooks & kHookMessage) handlers.on_message_with_id = &NativeEngine::on_message;
  if (hooks & kHookPresence) handlers.on_presence = &NativeEngine::on_presence;
  if (hooks & kHookAuthorize) handlers.on_authorize = &NativeEngine::on_authorize;
  if (hooks & kHookLog) handlers.on_log = &NativeEngine::on_log;
  return rtc_engine_create(&config, &handlers, &engine_);
}

int NativeEngine::start() {
  if (!engine_) return RTC_ESTATE;
  return with_signals_blocked([this] { return rtc_engine_start(engine_); });
}

int NativeEngine::stop(uint32_t timeout_ms) { return engine_ ? rtc_engine_stop(engine_, timeout_ms) : RTC_OK; }

void NativeEngine::destroy() {
  rtc_engine_destroy(engine_);  // joins the engine thread: no handler runs after this
  engine_ = nullptr;
}

uint32_t NativeEngine::port() const { return rtc_engine_port(engine_); }

uint32_t NativeEngine::internal_port() const { return rtc_engine_internal_port(engine_); }

std::string NativeEngine::node_id() const { return engine_ ? rtc_engine_node_id(engine_) : std::string(); }

int NativeEngine::stats(rtc_stats& out) const {
  rtc_stats_init(&out);
  return engine_ ? rtc_engine_stats(engine_, &out) : RTC_ESTATE;
}

int NativeEngine::metrics(std::string& out) const {
  if (!engine_) return RTC_ESTATE;
  return rtc_engine_metrics(
      engine_, [](const char* text, size_t len, void* u) { static_cast<std::string*>(u)->assign(text, len); }, &out);
}

int NativeEngine::resolve(uint64_t request_id, bool accept, int32_t status, std::string_view user_id) {
  return rtc_connect_resolve(engine_, request_id, accept ? 1 : 0, status, user_id.empty() ? nullptr : user_id.data(),
                             user_id.size());
}

int NativeEngine::authorize_resolve(uint64_t request_id, bool allow) {
  return rtc_authorize_resolve(engine_, request_id, allow ? 1 : 0);
}

int NativeEngine::send_to_user(std::string_view user, std::string_view from, int32_t kind, std::string_view payload) {
  return rtc_send_to_user(engine_, user.data(), user.size(), from.data(), from.size(), kind, payload.data(),
                          payload.size());
}

int NativeEngine::send_to_connection(rtc_conn_id conn, std::string_view from, int32_t kind,
                                     std::string_view payload) {
  return rtc_send_to_connection(engine_, conn, from.data(), from.size(), kind, payload.data(), payload.size());
}

int NativeEngine::broadcast(std::string_view room, std::string_view from, int32_t kind, std::string_view payload) {
  return rtc_broadcast(engine_, room.data(), room.size(), from.data(), from.size(), kind, payload.data(),
                       payload.size());
}

int NativeEngine::join(rtc_conn_id conn, std::string_view room) {
  return rtc_join(engine_, conn, room.data(), room.size());
}

int NativeEngine::leave(rtc_conn_id conn, std::string_view room) {
  return rtc_leave(engine_, conn, room.data(), room.size());
}

int NativeEngine::send_error(rtc_conn_id conn, std::string_view code, std::string_view message,
                             std::string_view id_json) {
  return rtc_send_error(engine_, conn, code.data(), code.size(), message.data(), message.size(),
                        id_json.empty() ? nullptr : id_json.data(), id_json.size());
}

int NativeEngine::disconnect(rtc_conn_id conn, uint32_t close_code) {
  return rtc_disconnect(engine_, conn, close_code);
}

int NativeEngine::disconnect_user(std::string_view user, uint32_t close_code) {
  return rtc_disconnect_user(engine_, user.data(), user.size(), close_code);
}

namespace {

// What a query's C callback needs: the queue and the Python side's token.
struct Query {
  EventQueue* queue;
  uint64_t token;
};

void push_answer(Query* q, Event&& e) {
  std::unique_ptr<Query> owned(q);  // the callback runs exactly once
  try {
    e.id = q->token;
    q->queue->push(std::move(e));
  } catch (const std::bad_alloc&) {
    // Lost: the Python side's future then waits until stop() fails it.
  }
}

void on_members(void* ud, int32_t status, const char* const* users, const size_t* lens, size_t count,
                int32_t truncated) {
  Event e{EventKind::kAnswer};
  try {
    e.number = status;
    e.request = truncated ? 1 : 0;
    e.users.reserve(count);
    for (size_t i = 0; i < count; ++i) e.users.emplace_back(users[i], lens[i]);
  } catch (const std::bad_alloc&) {
    e.number = RTC_ENOMEM;
    e.users.clear();
  }
  push_answer(static_cast<Query*>(ud), std::move(e));
}

void on_online(void* ud, int32_t status, const char* const* users, const size_t* lens, const int32_t* online,
               size_t count) {
  Event e{EventKind::kAnswer};
  try {
    e.number = status;
    for (size_t i = 0; i < count; ++i) {
      e.users.emplace_back(users[i], lens[i]);
      e.flags.push_back(online[i] ? 1 : 0);
    }
  } catch (const std::bad_alloc&) {
    e.number = RTC_ENOMEM;
    e.users.clear();
    e.flags.clear();
  }
  push_answer(static_cast<Query*>(ud), std::move(e));
}

void on_history(void* ud, int32_t status, const char* epoch, size_t epoch_len, uint64_t top,
                const uint64_t* /*offsets: each frame carries its own*/, const char* const* frames,
                const size_t* lens, size_t count) {
  Event e{EventKind::kHistory};
  try {
    e.number = status;
    e.request = top;
    if (epoch) e.a.assign(epoch, epoch_len);
    e.users.reserve(count);
    for (size_t i = 0; i < count; ++i) e.users.emplace_back(frames[i], lens[i]);
  } catch (const std::bad_alloc&) {
    e.number = RTC_ENOMEM;
    e.a.clear();
    e.users.clear();
  }
  push_answer(static_cast<Query*>(ud), std::move(e));
}

}  // namespace

int NativeEngine::room_members(std::string_view room, uint32_t limit, uint64_t token) {
  auto q = std::make_unique<Query>(Query{&queue_, token});
  int rc = rtc_room_members(engine_, room.data(), room.size(), limit, &on_members, q.get());
  if (rc == RTC_OK) q.release();  // the callback owns it now
  return rc;
}

int NativeEngine::users_online(const std::vector<std::string>& users, uint64_t token) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& u : users) {
    ptrs.push_back(u.data());
    lens.push_back(u.size());
  }
  auto q = std::make_unique<Query>(Query{&queue_, token});
  int rc = rtc_users_online(engine_, ptrs.data(), lens.data(), users.size(), &on_online, q.get());
  if (rc == RTC_OK) q.release();
  return rc;
}

int NativeEngine::history(std::string_view room, uint32_t limit, uint64_t before, uint64_t token) {
  auto q = std::make_unique<Query>(Query{&queue_, token});
  int rc = rtc_history_read(engine_, room.data(), room.size(), limit, before, &on_history, q.get());
  if (rc == RTC_OK) q.release();
  return rc;
}

// ---- handlers: engine thread, no GIL, no exceptions out ----------------

void NativeEngine::on_connect(void* self, const rtc_connect_request* req, rtc_connect_decision* decision) {
  try {
    Event e{EventKind::kConnect};
    e.id = req->request_id;
    e.user_id = copy(req->user_id, req->user_id_len);
    e.a = copy(req->path, req->path_len);
    e.b = copy(req->query, req->query_len);
    e.headers.reserve(req->header_count);
    for (size_t i = 0; i < req->header_count; ++i)
      e.headers.emplace_back(copy(req->headers[i].name, req->headers[i].name_len),
                             copy(req->headers[i].value, req->headers[i].value_len));
    static_cast<NativeEngine*>(self)->queue_.push(std::move(e));
    decision->defer = 1;  // Python decides on its loop, then rtc_connect_resolve
  } catch (const std::bad_alloc&) {
    decision->accept = 0;
    decision->http_status = 503;
  }
}

void NativeEngine::on_open(void* self, rtc_conn_id conn, const char* user, size_t user_len) {
  try {
    Event e{EventKind::kOpen};
    e.id = conn;
    e.user_id = copy(user, user_len);
    static_cast<NativeEngine*>(self)->queue_.push(std::move(e));
  } catch (const std::bad_alloc&) {
  }
}

void NativeEngine::on_disconnect(void* self, rtc_conn_id conn, const char* user, size_t user_len, uint32_t code) {
  try {
    Event e{EventKind::kDisconnect};
    e.id = conn;
    e.number = code;
    e.user_id = copy(user, user_len);
    static_cast<NativeEngine*>(self)->queue_.push(std::move(e));
  } catch (const std::bad_alloc&) {
  }
}

void NativeEngine::on_message(void* self, rtc_conn_id conn, const char* user, size_t user_len, const char* type,
                              size_t type_len, const char* json, size_t json_len, const char* id_json,
                              size_t id_json_len) {
  try {
    Event e{EventKind::kMessage};
    e.id = conn;
    e.user_id = copy(user, user_len);
    e.a = copy(type, type_len);
    e.b = copy(json, json_len);
    e.id_json = copy(id_json, id_json_len);
    std::string rid = e.id_json;
    auto* engine = static_cast<NativeEngine*>(self);
    if (!engine->queue_.push_bounded(std::move(e), kMaxQueuedMessageBytes)) {
      // Python is not keeping up: refuse rather than buffer without bound.
      static constexpr char kCode[] = "overloaded";
      static constexpr char kText[] = "the host is not keeping up; message dropped";
      rtc_send_error(engine->engine_, conn, kCode, sizeof kCode - 1, kText, sizeof kText - 1,
                     rid.empty() ? nullptr : rid.data(), rid.size());
    }
  } catch (const std::bad_alloc&) {
  }
}

void NativeEngine::on_presence(void* self, const char* user, size_t user_len, int32_t status, const char* ts,
                               size_t ts_len) {
  try {
    Event e{EventKind::kPresence};
    e.number = status;
    e.user_id = copy(user, user_len);
    e.a = copy(ts, ts_len);
    static_cast<NativeEngine*>(self)->queue_.push(std::move(e));
  } catch (const std::bad_alloc&) {
  }
}

// Queued like every event (the engine thread never takes the GIL); Python
// hands each line to logging.getLogger("rtcore") on its loop.
void NativeEngine::on_log(void* self, int32_t level, const char* event, size_t event_len, const char* message,
                          size_t message_len, const char* fields, size_t fields_len) {
  try {
    Event e{EventKind::kLog};
    e.number = level;
    e.a = copy(event, event_len);
    e.b = copy(message, message_len);
    e.user_id = copy(fields, fields_len);
    static_cast<NativeEngine*>(self)->queue_.push(std::move(e));
  } catch (const std::bad_alloc&) {
  }
}

int32_t NativeEngine::on_authorize(void* self, rtc_conn_id conn, const char* user, size_t user_len, int32_t action,
                                   const char* target, size_t target_len, uint64_t request_id) {
  try {
    Event e{EventKind::kAuthorize};
    e.id = conn;
    e.request = request_id;
    e.number = action;
    e.user_id = copy(user, user_len);
    e.a = copy(target, target_len);
    static_cast<NativeEngine*>(self)->queue_.push(std::move(e));
    return RTC_AUTHZ_DEFER;  // Python decides on its loop, then rtc_authorize_resolve
  } catch (const std::bad_alloc&) {
    return RTC_AUTHZ_DENY;
  }
}

}  // namespace rtcore_py
