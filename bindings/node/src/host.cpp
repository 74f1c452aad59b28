#include "host.hpp"

#include <string>
#include <utility>

namespace rtcore_node {

namespace {

// Client messages waiting for the JS thread, at most (bytes of JSON); beyond,
// the engine answers overloaded.
constexpr uint64_t kMaxQueuedMessageBytes = 64u << 20;

struct BatchFree {
  void operator()(rtc_event_batch* b) const { rtc_event_batch_free(b); }
};
using Batch = std::unique_ptr<rtc_event_batch, BatchFree>;

Napi::String str(Napi::Env env, const rtc_text& t) {
  return Napi::String::New(env, t.data ? t.data : "", t.len);
}

// Ids are 64-bit; JS numbers are exact only to 2^53, so ids travel as
// decimal strings.
Napi::String id_str(Napi::Env env, uint64_t id) {
  return Napi::String::New(env, std::to_string(id));
}

Napi::Array items(Napi::Env env, const rtc_event& e) {
  Napi::Array out = Napi::Array::New(env, e.item_count);
  for (size_t i = 0; i < e.item_count; ++i) out.Set(static_cast<uint32_t>(i), str(env, e.items[i]));
  return out;
}

Napi::Number kind(Napi::Env env, EventKind k) {
  return Napi::Number::New(env, static_cast<uint32_t>(k));
}

// One event as the small array lib/engine.js expects, [kind, ...fields];
// undefined for a kind this addon does not know (a newer library's).
Napi::Value to_js(Napi::Env env, const rtc_event& ev) {
  Napi::Array e = Napi::Array::New(env);
  switch (ev.kind) {
    case RTC_EVENT_CONNECT: {
      e.Set(0u, kind(env, EventKind::kConnect));
      e.Set(1u, id_str(env, ev.request_id));
      e.Set(2u, str(env, ev.user_id));
      e.Set(3u, str(env, ev.a));
      e.Set(4u, str(env, ev.b));
      Napi::Object headers = Napi::Object::New(env);
      for (size_t i = 0; i < ev.header_count; ++i) {
        const rtc_header& h = ev.headers[i];
        headers.Set(std::string(h.name, h.name_len), Napi::String::New(env, h.value, h.value_len));
      }
      e.Set(5u, headers);
      return e;
    }
    case RTC_EVENT_OPEN:
      e.Set(0u, kind(env, EventKind::kOpen));
      e.Set(1u, id_str(env, ev.conn));
      e.Set(2u, str(env, ev.user_id));
      return e;
    case RTC_EVENT_DISCONNECT:
      e.Set(0u, kind(env, EventKind::kDisconnect));
      e.Set(1u, id_str(env, ev.conn));
      e.Set(2u, str(env, ev.user_id));
      e.Set(3u, Napi::Number::New(env, ev.code));
      return e;
    case RTC_EVENT_MESSAGE:
      e.Set(0u, kind(env, EventKind::kMessage));
      e.Set(1u, id_str(env, ev.conn));
      e.Set(2u, str(env, ev.user_id));
      e.Set(3u, str(env, ev.a));
      e.Set(4u, str(env, ev.b));
      e.Set(5u, ev.c.len == 0 ? env.Null() : Napi::Value(str(env, ev.c)));
      return e;
    case RTC_EVENT_PRESENCE:
      e.Set(0u, kind(env, EventKind::kPresence));
      e.Set(1u, str(env, ev.user_id));
      e.Set(2u, Napi::Number::New(env, ev.code));
      e.Set(3u, str(env, ev.a));
      return e;
    case RTC_EVENT_AUTHORIZE:
      e.Set(0u, kind(env, EventKind::kAuthorize));
      e.Set(1u, id_str(env, ev.conn));
      e.Set(2u, str(env, ev.user_id));
      e.Set(3u, Napi::Number::New(env, ev.code));
      e.Set(4u, str(env, ev.a));
      e.Set(5u, id_str(env, ev.request_id));
      return e;
    case RTC_EVENT_LOG:
      e.Set(0u, kind(env, EventKind::kLog));
      e.Set(1u, Napi::Number::New(env, ev.code));
      e.Set(2u, str(env, ev.a));
      e.Set(3u, str(env, ev.b));
      e.Set(4u, str(env, ev.c));
      return e;
    case RTC_EVENT_ROOM_MEMBERS:
    case RTC_EVENT_USERS_ONLINE: {
      // [7, token, status, [user...], truncated, [online...]]
      e.Set(0u, kind(env, EventKind::kAnswer));
      e.Set(1u, Napi::Number::New(env, static_cast<double>(ev.token)));
      e.Set(2u, Napi::Number::New(env, ev.status));
      e.Set(3u, items(env, ev));
      e.Set(4u, Napi::Boolean::New(env, ev.kind == RTC_EVENT_ROOM_MEMBERS && ev.code != 0));
      size_t n = ev.kind == RTC_EVENT_USERS_ONLINE && ev.online ? ev.item_count : 0;
      Napi::Array flags = Napi::Array::New(env, n);
      for (size_t i = 0; i < n; ++i)
        flags.Set(static_cast<uint32_t>(i), Napi::Boolean::New(env, ev.online[i] != 0));
      e.Set(5u, flags);
      return e;
    }
    case RTC_EVENT_HISTORY:
      // [8, token, status, epoch, top, [frame JSON...]]; top <= 2^53
      e.Set(0u, kind(env, EventKind::kHistory));
      e.Set(1u, Napi::Number::New(env, static_cast<double>(ev.token)));
      e.Set(2u, Napi::Number::New(env, ev.status));
      e.Set(3u, str(env, ev.a));
      e.Set(4u, Napi::Number::New(env, static_cast<double>(ev.top)));
      e.Set(5u, items(env, ev));
      return e;
  }
  return env.Undefined();
}

}  // namespace

Host::~Host() {
  unwatch();
}

int Host::create(const rtc_config& config, bool with_connect_hook, bool with_authorize_hook) {
  if (engine) return RTC_ESTATE;
  rtc_events_config events;
  rtc_events_config_init(&events);
  events.events =
      RTC_EVENTS_OPEN | RTC_EVENTS_DISCONNECT | RTC_EVENTS_MESSAGE | RTC_EVENTS_PRESENCE | RTC_EVENTS_LOG;
  if (with_connect_hook) events.events |= RTC_EVENTS_CONNECT;
  if (with_authorize_hook) events.events |= RTC_EVENTS_AUTHORIZE;
  events.max_message_bytes = kMaxQueuedMessageBytes;
  int rc = rtc_engine_create_queued(&config, &events, &engine);
  if (rc == RTC_OK) apply_wanted();
  return rc;
}

void Host::destroy() {
  rtc_engine_destroy(engine);  // joins the engine thread: nothing is queued after this
  engine = nullptr;
}

bool Host::watch(Napi::Env env, Napi::Function dispatch) {
  if (poll_ || !engine) return false;
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) return false;
  auto handle = std::make_unique<uv_poll_t>();
  if (uv_poll_init(loop, handle.get(), rtc_events_fd(engine)) != 0) return false;
  handle->data = this;
  poll_ = handle.release();
  dispatch_ = Napi::Persistent(dispatch);
  context_ = std::make_unique<Napi::AsyncContext>(env, "rtcore.events");
  uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  if (uv_poll_start(poll_, UV_READABLE, &Host::on_readable) != 0) {
    unwatch();
    return false;
  }
  return true;
}

void Host::unwatch() {
  if (!poll_) return;
  poll_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(poll_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
  poll_ = nullptr;
  context_.reset();
  dispatch_.Reset();
}

void Host::set_ref(bool on) {
  if (!poll_) return;
  if (on)
    uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  else
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
}

void Host::on_readable(uv_poll_t* handle, int status, int /*events*/) {
  auto* host = static_cast<Host*>(handle->data);
  if (!host || status < 0 || host->dispatch_.IsEmpty()) return;
  Napi::Env env = host->dispatch_.Env();
  Napi::HandleScope scope(env);
  host->drain(env, true);
}

void Host::drain(Napi::Env env, bool make_callback) {
  if (!engine || dispatch_.IsEmpty()) return;
  rtc_event_batch* raw = nullptr;
  if (rtc_events_take(engine, &raw) != RTC_OK || !raw)
    return;  // ENOMEM: still queued, retried on the next wake-up
  Batch batch(raw);
  size_t n = rtc_event_batch_count(raw);
  Napi::Array arr = Napi::Array::New(env);
  uint32_t out = 0;
  for (size_t i = 0; i < n; ++i) {
    Napi::Value v = to_js(env, *rtc_event_batch_get(raw, i));
    if (!v.IsUndefined()) arr.Set(out++, v);
  }
  batch.reset();  // everything is copied into JS values
  if (out == 0) return;
  if (make_callback && context_)
    dispatch_.MakeCallback(dispatch_.Value(), {arr}, *context_);  // recv must be an object
  else
    dispatch_.Call({arr});
}

void Host::set_wanted(uint32_t bits, std::vector<std::string> types, bool all) {
  wanted_ = bits;
  types_ = std::move(types);
  all_types_ = all;
  apply_wanted();
}

void Host::apply_wanted() {
  if (!engine) return;
  uint32_t select = ((wanted_ & kWantOpen) ? RTC_EVENTS_OPEN : 0) |
                    ((wanted_ & kWantDisconnect) ? RTC_EVENTS_DISCONNECT : 0) |
                    ((wanted_ & kWantPresence) ? RTC_EVENTS_PRESENCE : 0) |
                    ((wanted_ & kWantLog) ? RTC_EVENTS_LOG : 0);
  rtc_events_select(engine, select);
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& t : types_) {
    ptrs.push_back(t.data());
    lens.push_back(t.size());
  }
  rtc_events_set_message_types(engine, ptrs.data(), lens.data(), ptrs.size(), all_types_ ? 1 : 0);
}

}  // namespace rtcore_node
