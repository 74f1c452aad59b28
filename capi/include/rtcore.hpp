// rtcore.hpp: a small header-only C++17 wrapper over the C API (rtcore.h).
//
//   rtcore::Engine engine;                       // defaults; port 0 picks one
//   engine.config().port = 8080;
//   engine.on_message([&](const rtcore::Message& m) {
//     engine.send_to_connection(m.conn, R"({"type":"pong"})");
//     engine.ack(m);                             // the one answer to m's id
//   });
//   engine.start();                              // throws rtcore::Error
//   ...
//   engine.stop();                               // or let the destructor do it
//
// What it adds to the C API, and nothing more: RAII (the destructor stops
// and destroys the engine), std::string_view in and out, lambdas as
// handlers, exceptions for failed calls, and the send model the Python and
// Node bindings share (docs/hosts.md): send_to_* / broadcast send the given
// JSON text as the frame; send_message_to_* / broadcast_message wrap JSON
// content in the protocol's message / direct_message envelope.
//
// Threads: handlers run on the engine thread, exactly as the C handlers do
// (docs in rtcore.h): they must be fast and must not block or call stop().
// Every other member function may be called from any thread once start()
// returned, including from a handler, except stop() and the destructor,
// which must not run on the engine thread. Handlers are set before start().
#ifndef RTCORE_HPP
#define RTCORE_HPP

#include <rtcore.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rtcore {

// A failed C call: code() is the RTC_* result, what() its text.
class Error : public std::runtime_error {
 public:
  explicit Error(int code, const std::string& what)
      : std::runtime_error(what + ": " + rtc_strerror(code)), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

inline void check(int rc, const char* what) {
  if (rc != RTC_OK) throw Error(rc, what);
}

using ConnId = rtc_conn_id;

// An upgrade request, borrowed for the on_connect call.
struct ConnectRequest {
  const rtc_connect_request* raw;
  std::string_view path() const { return {raw->path, raw->path_len}; }
  std::string_view query() const { return {raw->query, raw->query_len}; }
  std::string_view user_id() const { return {raw->user_id, raw->user_id_len}; }
  uint64_t request_id() const { return raw->request_id; }
  // The header's value, or an empty view (names are lower-case).
  std::string_view header(std::string_view name) const {
    for (size_t i = 0; i < raw->header_count; ++i) {
      const rtc_header& h = raw->headers[i];
      if (std::string_view(h.name, h.name_len) == name) return {h.value, h.value_len};
    }
    return {};
  }
};

// What on_connect decides; it starts as "accept under the path's user id".
class ConnectDecision {
 public:
  explicit ConnectDecision(rtc_connect_decision* d) : d_(d) {}
  // Accept under another user id (throws Error for an invalid one).
  void accept_as(std::string_view user_id) {
    check(rtc_connect_decision_set_user(d_, user_id.data(), user_id.size()), "rtc_connect_decision_set_user");
  }
  // Refuse the upgrade with an HTTP status (400..599).
  void refuse(int http_status) {
    d_->accept = 0;
    d_->http_status = http_status;
  }
  // Decide later with Engine::resolve_connect(request.request_id(), ...).
  void defer() { d_->defer = 1; }

 private:
  rtc_connect_decision* d_;
};

// A client message whose type is not built in, borrowed for the call.
struct Message {
  ConnId conn;
  std::string_view user_id;
  std::string_view type;
  std::string_view json;     // the whole frame, one JSON object
  std::string_view id_json;  // the request's "id" as JSON, empty without one
};

struct PresenceEvent {
  std::string_view user_id;
  bool online;
  std::string_view timestamp;
};

class Engine {
 public:
  Engine() : state_(std::make_unique<State>()) {
    rtc_config_init(&state_->config);
    rtc_handlers_init(&state_->handlers);
  }
  ~Engine() {
    if (engine_) rtc_engine_destroy(engine_);
  }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  Engine(Engine&& other) noexcept : state_(std::move(other.state_)), engine_(other.engine_) {
    other.engine_ = nullptr;
  }
  Engine& operator=(Engine&&) = delete;

  // Numeric settings, before start(). The string settings below are kept
  // here so the C struct's borrowed pointers stay valid.
  rtc_config& config() { return state_->config; }
  Engine& host(std::string value) { return keep(state_->host, std::move(value), state_->config.host); }
  Engine& redis_url(std::string value) {
    return keep(state_->redis_url, std::move(value), state_->config.redis_url);
  }
  Engine& node_id(std::string value) {
    return keep(state_->node_id, std::move(value), state_->config.node_id);
  }

  // Handlers, before start(); each replaces the previous one.
  Engine& on_connect(std::function<void(const ConnectRequest&, ConnectDecision&)> fn) {
    state_->connect = std::move(fn);
    state_->handlers.on_connect = [](void* ud, const rtc_connect_request* req, rtc_connect_decision* d) {
      ConnectRequest request{req};
      ConnectDecision decision(d);
      static_cast<State*>(ud)->connect(request, decision);
    };
    return *this;
  }
  Engine& on_open(std::function<void(ConnId, std::string_view user_id)> fn) {
    state_->open = std::move(fn);
    state_->handlers.on_open = [](void* ud, rtc_conn_id conn, const char* user, size_t len) {
      static_cast<State*>(ud)->open(conn, {user, len});
    };
    return *this;
  }
  Engine& on_disconnect(std::function<void(ConnId, std::string_view user_id, uint32_t close_code)> fn) {
    state_->disconnect = std::move(fn);
    state_->handlers.on_disconnect = [](void* ud, rtc_conn_id conn, const char* user, size_t len,
                                        uint32_t code) {
      static_cast<State*>(ud)->disconnect(conn, {user, len}, code);
    };
    return *this;
  }
  // Without it, host-defined message types are answered unknown_type.
  Engine& on_message(std::function<void(const Message&)> fn) {
    state_->message = std::move(fn);
    state_->handlers.on_message_with_id = [](void* ud, rtc_conn_id conn, const char* user, size_t user_len,
                                             const char* type, size_t type_len, const char* json,
                                             size_t json_len, const char* id, size_t id_len) {
      static_cast<State*>(ud)->message(
          Message{conn, {user, user_len}, {type, type_len}, {json, json_len}, {id, id_len}});
    };
    return *this;
  }
  Engine& on_presence(std::function<void(const PresenceEvent&)> fn) {
    state_->presence = std::move(fn);
    state_->handlers.on_presence = [](void* ud, const char* user, size_t len, int32_t status, const char* ts,
                                      size_t ts_len) {
      static_cast<State*>(ud)->presence(
          PresenceEvent{{user, len}, status == RTC_PRESENCE_ONLINE, {ts, ts_len}});
    };
    return *this;
  }

  // Creates the engine and waits until it listens (throws Error).
  void start() {
    if (engine_) throw Error(RTC_ESTATE, "rtcore::Engine::start");
    state_->handlers.user_data = state_.get();
    rtc_engine* e = nullptr;
    check(rtc_engine_create(&state_->config, &state_->handlers, &e), "rtc_engine_create");
    // Set before the engine thread exists, so handlers may use *this.
    engine_ = e;
    int rc = rtc_engine_start(e);
    if (rc != RTC_OK) {
      engine_ = nullptr;
      rtc_engine_destroy(e);
      throw Error(rc, "rtc_engine_start");
    }
  }
  // Graceful stop (1001 to every client); idempotent. Not on the engine thread.
  void stop(uint32_t timeout_ms = 1000) {
    if (engine_) rtc_engine_stop(engine_, timeout_ms);
  }

  uint32_t port() const { return engine_ ? rtc_engine_port(engine_) : 0; }
  std::string_view node_id() const { return engine_ ? rtc_engine_node_id(engine_) : std::string_view(); }
  rtc_engine* get() const { return engine_; }

  // Frame sends: json is one JSON text, sent as the frame.
  void send_to_user(std::string_view user, std::string_view json) {
    check(rtc_send_to_user(e(), user.data(), user.size(), nullptr, 0, RTC_PAYLOAD_RAW, json.data(),
                           json.size()),
          "rtc_send_to_user");
  }
  void send_to_connection(ConnId conn, std::string_view json) {
    check(rtc_send_to_connection(e(), conn, nullptr, 0, RTC_PAYLOAD_RAW, json.data(), json.size()),
          "rtc_send_to_connection");
  }
  void broadcast(std::string_view room, std::string_view json) {
    check(rtc_broadcast(e(), room.data(), room.size(), nullptr, 0, RTC_PAYLOAD_RAW, json.data(), json.size()),
          "rtc_broadcast");
  }
  // Envelope sends: content is any JSON value; clients get a message /
  // direct_message with from (default "": the server) and a timestamp.
  void send_message_to_user(std::string_view user, std::string_view content, std::string_view from = {}) {
    check(rtc_send_to_user(e(), user.data(), user.size(), from.data(), from.size(), RTC_PAYLOAD_CONTENT,
                           content.data(), content.size()),
          "rtc_send_to_user");
  }
  void send_message_to_connection(ConnId conn, std::string_view content, std::string_view from = {}) {
    check(rtc_send_to_connection(e(), conn, from.data(), from.size(), RTC_PAYLOAD_CONTENT, content.data(),
                                 content.size()),
          "rtc_send_to_connection");
  }
  void broadcast_message(std::string_view room, std::string_view content, std::string_view from = {}) {
    check(rtc_broadcast(e(), room.data(), room.size(), from.data(), from.size(), RTC_PAYLOAD_CONTENT,
                        content.data(), content.size()),
          "rtc_broadcast");
  }

  // The answers to a host-defined message with an id: exactly one of them
  // (docs/hosts.md). Without an id both do nothing.
  void ack(const Message& m) {
    if (m.id_json.empty()) return;
    std::string frame = R"({"type":"ack","id":)";
    frame.append(m.id_json).push_back('}');
    send_to_connection(m.conn, frame);
  }
  void send_error(ConnId conn, std::string_view code, std::string_view message,
                  std::string_view id_json = {}) {
    check(rtc_send_error(e(), conn, code.data(), code.size(), message.data(), message.size(),
                         id_json.empty() ? nullptr : id_json.data(), id_json.size()),
          "rtc_send_error");
  }
  void send_error(const Message& m, std::string_view code, std::string_view message) {
    send_error(m.conn, code, message, m.id_json);
  }

  void join(ConnId conn, std::string_view room) {
    check(rtc_join(e(), conn, room.data(), room.size()), "rtc_join");
  }
  void leave(ConnId conn, std::string_view room) {
    check(rtc_leave(e(), conn, room.data(), room.size()), "rtc_leave");
  }
  void disconnect(ConnId conn, uint32_t close_code = 1000) {
    check(rtc_disconnect(e(), conn, close_code), "rtc_disconnect");
  }
  void resolve_connect(uint64_t request_id, bool accept, int http_status = 403,
                       std::string_view user_id = {}) {
    check(rtc_connect_resolve(e(), request_id, accept ? 1 : 0, http_status,
                              user_id.empty() ? nullptr : user_id.data(), user_id.size()),
          "rtc_connect_resolve");
  }

 private:
  // Heap-held so its address, handed to the C handlers, survives a move.
  struct State {
    rtc_config config;
    rtc_handlers handlers;
    std::string host, redis_url, node_id;
    std::function<void(const ConnectRequest&, ConnectDecision&)> connect;
    std::function<void(ConnId, std::string_view)> open;
    std::function<void(ConnId, std::string_view, uint32_t)> disconnect;
    std::function<void(const Message&)> message;
    std::function<void(const PresenceEvent&)> presence;
  };

  Engine& keep(std::string& slot, std::string value, const char*& field) {
    slot = std::move(value);
    field = slot.c_str();
    return *this;
  }
  rtc_engine* e() const {
    if (!engine_) throw Error(RTC_ESTATE, "rtcore::Engine (not started)");
    return engine_;
  }

  std::unique_ptr<State> state_;
  rtc_engine* engine_ = nullptr;
};

}  // namespace rtcore

#endif  // RTCORE_HPP
