// The transport: WebSocket connections and the HTTP endpoints on the
// engine's libuv loop, turned into calls on a TransportEvents object. Knows
// nothing of rooms, users or JSON.
//
// Two paths carry connections (docs/design/transport.md):
// - its own (own_transport.cpp): a libuv TCP listener, a strict parser for
//   the plain form of the upgrade request, a frame reader, writes straight
//   to the socket. Plain-TCP public listeners on an IPv4 address use it.
// - libwebsockets (ws_server.cpp): everything else. TLS listeners, the
//   internal listener, adopted sockets, and every request the own path does
//   not take as it is (plain HTTP such as /healthz, unusual upgrade forms),
//   which it hands to lws with the bytes already read.
// The engine sees one interface either way: a WsLink per connection.
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

#include "loop/descriptor_table.hpp"

struct lws;
struct lws_context;
struct lws_vhost;
struct lws_retry_bo;

namespace rtcore {

// One connection's handle, whichever path carries it (opaque outside the
// transport; valid from on_open until on_closed or on_open_failed returns).
struct WsLink;

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
  virtual void* on_open(WsLink* link, UpgradeDecision accepted) = 0;
  // on_open threw: the transport never got an object for wsi, so on_closed
  // will not run for it. Whatever on_open had already set up for wsi must
  // be undone here (or on_open must undo it before it throws). The
  // connection is closed afterwards.
  virtual void on_open_failed(WsLink* /*link*/) {}
  // An accepted upgrade died before it was established.
  virtual void on_upgrade_abandoned(const UpgradeDecision& accepted) = 0;
  // A chunk of a client message. remaining is what is left of the current
  // frame's payload; first/final mark message boundaries.
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
  // The own path for the public listener where it can serve it (plain TCP,
  // host an IPv4 address); false: libwebsockets for everything (tests
  // compare the two).
  bool own_transport = true;
  // Descriptor table slots reserved before the first accept
  // (loop/descriptor_table.hpp; capped by the soft RLIMIT_NOFILE); 0: none.
  size_t descriptor_reserve = kDescriptorReserve;
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

  // Asks for an on_writeable call for link.
  void request_writeable(WsLink* link);
  // True while the transport holds unsent bytes of an earlier write (it
  // flushes them before the next writeable callback).
  bool partially_sent(WsLink* link) const;
  // Sends len bytes of ready-made frames. buf must have kWritePrefix bytes
  // of writable headroom before it. Returns false if the socket failed.
  bool write_raw(WsLink* link, unsigned char* buf, size_t len);
  // Writes a close frame (code, reason) after whatever was written before;
  // true when it is all with the kernel (if not, the transport flushes the
  // rest before the next writeable callback). The client's answering close ends the
  // connection; kill() is for clients that never answer.
  bool send_close_frame(WsLink* link, uint16_t code, std::string_view reason);
  // Drops the connection on the next loop turn.
  void kill(WsLink* link);
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
  // Stops or resumes reading from the peer (what was read already is held
  // and handed on after the resume).
  void pause_reading(WsLink* link, bool paused);

  // First pass of destruction, from a loop callback; the second pass runs
  // in the destructor after uv_run returned.
  void begin_destroy();

  static const size_t kWritePrefix;

  // lws's protocol callback, routed here through a trampoline (the reason
  // enum cannot be named in this header).
  static int callback(lws* wsi, int reason, void* user, void* in, size_t len);

 private:
  struct Session;  // an lws connection's per-session memory (a WsLink)
  struct OwnConn;  // a connection on the own path (a WsLink)
  struct OwnRare;  // its rarely needed parts, allocated on demand
  struct FrameSink;
  // An intrusive list of links (the keepalive order, the own path's
  // handshakes in accept order).
  struct LinkList {
    WsLink* head = nullptr;
    WsLink* tail = nullptr;
    void push_back(WsLink* l);
    void remove(WsLink* l);
  };

  // ---- the lws path (ws_server.cpp)
  int on_confirm_upgrade(lws* wsi);
  int on_http(lws* wsi, const char* uri);
  int respond(lws* wsi, int status, const char* content_type, std::string_view body);
  bool on_internal_vhost(lws* wsi) const;
  // Answers an upgrade with an HTTP error; a reason becomes part of the
  // body ("400 Bad Request: <reason>").
  void refuse(lws* wsi, int status, std::string_view reason = {}) noexcept;
  // Gives lws a socket with the bytes already read from it (false: lws no
  // longer holds it on return).
  bool adopt_into_lws(int fd, std::string_view head);
  static void on_kill_timer(uv_timer_t* timer);
  // The callback's body; callback() runs it through guarded().
  static int dispatch(WsServer* self, lws* wsi, int reason, void* user, void* in, size_t len);
  // What callback() returns (and does) after dispatch threw.
  int after_exception(lws* wsi, int reason) noexcept;
  Counter& internal_errors() noexcept;

  // ---- keepalive, both paths (docs/protocol.md section 5), kept here
  // rather than by lws: lws keeps each connection's validity timer in one
  // sorted list and inserts by walking it, O(connections) per connect
  // (BENCHMARKS.md). Here every established connection is in a list
  // ordered by its last received frame, so a frame moves it to the back in
  // O(1) and the sweep looks only at the front.
  void keepalive_touch(WsLink* l);
  void sweep();  // keepalive and the own path's handshake deadline
  static void on_sweep_timer(uv_timer_t* timer);
  void send_ping(WsLink* l);

  // ---- the own path (own_transport.cpp)
  int listen_own(const sockaddr_in& addr);
  static void on_own_connection(uv_stream_t* listener, int status);
  static void on_own_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_own_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_own_written(uv_write_t* req, int status);
  static void on_own_due(uv_idle_t* idle);
  void own_input(OwnConn* c, char* data, size_t len);
  void own_handshake(OwnConn* c, char* data, size_t len);
  void own_upgrade(OwnConn* c, std::string_view request, size_t head_length);
  void own_frames(OwnConn* c, char* data, size_t len);
  void own_hand_to_lws(OwnConn* c, std::string_view bytes);
  void own_refuse(OwnConn* c, int status, std::string_view reason);
  // A client broke the framing: a close frame with code and why, then the socket closes.
  void own_refuse_frames(OwnConn* c, uint16_t code, std::string_view why);
  bool own_write(OwnConn* c, const char* data, size_t len);
  void own_write_control(OwnConn* c, uint8_t opcode, const char* payload, size_t len);
  void own_flushed(OwnConn* c);
  void own_close_when_flushed(OwnConn* c);
  void own_schedule(OwnConn* c);
  // Closes now: on_closed for its object, the socket, then the memory.
  void own_close(OwnConn* c);
  OwnRare& rare(OwnConn* c);

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
  std::vector<WsLink*> to_kill_;
  uv_timer_t kill_timer_{};
  bool kill_timer_open_ = false;
  bool destroying_ = false;  // begin_destroy ran: nothing more is adopted
  LinkList keepalive_;       // front: least recently heard from
  uv_timer_t sweep_timer_{};
  bool sweep_timer_open_ = false;

  // The own path.
  uv_tcp_t listener_{};
  bool listener_open_ = false;
  LinkList handshakes_;         // own connections before their upgrade, oldest first
  OwnConn* own_all_ = nullptr;  // every own connection (for shutdown)
  std::vector<OwnConn*> due_;   // writeable requests and resumed input, served from the idle handle
  uv_idle_t due_idle_{};
  bool due_idle_open_ = false;
  std::unique_ptr<char[]> read_buf_;  // one receive buffer for every own connection
};

}  // namespace rtcore
