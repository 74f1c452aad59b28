// libwebsockets glue: one lws context on the engine's libuv loop, HTTP
// (health check, upgrade refusals) and WebSocket callbacks turned into calls
// on a TransportEvents object. Knows nothing of rooms, users or JSON.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

struct lws;
struct lws_context;
struct lws_vhost;
struct lws_retry_bo;

namespace rtcore {

struct UpgradeRequest {
  std::string_view path;   // decoded and normalised by lws
  std::string_view query;  // arguments re-encoded, joined with '&'
  std::vector<std::pair<std::string_view, std::string_view>> headers;
};

// What GET /readyz answers: 200 "ready", or 503 with the reason.
struct ReadyState {
  bool ready = true;
  std::string reason;  // short, for operators ("redis: links down")
};

struct UpgradeDecision {
  int http_status = 0;  // 0 accepts; otherwise the refusal's status
  std::string user_id;  // when accepted
  // The host decides later; the socket is upgraded and held meanwhile.
  bool deferred = false;
  uint64_t request_id = 0;
};

// Receives transport events on the loop thread. `conn` is whatever on_open
// returned for that connection.
//
// An event may throw: WsServer catches it at the lws callback, counts it
// (WsServerOptions::internal_errors) and closes only the connection it was
// about; on_closed still runs for a connection that on_open returned. An
// upgrade whose on_upgrade threw is answered with HTTP 500.
class TransportEvents {
 public:
  virtual ~TransportEvents() = default;
  virtual UpgradeDecision on_upgrade(const UpgradeRequest& request) = 0;
  // A WebSocket is established; returns the per-connection object, or
  // nullptr to drop the connection.
  virtual void* on_open(lws* wsi, UpgradeDecision accepted) = 0;
  // on_open threw: the transport never got an object for wsi, so on_closed
  // will not run for it. Whatever on_open had already set up for wsi must
  // be undone here (or on_open must undo it before it throws). The
  // connection is closed afterwards.
  virtual void on_open_failed(lws* /*wsi*/) {}
  // An accepted upgrade died before it was established.
  virtual void on_upgrade_abandoned(const UpgradeDecision& accepted) = 0;
  // A chunk of a client message. remaining is what lws says is left of the
  // current frame; first/final mark message boundaries.
  virtual void on_receive(void* conn, const char* data, size_t len, bool first, bool final, bool binary,
                          size_t remaining) = 0;
  virtual void on_writeable(void* conn) = 0;
  virtual void on_peer_close(void* conn, uint16_t code) = 0;
  virtual void on_closed(void* conn) = 0;
  // The transport itself refused an upgrade (before on_upgrade) with this
  // HTTP status: a request the engine never saw.
  virtual void on_transport_refusal(int /*http_status*/) {}
  // The body of GET /stats (JSON), when the options expose it.
  virtual std::string stats_json() { return "{}"; }
  // GET /readyz: whether the node can do its job now.
  virtual ReadyState readiness() { return {}; }
  // The body of GET /metrics (Prometheus text exposition, version 0.0.4);
  // empty: /metrics answers 404.
  virtual std::string metrics_text() { return {}; }
};

struct Counter;

struct WsServerOptions {
  // Counts exceptions caught at lws callbacks (common/guard.hpp); may be
  // null. Not owned; outlives the server.
  Counter* internal_errors = nullptr;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  uint16_t ping_interval_s = 30;
  uint16_t ping_timeout_s = 30;
  size_t max_message_size = 1 << 20;
  int log_level = 1;  // 0 errors, 1 warnings, 2 info, 3 debug
  uint32_t handshake_timeout_s = 10;
  bool expose_stats = false;  // GET /stats answers TransportEvents::stats_json()
  // A second vhost, plain HTTP on internal_host:internal_port (0: a free
  // port), serving /metrics, /readyz, /stats and /healthz and refusing
  // upgrades (404). The public port then answers 404 for /metrics, /readyz
  // and /stats.
  bool internal_listen = false;
  std::string internal_host;
  uint16_t internal_port = 0;
  std::string tls_cert_file, tls_key_file;  // both set: wss:// (TLS 1.2+)
};

class WsServer {
 public:
  WsServer(uv_loop_t* loop, WsServerOptions options, TransportEvents& events);
  ~WsServer();
  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  // Creates the context and listens. Returns the bound port, or -1.
  int listen();
  // The internal listener's bound port; 0 without one.
  uint16_t internal_port() const { return internal_port_; }

  // Asks for an on_writeable call for wsi.
  void request_writeable(lws* wsi);
  // True while lws holds unsent bytes of an earlier write for wsi (it
  // flushes them before the next writeable callback).
  bool partially_sent(lws* wsi) const;
  // Sends len bytes of ready-made frames. buf must have kWritePrefix bytes
  // of writable headroom before it. Returns false if the socket failed.
  bool write_raw(lws* wsi, unsigned char* buf, size_t len);
  // Writes a close frame (code, reason) after whatever was written before;
  // true when it is all with the kernel (if not, lws flushes the rest before
  // the next writeable callback). The client's answering close ends the
  // connection; kill() is for clients that never answer.
  bool send_close_frame(lws* wsi, uint16_t code, std::string_view reason);
  // Drops the connection on the next loop turn.
  void kill(lws* wsi);
  // Takes an already-accepted TCP socket whose first bytes (head: the HTTP
  // upgrade request, and anything after it) were read by someone else, as
  // if the public listener had accepted it: the same handshake, upgrade
  // rules, events and limits follow. Owns fd from the call on: closes it
  // itself when it cannot take it. False when lws no longer holds the
  // socket on return: not taken (no context, tearing down, a TLS listener,
  // lws failed), or answered and closed within the call (a refused
  // upgrade). True does not mean the upgrade will be accepted. Loop thread
  // only.
  bool adopt(int fd, std::string_view head);
  // Stops or resumes reading from the peer (lws buffers what it had).
  void pause_reading(lws* wsi, bool paused);

  // First pass of destruction, from a loop callback; the second pass runs
  // in the destructor after uv_run returned.
  void begin_destroy();

  static const size_t kWritePrefix;

  // lws's protocol callback, routed here through a trampoline (the reason
  // enum cannot be named in this header).
  static int callback(lws* wsi, int reason, void* user, void* in, size_t len);

 private:
  int on_confirm_upgrade(lws* wsi);
  int on_http(lws* wsi, const char* uri);
  int respond(lws* wsi, int status, const char* content_type, std::string_view body);
  bool on_internal_vhost(lws* wsi) const;
  // Answers an upgrade with an HTTP error; a reason becomes part of the
  // body ("400 Bad Request: <reason>").
  void refuse(lws* wsi, int status, std::string_view reason = {}) noexcept;
  static void on_kill_timer(uv_timer_t* timer);
  // Keepalive (docs/protocol.md section 5), kept here rather than by lws:
  // lws keeps each connection's validity timer in one sorted list and
  // inserts by walking it, O(connections) per connect (BENCHMARKS.md). Here
  // every established connection is in a list ordered by its last received
  // frame, so a frame moves it to the back in O(1) and the sweep looks only
  // at the front.
  struct Session;
  void keepalive_link(Session* s);
  void keepalive_unlink(Session* s);
  void keepalive_touch(Session* s);
  void keepalive_sweep();
  static void on_keepalive_timer(uv_timer_t* timer);
  // The callback's body; callback() runs it through guarded().
  static int dispatch(WsServer* self, lws* wsi, int reason, void* user, void* in, size_t len);
  // What callback() returns (and does) after dispatch threw.
  int after_exception(lws* wsi, int reason) noexcept;
  Counter& internal_errors() noexcept;

  uv_loop_t* loop_;
  WsServerOptions options_;
  TransportEvents& events_;
  lws_context* context_ = nullptr;
  lws_vhost* vhost_ = nullptr;
  lws_vhost* internal_vhost_ = nullptr;
  uint16_t internal_port_ = 0;
  std::unique_ptr<lws_retry_bo> retry_;  // lws keeps a pointer to it
  // User ids accepted at upgrade time, keyed by the HTTP wsi, until the
  // WebSocket is established (lws keeps the same wsi across the upgrade).
  std::unordered_map<lws*, UpgradeDecision> accepted_;
  // Connections to drop after their close frame was queued (STACK-NOTES:
  // killing from a 0 ms timer lets the close frame go out first).
  std::vector<lws*> to_kill_;
  uv_timer_t kill_timer_{};
  bool kill_timer_open_ = false;
  bool destroying_ = false;  // begin_destroy ran: nothing more is adopted
  Session* keepalive_head_ = nullptr;  // least recently heard from
  Session* keepalive_tail_ = nullptr;
  uv_timer_t keepalive_timer_{};
  bool keepalive_timer_open_ = false;
};

}  // namespace rtcore
