// The native layer: one ObjectWrap per engine, every method a thin call into
// the C API (rtcore.h). Validation, errors and events' shape live in lib/.
// Methods return the C API's result code; the JS layer turns codes into
// errors.
#include <napi.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "adopt.hpp"
#include "host.hpp"
#include "rtcore.h"

namespace rtcore_node {
namespace {

enum class State { kNew, kStarting, kRunning, kStopping, kClosed };

uint64_t parse_id(const Napi::Value& v) {
  if (v.IsString()) return std::strtoull(v.As<Napi::String>().Utf8Value().c_str(), nullptr, 10);
  if (v.IsNumber()) return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
  return 0;
}

Napi::Value code(Napi::Env env, int rc) {
  return Napi::Number::New(env, rc);
}

// Writes one row's value (range-checked by lib/options.js against the row;
// the engine checks it again) into the rtc_config field its descriptor names (offset, size):
// strings as text (empty leaves the engine's default; kept in `strings`
// until the engine has copied them), the rest as integers; booleans are 0/1.
// False for a value the row cannot hold.
bool set_field(rtc_config& c, const rtc_option_info& o, const Napi::Value& v,
               std::deque<std::string>& strings) {
  char* p = reinterpret_cast<char*>(&c) + o.offset;
  if (o.type == RTC_OPTION_STRING) {
    if (!v.IsString() || o.size != sizeof(const char*)) return false;
    strings.push_back(v.As<Napi::String>().Utf8Value());
    if (strings.back().find('\0') != std::string::npos) return false;
    const char* s = strings.back().empty() ? nullptr : strings.back().c_str();
    std::memcpy(p, &s, sizeof s);
    return true;
  }
  if (o.type != RTC_OPTION_UINT && o.type != RTC_OPTION_BOOL && o.type != RTC_OPTION_ENUM) return false;
  double d = v.IsBoolean()  ? (v.As<Napi::Boolean>().Value() ? 1 : 0)
             : v.IsNumber() ? v.As<Napi::Number>().DoubleValue()
                            : -1;
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d))) return false;
  uint64_t n = static_cast<uint64_t>(d);
  if (o.size == sizeof(uint64_t)) {
    std::memcpy(p, &n, sizeof n);
    return true;
  }
  if (o.size != sizeof(uint32_t) || n > UINT32_MAX) return false;
  uint32_t n32 = static_cast<uint32_t>(n);
  std::memcpy(p, &n32, sizeof n32);
  return true;
}

class Native : public Napi::ObjectWrap<Native> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Native(const Napi::CallbackInfo& info);
  ~Native() override;

 private:
  Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value CloseSync(const Napi::CallbackInfo& info);
  Napi::Value SetWanted(const Napi::CallbackInfo& info);
  Napi::Value Resolve(const Napi::CallbackInfo& info);
  Napi::Value AuthorizeResolve(const Napi::CallbackInfo& info);
  Napi::Value SendToUser(const Napi::CallbackInfo& info);
  Napi::Value SendToConnection(const Napi::CallbackInfo& info);
  Napi::Value Broadcast(const Napi::CallbackInfo& info);
  Napi::Value Join(const Napi::CallbackInfo& info);
  Napi::Value RoomMembers(const Napi::CallbackInfo& info);
  Napi::Value UsersOnline(const Napi::CallbackInfo& info);
  Napi::Value History(const Napi::CallbackInfo& info);
  Napi::Value Leave(const Napi::CallbackInfo& info);
  Napi::Value SendError(const Napi::CallbackInfo& info);
  Napi::Value Disconnect(const Napi::CallbackInfo& info);
  Napi::Value DisconnectUser(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Metrics(const Napi::CallbackInfo& info);
  Napi::Value Port(const Napi::CallbackInfo& info);
  Napi::Value InternalPort(const Napi::CallbackInfo& info);
  Napi::Value NodeId(const Napi::CallbackInfo& info);
  Napi::Value RefLoop(const Napi::CallbackInfo& info);
  Napi::Value UnrefLoop(const Napi::CallbackInfo& info);
  Napi::Value AdoptSocket(const Napi::CallbackInfo& info) { return adopt_socket(info, host_->engine); }

  friend class StartWorker;
  friend class StopWorker;
  void started(int rc);
  void finish_close(Napi::Env env);
  static void cleanup_hook(void* arg);

  // Host outlives the engine: the engine is stopped before host is freed.
  std::unique_ptr<Host> host_ = std::make_unique<Host>();
  Napi::FunctionReference dispatch_;
  State state_ = State::kNew;
  bool hook_added_ = false;
  bool want_ref_ = true;  // the user's ref()/unref() choice
};

// rtc_engine_start and rtc_engine_stop wait for the engine thread: run them
// off the JS thread so events (disconnects during a stop) keep flowing.
class StartWorker : public Napi::AsyncWorker {
 public:
  StartWorker(Napi::Env env, Native* native)
      : Napi::AsyncWorker(env, "rtcore.listen"),
        native_(native),
        deferred_(Napi::Promise::Deferred::New(env)) {
    native_->Ref();
  }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override { rc_ = rtc_engine_start(native_->host_->engine); }
  void OnOK() override {
    native_->started(rc_);
    native_->Unref();
    deferred_.Resolve(Napi::Number::New(Env(), rc_));
  }

 private:
  Native* native_;
  Napi::Promise::Deferred deferred_;
  int rc_ = RTC_EINTERNAL;
};

class StopWorker : public Napi::AsyncWorker {
 public:
  StopWorker(Napi::Env env, Native* native, uint32_t timeout_ms)
      : Napi::AsyncWorker(env, "rtcore.close"),
        native_(native),
        timeout_ms_(timeout_ms),
        deferred_(Napi::Promise::Deferred::New(env)) {
    native_->Ref();
  }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override { rc_ = rtc_engine_stop(native_->host_->engine, timeout_ms_); }
  void OnOK() override {
    native_->finish_close(Env());
    native_->Unref();
    deferred_.Resolve(Napi::Number::New(Env(), rc_));
  }

 private:
  Native* native_;
  uint32_t timeout_ms_;
  Napi::Promise::Deferred deferred_;
  int rc_ = RTC_EINTERNAL;
};

Napi::Function Native::Define(Napi::Env env) {
  return DefineClass(env, "Native",
                     {
                         InstanceMethod<&Native::Listen>("listen"),
                         InstanceMethod<&Native::Close>("close"),
                         InstanceMethod<&Native::CloseSync>("closeSync"),
                         InstanceMethod<&Native::SetWanted>("setWanted"),
                         InstanceMethod<&Native::Resolve>("resolve"),
                         InstanceMethod<&Native::AuthorizeResolve>("authorizeResolve"),
                         InstanceMethod<&Native::SendToUser>("sendToUser"),
                         InstanceMethod<&Native::SendToConnection>("sendToConnection"),
                         InstanceMethod<&Native::Broadcast>("broadcast"),
                         InstanceMethod<&Native::Join>("join"),
                         InstanceMethod<&Native::RoomMembers>("roomMembers"),
                         InstanceMethod<&Native::UsersOnline>("usersOnline"),
                         InstanceMethod<&Native::History>("history"),
                         InstanceMethod<&Native::Leave>("leave"),
                         InstanceMethod<&Native::SendError>("sendError"),
                         InstanceMethod<&Native::Disconnect>("disconnect"),
                         InstanceMethod<&Native::DisconnectUser>("disconnectUser"),
                         InstanceMethod<&Native::Stats>("stats"),
                         InstanceMethod<&Native::Metrics>("metrics"),
                         InstanceMethod<&Native::Port>("port"),
                         InstanceMethod<&Native::InternalPort>("internalPort"),
                         InstanceMethod<&Native::NodeId>("nodeId"),
                         InstanceMethod<&Native::RefLoop>("ref"),
                         InstanceMethod<&Native::UnrefLoop>("unref"),
                         InstanceMethod<&Native::AdoptSocket>("adoptSocket"),
                     });
}

// new Native(dispatch): dispatch(batch) receives every batch of events.
Native::Native(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Native>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    Napi::TypeError::New(env, "dispatch function required").ThrowAsJavaScriptException();
    return;
  }
  dispatch_ = Napi::Persistent(info[0].As<Napi::Function>());
}

Native::~Native() {
  // Reached only when the JS object is collected or the env is torn down;
  // the cleanup hook has normally stopped the engine already.
  if (hook_added_) napi_remove_env_cleanup_hook(Env(), cleanup_hook, host_.get());
  host_->destroy();
}

// At env teardown (process exit, worker exit) with the engine still
// running: stop it before anything it calls into goes away.
void Native::cleanup_hook(void* arg) {
  Host* host = static_cast<Host*>(arg);
  if (host->engine) rtc_engine_stop(host->engine, 200);
}

// listen(config, withConnectHook, withAuthorizeHook) -> Promise<rc>
Napi::Value Native::Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_ != State::kNew) return code(env, RTC_ESTATE);
  Napi::Object o = info[0].As<Napi::Object>();
  bool with_connect = info[1].ToBoolean();
  bool with_authorize = info.Length() > 2 && info[2].ToBoolean();

  // The object's keys are rtc_config field names: every row of the settings
  // table is written generically from its descriptor (set_field), so a new
  // row needs no change here; only the fields without a row are named.
  rtc_config cfg;
  rtc_config_init(&cfg);
  std::deque<std::string> strings;
  for (size_t i = 0; i < rtc_config_option_count(); ++i) {
    const rtc_option_info* opt = rtc_config_option(i);
    if (!opt) break;
    if (o.Has(opt->name) && !set_field(cfg, *opt, o.Get(opt->name), strings)) return code(env, RTC_EINVAL);
  }
  // The secret arrives as a Buffer (bytes as given); the engine copies it.
  std::string jwt_secret;
  if (o.Has("jwt_secret") && o.Get("jwt_secret").IsBuffer()) {
    auto b = o.Get("jwt_secret").As<Napi::Buffer<char>>();
    jwt_secret.assign(b.Data(), b.Length());
  }
  if (!jwt_secret.empty()) {
    cfg.jwt_secret = jwt_secret.data();
    cfg.jwt_secret_len = jwt_secret.size();
  }
  if (o.Has("rate_limit_per_s")) cfg.rate_limit_per_s = o.Get("rate_limit_per_s").ToNumber().Uint32Value();
  if (o.Has("rate_limit_burst")) cfg.rate_limit_burst = o.Get("rate_limit_burst").ToNumber().Uint32Value();

  int rc = host_->create(cfg, with_connect, with_authorize);
  std::fill(jwt_secret.begin(), jwt_secret.end(), '\0');  // the engine keeps its own copy
  if (rc != RTC_OK) return code(env, rc);

  // Watched unref'd: the engine keeps the process alive only once it
  // listens, as a net.Server does.
  if (!host_->watch(env, dispatch_.Value())) {
    host_->destroy();
    return code(env, RTC_EINTERNAL);
  }
  napi_add_env_cleanup_hook(env, cleanup_hook, host_.get());
  hook_added_ = true;

  state_ = State::kStarting;
  auto* worker = new StartWorker(env, this);
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

void Native::started(int rc) {
  if (rc == RTC_OK) {
    state_ = State::kRunning;
    if (want_ref_) host_->set_ref(true);
    return;
  }
  // A failed start leaves nothing running: free it all now.
  finish_close(Env());
}

// Called on the JS thread once the engine is stopped: deliver what the stop
// produced (disconnects, presence, query answers), then let go of the loop
// and free the engine (and its queue).
void Native::finish_close(Napi::Env env) {
  host_->drain(env, false);
  host_->unwatch();
  host_->destroy();
  if (hook_added_) {
    napi_remove_env_cleanup_hook(env, cleanup_hook, host_.get());
    hook_added_ = false;
  }
  state_ = State::kClosed;
}

// close(timeoutMs) -> Promise<rc>, or an rc when not running
Napi::Value Native::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_ != State::kRunning) return code(env, RTC_ESTATE);  // JS only closes a running engine
  state_ = State::kStopping;
  auto* worker = new StopWorker(env, this, info[0].ToNumber().Uint32Value());
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

// closeSync(timeoutMs): for process 'exit', where nothing async runs again.
Napi::Value Native::CloseSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (host_->engine) rtc_engine_stop(host_->engine, info[0].ToNumber().Uint32Value());
  if (state_ == State::kRunning || state_ == State::kStarting) finish_close(env);
  return env.Undefined();
}

// setWanted(bits, types[], allTypes)
Napi::Value Native::SetWanted(const Napi::CallbackInfo& info) {
  std::vector<std::string> types;
  Napi::Array arr = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) types.push_back(arr.Get(i).ToString().Utf8Value());
  host_->set_wanted(info[0].ToNumber().Uint32Value(), std::move(types), info[2].ToBoolean());
  return info.Env().Undefined();
}

// resolve(requestId, accept, status, userId|null)
Napi::Value Native::Resolve(const Napi::CallbackInfo& info) {
  std::string user = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "";
  int rc =
      rtc_connect_resolve(host_->engine, parse_id(info[0]), info[1].ToBoolean() ? 1 : 0,
                          info[2].ToNumber().Int32Value(), user.empty() ? nullptr : user.data(), user.size());
  return code(info.Env(), rc);
}

// authorizeResolve(requestId, allow)
Napi::Value Native::AuthorizeResolve(const Napi::CallbackInfo& info) {
  if (!host_->engine) return code(info.Env(), RTC_ESTATE);
  return code(info.Env(),
              rtc_authorize_resolve(host_->engine, parse_id(info[0]), info[1].ToBoolean() ? 1 : 0));
}

// Optional string argument: NULL when absent (from = none).
struct OptStr {
  explicit OptStr(const Napi::Value& v) : present(v.IsString()) {
    if (present) s = v.As<Napi::String>().Utf8Value();
  }
  const char* data() const { return present ? s.data() : nullptr; }
  size_t size() const { return s.size(); }
  bool present;
  std::string s;
};

std::string utf8(const Napi::Value& v) {
  return v.ToString().Utf8Value();
}

// sendToUser(userId, from|null, kind, payload)
Napi::Value Native::SendToUser(const Napi::CallbackInfo& info) {
  std::string user = utf8(info[0]), payload = utf8(info[3]);
  OptStr from(info[1]);
  return code(info.Env(), rtc_send_to_user(host_->engine, user.data(), user.size(), from.data(), from.size(),
                                           info[2].ToNumber().Int32Value(), payload.data(), payload.size()));
}

// sendToConnection(connId, from|null, kind, payload)
Napi::Value Native::SendToConnection(const Napi::CallbackInfo& info) {
  std::string payload = utf8(info[3]);
  OptStr from(info[1]);
  return code(info.Env(),
              rtc_send_to_connection(host_->engine, parse_id(info[0]), from.data(), from.size(),
                                     info[2].ToNumber().Int32Value(), payload.data(), payload.size()));
}

// broadcast(room, from|null, kind, payload)
Napi::Value Native::Broadcast(const Napi::CallbackInfo& info) {
  std::string room = utf8(info[0]), payload = utf8(info[3]);
  OptStr from(info[1]);
  return code(info.Env(), rtc_broadcast(host_->engine, room.data(), room.size(), from.data(), from.size(),
                                        info[2].ToNumber().Int32Value(), payload.data(), payload.size()));
}

Napi::Value Native::Join(const Napi::CallbackInfo& info) {
  std::string room = utf8(info[1]);
  return code(info.Env(), rtc_join(host_->engine, parse_id(info[0]), room.data(), room.size()));
}

// The queries' answers come back as events (RTC_EVENT_ROOM_MEMBERS, ...)
// carrying the JS side's token; see host.cpp.
uint64_t token_of(const Napi::Value& v) {
  return static_cast<uint64_t>(v.ToNumber().Int64Value());
}

// roomMembers(room, limit, token)
Napi::Value Native::RoomMembers(const Napi::CallbackInfo& info) {
  std::string room = utf8(info[0]);
  uint32_t limit = info[1].ToNumber().Uint32Value();
  return code(info.Env(),
              rtc_room_members_queued(host_->engine, room.data(), room.size(), limit, token_of(info[2])));
}

// usersOnline([user...], token)
Napi::Value Native::UsersOnline(const Napi::CallbackInfo& info) {
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<std::string> users;
  for (uint32_t i = 0; i < arr.Length(); ++i) users.push_back(utf8(arr.Get(i)));
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& u : users) {
    ptrs.push_back(u.data());
    lens.push_back(u.size());
  }
  return code(info.Env(), rtc_users_online_queued(host_->engine, ptrs.data(), lens.data(), users.size(),
                                                  token_of(info[1])));
}

// history(room, limit, before, token); before 0 = no bound (checked in JS:
// an integer 1..2^53 otherwise, so the double is exact).
Napi::Value Native::History(const Napi::CallbackInfo& info) {
  std::string room = utf8(info[0]);
  uint32_t limit = info[1].ToNumber().Uint32Value();
  auto before = static_cast<uint64_t>(info[2].ToNumber().DoubleValue());
  return code(info.Env(), rtc_history_read_queued(host_->engine, room.data(), room.size(), limit, before,
                                                  token_of(info[3])));
}

Napi::Value Native::Leave(const Napi::CallbackInfo& info) {
  std::string room = utf8(info[1]);
  return code(info.Env(), rtc_leave(host_->engine, parse_id(info[0]), room.data(), room.size()));
}

// sendError(connId, code, message, idJson|null)
Napi::Value Native::SendError(const Napi::CallbackInfo& info) {
  std::string c = utf8(info[1]), m = utf8(info[2]);
  OptStr id(info[3]);
  return code(info.Env(), rtc_send_error(host_->engine, parse_id(info[0]), c.data(), c.size(), m.data(),
                                         m.size(), id.data(), id.size()));
}

Napi::Value Native::Disconnect(const Napi::CallbackInfo& info) {
  return code(info.Env(), rtc_disconnect(host_->engine, parse_id(info[0]), info[1].ToNumber().Uint32Value()));
}

Napi::Value Native::DisconnectUser(const Napi::CallbackInfo& info) {
  std::string user = utf8(info[0]);
  return code(info.Env(),
              rtc_disconnect_user(host_->engine, user.data(), user.size(), info[1].ToNumber().Uint32Value()));
}

// Every counter from the library's own table (rtc_stats_field), camelCased:
// a counter added to the engine needs no change here.
Napi::Value Native::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  rtc_stats s;
  rtc_stats_init(&s);
  if (!host_->engine || rtc_engine_stats(host_->engine, &s) != RTC_OK) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  const char* base = reinterpret_cast<const char*>(&s) + offsetof(rtc_stats, connections);
  size_t known = (sizeof s - offsetof(rtc_stats, connections)) / sizeof(uint64_t);
  size_t n = std::min(rtc_stats_count(), known);  // a newer library may know more
  for (size_t i = 0; i < n; ++i) {
    const char* name = nullptr;
    if (rtc_stats_field(i, &name, nullptr, nullptr) != RTC_OK) break;
    std::string key;
    for (bool upper = false; *name; ++name) {
      if (*name == '_') {
        upper = true;
        continue;
      }
      key.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(*name))) : *name);
      upper = false;
    }
    uint64_t v;
    std::memcpy(&v, base + i * sizeof v, sizeof v);
    o.Set(key, Napi::Number::New(env, static_cast<double>(v)));
  }
  return o;
}

Napi::Value Native::Metrics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!host_->engine) return env.Null();
  std::string text;
  if (rtc_engine_metrics(
          host_->engine,
          [](const char* t, size_t len, void* u) { static_cast<std::string*>(u)->assign(t, len); },
          &text) != RTC_OK)
    return env.Null();
  return Napi::String::New(env, text);
}

Napi::Value Native::Port(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), host_->engine ? rtc_engine_port(host_->engine) : 0);
}

Napi::Value Native::InternalPort(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), host_->engine ? rtc_engine_internal_port(host_->engine) : 0);
}

Napi::Value Native::NodeId(const Napi::CallbackInfo& info) {
  if (!host_->engine) return info.Env().Null();
  return Napi::String::New(info.Env(), rtc_engine_node_id(host_->engine));
}

Napi::Value Native::RefLoop(const Napi::CallbackInfo& info) {
  want_ref_ = true;
  if (state_ == State::kRunning) host_->set_ref(true);
  return info.Env().Undefined();
}

Napi::Value Native::UnrefLoop(const Napi::CallbackInfo& info) {
  want_ref_ = false;
  host_->set_ref(false);
  return info.Env().Undefined();
}

const char* type_name(uint32_t type) {
  switch (type) {
    case RTC_OPTION_STRING: return "string";
    case RTC_OPTION_UINT: return "uint";
    case RTC_OPTION_BOOL: return "bool";
    case RTC_OPTION_ENUM: return "enum";
  }
  return "unknown";  // a newer library's type: the JS layer skips the row
}

const char* unit_name(uint32_t unit) {
  switch (unit) {
    case RTC_UNIT_NONE: return "none";
    case RTC_UNIT_BYTES: return "bytes";
    case RTC_UNIT_MS: return "ms";
    case RTC_UNIT_SECONDS: return "seconds";
  }
  return "unknown";
}

// The library's settings table (rtc_config_option), one object a row, so
// lib/options.js derives the options, defaults and checks from it. Numbers
// past 2^53 are clamped to Number.MAX_SAFE_INTEGER. default is null for a
// string the engine picks (NULL in rtc_config_init).
Napi::Value config_options(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  constexpr uint64_t kSafe = (1ull << 53) - 1;
  auto num = [&](uint64_t v) { return Napi::Number::New(env, static_cast<double>(std::min(v, kSafe))); };
  for (size_t i = 0; i < rtc_config_option_count(); ++i) {
    const rtc_option_info* o = rtc_config_option(i);
    if (!o) break;
    Napi::Object r = Napi::Object::New(env);
    r.Set("name", o->name);
    r.Set("flag", o->flag);
    r.Set("env", o->env);
    r.Set("help", o->help);
    r.Set("type", type_name(o->type));
    r.Set("unit", unit_name(o->unit));
    r.Set("min", num(o->min));
    r.Set("max", num(o->max));
    if (o->type == RTC_OPTION_STRING)
      r.Set("default",
            o->default_string ? Napi::Value(Napi::String::New(env, o->default_string)) : env.Null());
    else if (o->type == RTC_OPTION_BOOL)
      r.Set("default", Napi::Boolean::New(env, o->default_value != 0));
    else
      r.Set("default", num(o->default_value));
    out.Set(static_cast<uint32_t>(i), r);
  }
  return out;
}

// rtc_config_init's values of the fields without a row (set as a pair).
Napi::Value config_defaults(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  rtc_config c;
  rtc_config_init(&c);
  Napi::Object o = Napi::Object::New(env);
  o.Set("rate_limit_per_s", Napi::Number::New(env, c.rate_limit_per_s));
  o.Set("rate_limit_burst", Napi::Number::New(env, c.rate_limit_burst));
  return o;
}

// The counters' table (rtc_stats_field): { name, kind, help } a counter.
Napi::Value stats_fields(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  for (size_t i = 0; i < rtc_stats_count(); ++i) {
    const char *name = nullptr, *kind = nullptr, *help = nullptr;
    if (rtc_stats_field(i, &name, &kind, &help) != RTC_OK) break;
    Napi::Object r = Napi::Object::New(env);
    r.Set("name", name);
    r.Set("kind", kind);
    r.Set("help", help);
    out.Set(static_cast<uint32_t>(i), r);
  }
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Native", Native::Define(env));
  exports.Set("version", Napi::String::New(env, rtc_version()));
  exports.Set("configOptions", Napi::Function::New(env, config_options));
  exports.Set("configDefaults", Napi::Function::New(env, config_defaults));
  exports.Set("statsFields", Napi::Function::New(env, stats_fields));
  exports.Set("errName", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                return Napi::String::New(info.Env(), rtc_err_name(info[0].ToNumber().Int32Value()));
              }));
  exports.Set("strerror", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                return Napi::String::New(info.Env(), rtc_strerror(info[0].ToNumber().Int32Value()));
              }));
  return exports;
}

}  // namespace
}  // namespace rtcore_node

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return rtcore_node::Init(env, exports);
}

NODE_API_MODULE(rtcore, InitModule)
