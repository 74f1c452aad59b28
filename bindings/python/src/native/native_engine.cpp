#include "native_engine.hpp"

#include <signal.h>

#include <memory>
#include <new>

namespace rtcore_py {

// Client messages waiting for the Python loop, at most (bytes of JSON);
// beyond, the engine answers overloaded.
constexpr uint64_t kMaxQueuedMessageBytes = 64u << 20;

namespace {

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

NativeEngine::~NativeEngine() {
  destroy();
}

int NativeEngine::create(const rtc_config& config, uint32_t hooks) {
  if (engine_) return RTC_ESTATE;
  rtc_events_config events;
  rtc_events_config_init(&events);
  events.events = hooks;
  events.max_message_bytes = kMaxQueuedMessageBytes;
  return rtc_engine_create_queued(&config, &events, &engine_);
}

Batch NativeEngine::take() {
  rtc_event_batch* batch = nullptr;
  if (engine_) rtc_events_take(engine_, &batch);  // RTC_ENOMEM leaves the events queued for the next wake-up
  return Batch(batch);
}

int NativeEngine::start() {
  if (!engine_) return RTC_ESTATE;
  return with_signals_blocked([this] { return rtc_engine_start(engine_); });
}

int NativeEngine::stop(uint32_t timeout_ms) {
  return engine_ ? rtc_engine_stop(engine_, timeout_ms) : RTC_OK;
}

void NativeEngine::destroy() {
  rtc_engine_destroy(engine_);  // joins the engine thread: no handler runs after this
  engine_ = nullptr;
}

uint32_t NativeEngine::port() const {
  return rtc_engine_port(engine_);
}

uint32_t NativeEngine::internal_port() const {
  return rtc_engine_internal_port(engine_);
}

std::string NativeEngine::node_id() const {
  return engine_ ? rtc_engine_node_id(engine_) : std::string();
}

int NativeEngine::stats(rtc_stats& out) const {
  rtc_stats_init(&out);
  return engine_ ? rtc_engine_stats(engine_, &out) : RTC_ESTATE;
}

int NativeEngine::metrics(std::string& out) const {
  if (!engine_) return RTC_ESTATE;
  return rtc_engine_metrics(
      engine_, [](const char* text, size_t len, void* u) { static_cast<std::string*>(u)->assign(text, len); },
      &out);
}

int NativeEngine::resolve(uint64_t request_id, bool accept, int32_t status, std::string_view user_id) {
  return rtc_connect_resolve(engine_, request_id, accept ? 1 : 0, status,
                             user_id.empty() ? nullptr : user_id.data(), user_id.size());
}

int NativeEngine::authorize_resolve(uint64_t request_id, bool allow) {
  return rtc_authorize_resolve(engine_, request_id, allow ? 1 : 0);
}

int NativeEngine::send_to_user(std::string_view user, std::string_view from, int32_t kind,
                               std::string_view payload) {
  return rtc_send_to_user(engine_, user.data(), user.size(), from.data(), from.size(), kind, payload.data(),
                          payload.size());
}

int NativeEngine::send_to_connection(rtc_conn_id conn, std::string_view from, int32_t kind,
                                     std::string_view payload) {
  return rtc_send_to_connection(engine_, conn, from.data(), from.size(), kind, payload.data(),
                                payload.size());
}

int NativeEngine::broadcast(std::string_view room, std::string_view from, int32_t kind,
                            std::string_view payload) {
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

int NativeEngine::room_members(std::string_view room, uint32_t limit, uint64_t token) {
  return rtc_room_members_queued(engine_, room.data(), room.size(), limit, token);
}

int NativeEngine::users_online(const std::vector<std::string>& users, uint64_t token) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& u : users) {
    ptrs.push_back(u.data());
    lens.push_back(u.size());
  }
  return rtc_users_online_queued(engine_, ptrs.data(), lens.data(), users.size(), token);
}

int NativeEngine::history(std::string_view room, uint32_t limit, uint64_t before, uint64_t token) {
  return rtc_history_read_queued(engine_, room.data(), room.size(), limit, before, token);
}

}  // namespace rtcore_py
