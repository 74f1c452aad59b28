#include "host.hpp"


#include <cstdint>
#include <cstdio>
#include <string>

namespace rtcore_node {

// Client messages waiting for the JS thread, at most (bytes of JSON).
constexpr size_t kMaxQueuedMessageBytes = 64u << 20;

void Host::push(Event&& ev) { push_bounded(std::move(ev), SIZE_MAX); }

bool Host::push_bounded(Event&& ev, size_t max_bytes) {
  if (!accepting.load(std::memory_order_acquire)) return true;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (ev.kind == EventKind::kMessage) {
      if (message_bytes_ >= max_bytes) return false;
      message_bytes_ += ev.b.size();
    }
    queue_.push_back(std::move(ev));
    if (!scheduled_) scheduled_ = wake = true;
  }
  // Non-blocking: the engine thread must never wait for JS. It only fails
  // while the function is being released, when nobody will read the queue.
  if (wake) tsfn.NonBlockingCall();
  return true;
}

std::vector<Event> Host::take() {
  std::vector<Event> batch;
  std::lock_guard lock(mu_);
  batch.swap(queue_);
  scheduled_ = false;
  message_bytes_ = 0;
  return batch;
}

bool Host::wants_type(std::string_view type) {
  std::lock_guard lock(types_mu_);
  return all_types_ || types_.count(std::string(type)) != 0;
}

void Host::set_types(std::unordered_set<std::string> types, bool all) {
  std::lock_guard lock(types_mu_);
  types_ = std::move(types);
  all_types_ = all;
}

namespace {

Host* host_of(void* user_data) { return static_cast<Host*>(user_data); }

void on_connect(void* ud, const rtc_connect_request* req, rtc_connect_decision* decision) {
  // Auth is decided by a JS hook, possibly async: defer, and let JS call
  // rtc_connect_resolve() later.
  decision->defer = 1;
  Event ev;
  ev.kind = EventKind::kConnect;
  ev.id = req->request_id;
  ev.user.assign(req->user_id, req->user_id_len);
  ev.a.assign(req->path, req->path_len);
  ev.b.assign(req->query, req->query_len);
  for (size_t i = 0; i < req->header_count; ++i)
    ev.headers.emplace_back(std::string(req->headers[i].name, req->headers[i].name_len),
                            std::string(req->headers[i].value, req->headers[i].value_len));
  host_of(ud)->push(std::move(ev));
}

void on_open(void* ud, rtc_conn_id conn, const char* user, size_t user_len) {
  Host* host = host_of(ud);
  if (!(host->wanted.load(std::memory_order_relaxed) & kWantOpen)) return;
  Event ev;
  ev.kind = EventKind::kOpen;
  ev.id = conn;
  ev.user.assign(user, user_len);
  host->push(std::move(ev));
}

void on_disconnect(void* ud, rtc_conn_id conn, const char* user, size_t user_len, uint32_t code) {
  Host* host = host_of(ud);
  if (!(host->wanted.load(std::memory_order_relaxed) & kWantDisconnect)) return;
  Event ev;
  ev.kind = EventKind::kDisconnect;
  ev.id = conn;
  ev.code = code;
  ev.user.assign(user, user_len);
  host->push(std::move(ev));
}

void on_message(void* ud, rtc_conn_id conn, const char* user, size_t user_len, const char* type, size_t type_len,
                const char* json, size_t json_len, const char* id_json, size_t id_json_len) {
  Host* host = host_of(ud);
  std::string_view t(type, type_len);
  if (!host->wants_type(t)) {
    // Answered here: a type nobody handles never wakes JS.
    std::string msg = "no handler for message type \"" + std::string(t) + "\"";
    rtc_send_error(host->engine, conn, "unknown_type", 12, msg.data(), msg.size(), id_json_len ? id_json : nullptr,
                   id_json_len);
    return;
  }
  Event ev;
  ev.kind = EventKind::kMessage;
  ev.id = conn;
  ev.user.assign(user, user_len);
  ev.a.assign(t);
  ev.b.assign(json, json_len);
  ev.id_json.assign(id_json, id_json_len);
  if (!host->push_bounded(std::move(ev), kMaxQueuedMessageBytes)) {
    // JS is not keeping up: refuse rather than buffer without bound.
    static constexpr char kText[] = "the host is not keeping up; message dropped";
    rtc_send_error(host->engine, conn, "overloaded", 10, kText, sizeof kText - 1, id_json_len ? id_json : nullptr,
                   id_json_len);
  }
}

void on_presence(void* ud, const char* user, size_t user_len, int32_t status, const char* ts, size_t ts_len) {
  Host* host = host_of(ud);
  if (!(host->wanted.load(std::memory_order_relaxed) & kWantPresence)) return;
  Event ev;
  ev.kind = EventKind::kPresence;
  ev.code = static_cast<uint32_t>(status);
  ev.user.assign(user, user_len);
  ev.a.assign(ts, ts_len);
  host->push(std::move(ev));
}

int32_t on_authorize(void* ud, rtc_conn_id conn, const char* user, size_t user_len, int32_t action,
                     const char* target, size_t target_len, uint64_t request_id) {
  // Decided by a JS hook, possibly async: defer, and let JS call
  // rtc_authorize_resolve() later. Nobody will answer once the host stops
  // accepting events (teardown): refuse at once instead.
  Host* host = host_of(ud);
  if (!host->accepting.load(std::memory_order_acquire)) return RTC_AUTHZ_DENY;
  Event ev;
  ev.kind = EventKind::kAuthorize;
  ev.id = conn;
  ev.request = request_id;
  ev.code = static_cast<uint32_t>(action);
  ev.user.assign(user, user_len);
  ev.a.assign(target, target_len);
  host->push(std::move(ev));
  return RTC_AUTHZ_DEFER;
}

// The engine's log lines. With a JS 'log' listener they become events;
// without one they go to stderr as rtcore's text lines always did (the
// handler replaces the engine's own stderr output).
void on_log(void* ud, int32_t level, const char* event, size_t event_len, const char* message, size_t message_len,
            const char* fields, size_t fields_len) {
  Host* host = host_of(ud);
  if (!(host->wanted.load(std::memory_order_relaxed) & kWantLog)) {
    std::string line = "rtcore: " + std::string(message, message_len) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
    return;
  }
  Event ev;
  ev.kind = EventKind::kLog;
  ev.code = static_cast<uint32_t>(level);
  ev.a.assign(event, event_len);
  ev.b.assign(message, message_len);
  ev.user.assign(fields, fields_len);
  host->push(std::move(ev));
}

Napi::String str(Napi::Env env, const std::string& s) { return Napi::String::New(env, s.data(), s.size()); }

// Ids are 64-bit; JS numbers are exact only to 2^53, so ids travel as
// decimal strings.
Napi::String id_str(Napi::Env env, uint64_t id) { return Napi::String::New(env, std::to_string(id)); }

}  // namespace

rtc_handlers make_handlers(Host* host, bool with_connect_hook, bool with_authorize_hook) {
  rtc_handlers h;
  rtc_handlers_init(&h);
  h.user_data = host;
  if (with_connect_hook) h.on_connect = on_connect;
  if (with_authorize_hook) h.on_authorize = on_authorize;
  h.on_open = on_open;
  h.on_disconnect = on_disconnect;
  h.on_message_with_id = on_message;
  h.on_presence = on_presence;
  h.on_log = on_log;
  return h;
}

// Each event becomes a small array [kind, ...fields]; the JS layer turns
// them into objects and calls the listeners.
void drain_on_js_thread(Napi::Env env, Napi::Function dispatch, Host* host, void*) {
  if (env == nullptr || host == nullptr) return;  // being torn down
  std::vector<Event> batch = host->take();
  if (batch.empty()) return;
  Napi::Array arr = Napi::Array::New(env, batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const Event& ev = batch[i];
    Napi::Array e = Napi::Array::New(env);
    e.Set(0u, Napi::Number::New(env, static_cast<uint32_t>(ev.kind)));
    switch (ev.kind) {
      case EventKind::kConnect: {
        e.Set(1u, id_str(env, ev.id));
        e.Set(2u, str(env, ev.user));
        e.Set(3u, str(env, ev.a));
        e.Set(4u, str(env, ev.b));
        Napi::Object headers = Napi::Object::New(env);
        for (const auto& [name, value] : ev.headers) headers.Set(name, str(env, value));
        e.Set(5u, headers);
        break;
      }
      case EventKind::kOpen:
        e.Set(1u, id_str(env, ev.id));
        e.Set(2u, str(env, ev.user));
        break;
      case EventKind::kDisconnect:
        e.Set(1u, id_str(env, ev.id));
        e.Set(2u, str(env, ev.user));
        e.Set(3u, Napi::Number::New(env, ev.code));
        break;
      case EventKind::kMessage:
        e.Set(1u, id_str(env, ev.id));
        e.Set(2u, str(env, ev.user));
        e.Set(3u, str(env, ev.a));
        e.Set(4u, str(env, ev.b));
        e.Set(5u, ev.id_json.empty() ? env.Null() : Napi::Value(str(env, ev.id_json)));
        break;
      case EventKind::kPresence:
        e.Set(1u, str(env, ev.user));
        e.Set(2u, Napi::Number::New(env, ev.code));
        e.Set(3u, str(env, ev.a));
        break;
      case EventKind::kAuthorize:
        e.Set(1u, id_str(env, ev.id));
        e.Set(2u, str(env, ev.user));
        e.Set(3u, Napi::Number::New(env, ev.code));
        e.Set(4u, str(env, ev.a));
        e.Set(5u, id_str(env, ev.request));
        break;
      case EventKind::kLog:
        e.Set(1u, Napi::Number::New(env, ev.code));
        e.Set(2u, str(env, ev.a));
        e.Set(3u, str(env, ev.b));
        e.Set(4u, str(env, ev.user));
        break;
      case EventKind::kAnswer: {
        // [6, token, status, [user...], truncated, [online...]]
        e.Set(1u, Napi::Number::New(env, static_cast<double>(ev.id)));
        e.Set(2u, Napi::Number::New(env, ev.status));
        Napi::Array users = Napi::Array::New(env, ev.users.size());
        for (size_t j = 0; j < ev.users.size(); ++j) users.Set(static_cast<uint32_t>(j), str(env, ev.users[j]));
        e.Set(3u, users);
        e.Set(4u, Napi::Boolean::New(env, ev.request != 0));
        Napi::Array flags = Napi::Array::New(env, ev.flags.size());
        for (size_t j = 0; j < ev.flags.size(); ++j) flags.Set(static_cast<uint32_t>(j), Napi::Boolean::New(env, ev.flags[j] != 0));
        e.Set(5u, flags);
        break;
      }
      case EventKind::kHistory: {
        // [8, token, status, epoch, top, [frame JSON...]]; top <= 2^53
        e.Set(1u, Napi::Number::New(env, static_cast<double>(ev.id)));
        e.Set(2u, Napi::Number::New(env, ev.status));
        e.Set(3u, str(env, ev.a));
        e.Set(4u, Napi::Number::New(env, static_cast<double>(ev.request)));
        Napi::Array frames = Napi::Array::New(env, ev.users.size());
        for (size_t j = 0; j < ev.users.size(); ++j) frames.Set(static_cast<uint32_t>(j), str(env, ev.users[j]));
        e.Set(5u, frames);
        break;
      }
    }
    arr.Set(static_cast<uint32_t>(i), e);
  }
  dispatch.Call({arr});
}

}  // namespace rtcore_node
