// The transport's own path (ws_server.hpp, docs/design/transport.md): a
// libuv TCP listener, the upgrade in one read and one write, frames read in
// place from one receive buffer shared by every connection, writes straight
// to the socket. What it does not take as it is goes to libwebsockets with
// the bytes already read, so both paths answer every request alike.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/guard.hpp"
#include "transport/upgrade_request.hpp"
#include "transport/upgrade_rules.hpp"
#include "transport/ws_internal.hpp"
#include "transport/ws_server.hpp"

namespace rtcore {

namespace {

// One receive buffer for all connections: a read is handed on (or held)
// before the next one, so no connection keeps a buffer of its own.
constexpr size_t kReadBufferSize = 64 * 1024;
// At most this much is read from one connection per loop turn: a client
// that sends faster than its messages fan out is read in turns with every
// other socket (and its input stays in the kernel, so TCP slows it down)
// rather than in one go that fills every recipient's queue at once.
constexpr size_t kReadPerTurn = 512;
// Bytes of pongs (and pings) held behind a write the socket has not taken
// yet; a client that keeps pinging without reading is dropped beyond it.
constexpr size_t kMaxQueuedControl = 64 * 1024;

uv_stream_t* stream(uv_tcp_t* tcp) {
  return reinterpret_cast<uv_stream_t*>(tcp);
}

}  // namespace

// Receives the frame reader's events for one connection.
struct WsServer::FrameSink {
  WsServer* server;
  OwnConn* c;

  bool go_on() const { return !c->paused && !c->killed && !c->closed && !c->peer_closed; }

  bool data(char* p, size_t n, bool first, bool final, bool binary, size_t remaining) {
    if (!c->conn || c->closing) return go_on();  // closing: input no longer matters
    bool ok = guarded(server->internal_errors(), "TransportEvents::on_receive",
                      [&] { server->events_.on_receive(c->conn, p, n, first, final, binary, remaining); });
    // As on the lws path: a throwing event closes only its connection.
    if (!ok) server->kill(c);
    return go_on();
  }

  bool control(uint8_t opcode, char* p, size_t n) {
    if (opcode == transport::kOpPing) {
      if (!c->closing) server->own_write_control(c, transport::kOpPong, p, n);
      return go_on();
    }
    if (opcode == transport::kOpPong) return go_on();  // life, counted per read
    // Close. A one-byte payload cannot hold a code: a protocol error.
    if (n == 1) {
      server->own_refuse_frames(c, 1002, "close frame with a one-byte payload");
      return false;
    }
    c->peer_closed = true;
    if (n >= 2 && c->conn) {
      auto code =
          static_cast<uint16_t>((static_cast<unsigned char>(p[0]) << 8) | static_cast<unsigned char>(p[1]));
      guarded(server->internal_errors(), "TransportEvents::on_peer_close",
              [&] { server->events_.on_peer_close(c->conn, code); });
    }
    // Our close frame went out already: this is the answer. Otherwise echo
    // the client's code (RFC 6455 section 5.5.1). The server closes the TCP
    // connection first, once the frame is out.
    if (!c->closing) {
      server->own_write_control(c, transport::kOpClose, p, std::min<size_t>(n, 2));
      c->closing = true;
    }
    uv_read_stop(stream(&c->tcp));
    server->own_close_when_flushed(c);
    return false;
  }
};

WsServer::OwnRare& WsServer::rare(OwnConn* c) {
  if (!c->rare) c->rare = std::make_unique<OwnRare>();
  return *c->rare;
}

int WsServer::listen_own(const sockaddr_in& addr) {
  read_buf_ = std::make_unique<char[]>(kReadBufferSize);
  due_idle_.data = this;
  uv_idle_init(loop_, &due_idle_);
  due_idle_open_ = true;
  listener_.data = this;
  uv_tcp_init(loop_, &listener_);
  listener_open_ = true;
  if (uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0) != 0) return -1;
  if (uv_listen(stream(&listener_), SOMAXCONN, &WsServer::on_own_connection) != 0) return -1;
  sockaddr_storage bound{};
  int len = sizeof bound;
  if (uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len) != 0) return -1;
  return ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

void WsServer::on_own_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<WsServer*>(listener->data);
  if (status < 0 || self->destroying_) return;
  guarded(self->internal_errors(), "accept", [&] {
    auto* c = new OwnConn();
    c->own = true;
    c->server = self;
    uv_tcp_init(self->loop_, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(listener, stream(&c->tcp)) != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp),
               [](uv_handle_t* h) { delete static_cast<OwnConn*>(h->data); });
      return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    c->all_next = self->own_all_;
    if (self->own_all_) self->own_all_->all_prev = c;
    self->own_all_ = c;
    c->heard_ms = uv_now(self->loop_);
    self->handshakes_.push_back(c);
    uv_read_start(stream(&c->tcp), &WsServer::on_own_alloc, &WsServer::on_own_read);
  });
}

void WsServer::on_own_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* c = static_cast<OwnConn*>(handle->data);
  buf->base = c->server->read_buf_.get();
  buf->len = c->phase == OwnConn::Phase::kOpen ? kReadPerTurn : kReadBufferSize;
}

void WsServer::on_own_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<OwnConn*>(s->data);
  WsServer* self = c->server;
  if (nread == 0 || c->closed) return;
  guarded(self->internal_errors(), "own transport read", [&] {
    if (nread < 0) return self->own_close(c);  // EOF or a reset: the peer is gone
    bool full = static_cast<size_t>(nread) == buf->len && c->phase == OwnConn::Phase::kOpen;
    self->own_input(c, buf->base, static_cast<size_t>(nread));
    // More may be waiting: the rest next turn (libuv would read on now).
    if (full && !c->closed && !c->killed && !c->peer_closed && !c->paused && !c->throttled) {
      c->throttled = true;
      uv_read_stop(s);
      self->own_schedule(c);
    }
  });
}

void WsServer::own_input(OwnConn* c, char* data, size_t len) {
  if (c->killed || c->peer_closed) return;
  if (c->phase == OwnConn::Phase::kHandshake) return own_handshake(c, data, len);
  if (c->paused) {
    // Read before the pause took effect: held for the resume.
    rare(c).in.append(data, len);
    return;
  }
  own_frames(c, data, len);
}

void WsServer::own_frames(OwnConn* c, char* data, size_t len) {
  // Any bytes of a frame count as life (docs/protocol.md section 5).
  if (c->conn) keepalive_touch(c);
  FrameSink sink{this, c};
  size_t used = c->reader.feed(data, len, sink);
  if (c->closed) return;
  if (const char* why = c->reader.failed()) return own_refuse_frames(c, 1002, why);
  // Stopped by a pause: hold the rest for the resume. (Killed or closing:
  // the rest no longer matters.)
  if (used < len && c->paused && !c->killed && !c->peer_closed) rare(c).in.append(data + used, len - used);
}

void WsServer::own_refuse_frames(OwnConn* c, uint16_t code, std::string_view why) {
  // A client that breaks the framing gets a close frame with the code and
  // the reason, and the socket closes once it is out (as lws does).
  uv_read_stop(stream(&c->tcp));
  if (!c->closing) {
    char payload[125];
    payload[0] = static_cast<char>(code >> 8);
    payload[1] = static_cast<char>(code & 0xFF);
    size_t n = std::min(why.size(), sizeof payload - 2);
    std::memcpy(payload + 2, why.data(), n);
    own_write_control(c, transport::kOpClose, payload, 2 + n);
    c->closing = true;
  }
  c->peer_closed = true;  // nothing more is read
  own_close_when_flushed(c);
}

void WsServer::own_handshake(OwnConn* c, char* data, size_t len) {
  std::string_view in(data, len);
  if (c->rare && !c->rare->in.empty()) {
    c->rare->in.append(data, len);
    in = c->rare->in;
  }
  transport::ParsedUpgrade req;
  switch (transport::parse_upgrade_request(in, req)) {
    case transport::RequestParse::kIncomplete:
      if (!c->rare || c->rare->in.empty()) rare(c).in.assign(data, len);
      return;
    case transport::RequestParse::kOther: return own_hand_to_lws(c, in);
    case transport::RequestParse::kUpgrade: break;
  }
  // lws would answer a subprotocol list it cannot take by dropping the
  // socket; its path refuses it with a reason (upgrade_rules.hpp): let it.
  if (!req.protocols.empty() && !transport::subprotocol_problem(req.protocols).empty())
    return own_hand_to_lws(c, in);
  if (std::string_view why = transport::ambiguous_path_user(req.path); !why.empty())
    return own_hand_to_lws(c, in);

  UpgradeRequest request;
  request.path = req.path;
  request.query = req.query;
  request.headers = std::move(req.headers);
  UpgradeDecision decision;
  bool ok = guarded(internal_errors(), "TransportEvents::on_upgrade",
                    [&] { decision = events_.on_upgrade(request); });
  if (!ok) return own_refuse(c, 500, "internal error");
  if (decision.http_status != 0) return own_refuse(c, decision.http_status, {});

  std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
      "Upgrade\r\nSec-WebSocket-Accept: ";
  response += transport::websocket_accept(req.key);
  response += "\r\n";
  if (!req.protocols.empty()) {
    response += "Sec-WebSocket-Protocol: ";
    response += transport::kSubprotocol;
    response += "\r\n";
  }
  response += "\r\n";
  // Bytes after the head: frames the client sent without waiting.
  std::string rest(in.substr(req.length));
  if (c->rare) c->rare->in.clear();
  if (!own_write(c, response.data(), response.size())) {
    guarded(internal_errors(), "TransportEvents::on_upgrade_abandoned",
            [&] { events_.on_upgrade_abandoned(decision); });
    return own_close(c);
  }
  handshakes_.remove(c);
  c->phase = OwnConn::Phase::kOpen;
  void* conn = nullptr;
  ok = guarded(internal_errors(), "TransportEvents::on_open",
               [&] { conn = events_.on_open(c, std::move(decision)); });
  if (!ok) {
    // No object, so no on_closed: the events undo what they kept.
    guarded(internal_errors(), "TransportEvents::on_open_failed", [&] { events_.on_open_failed(c); });
    return kill(c);
  }
  if (!conn) return kill(c);
  c->conn = conn;
  c->heard_ms = uv_now(loop_);
  keepalive_.push_back(c);
  if (!rest.empty()) own_input(c, rest.data(), rest.size());
}

void WsServer::own_hand_to_lws(OwnConn* c, std::string_view bytes) {
  // lws takes the socket as if it had accepted it, with what was read.
  std::string head(bytes);
  uv_os_fd_t fd = -1;
  int copy =
      uv_fileno(reinterpret_cast<uv_handle_t*>(&c->tcp), &fd) == 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
  own_close(c);
  if (copy >= 0) adopt_into_lws(copy, head);
}

void WsServer::own_refuse(OwnConn* c, int status, std::string_view reason) {
  // The same response as the lws path's refuse(): the body says why.
  char body[640];
  size_t body_len = transport::format_refusal_body(body, sizeof body, status, reason);
  char head[256];
  int head_len = snprintf(head, sizeof head,
                          "HTTP/1.1 %d %s\r\ncontent-type: text/plain\r\ncontent-length: %zu\r\nconnection: "
                          "close\r\n\r\n",
                          status, transport::http_status_text(status), body_len);
  std::string response(head, static_cast<size_t>(std::clamp(head_len, 0, static_cast<int>(sizeof head) - 1)));
  response.append(body, body_len);
  uv_read_stop(stream(&c->tcp));
  c->peer_closed = true;  // nothing more is read
  if (!own_write(c, response.data(), response.size())) return own_close(c);
  own_close_when_flushed(c);
}

bool WsServer::own_write(OwnConn* c, const char* data, size_t len) {
  if (c->closed) return false;
  if (c->rare && c->rare->writing) {
    // Only control frames get here (the engine writes once nothing is in
    // flight): pongs to a client that pings without reading. Bounded.
    if (c->rare->out_next.size() + len > kMaxQueuedControl) {
      kill(c);
      return false;
    }
    c->rare->out_next.append(data, len);
    return true;
  }
  uv_buf_t buf = uv_buf_init(const_cast<char*>(data), static_cast<unsigned int>(len));
  int n = uv_try_write(stream(&c->tcp), &buf, 1);
  if (n == UV_EAGAIN) n = 0;
  if (n < 0) {
    kill(c);
    return false;
  }
  if (static_cast<size_t>(n) == len) return true;
  // The kernel took part: the rest goes out when the socket drains.
  OwnRare& r = rare(c);
  r.out.assign(data + n, len - static_cast<size_t>(n));
  r.writing = true;
  r.wreq.data = c;
  uv_buf_t rest = uv_buf_init(r.out.data(), static_cast<unsigned int>(r.out.size()));
  if (uv_write(&r.wreq, stream(&c->tcp), &rest, 1, &WsServer::on_own_written) != 0) {
    r.writing = false;
    kill(c);
    return false;
  }
  return true;
}

void WsServer::own_write_control(OwnConn* c, uint8_t opcode, const char* payload, size_t len) {
  unsigned char frame[2 + 125];
  len = std::min<size_t>(len, 125);
  frame[0] = static_cast<unsigned char>(0x80 | opcode);
  frame[1] = static_cast<unsigned char>(len);
  if (len) std::memcpy(frame + 2, payload, len);
  own_write(c, reinterpret_cast<const char*>(frame), 2 + len);
}

void WsServer::on_own_written(uv_write_t* req, int status) {
  auto* c = static_cast<OwnConn*>(req->data);
  if (c->closed) return;  // cancelled by the close
  WsServer* self = c->server;
  guarded(self->internal_errors(), "own transport write", [&] {
    OwnRare& r = *c->rare;
    r.writing = false;
    if (status < 0) return self->kill(c);
    r.out.clear();
    if (!r.out_next.empty()) {
      // What was written meanwhile, in one more write.
      r.out.swap(r.out_next);
      r.writing = true;
      uv_buf_t rest = uv_buf_init(r.out.data(), static_cast<unsigned int>(r.out.size()));
      if (uv_write(&r.wreq, stream(&c->tcp), &rest, 1, &WsServer::on_own_written) != 0) {
        r.writing = false;
        self->kill(c);
      }
      return;
    }
    self->own_flushed(c);
  });
}

void WsServer::own_flushed(OwnConn* c) {
  // Everything is with the kernel again.
  if (c->close_when_flushed) return kill(c);
  if (c->ping_due && !c->closing) {
    c->ping_due = false;
    own_write_control(c, transport::kOpPing, "ka", 2);
  }
  if (c->write_wanted && c->conn && !c->killed) {
    c->write_wanted = false;
    void* conn = c->conn;
    if (!guarded(internal_errors(), "TransportEvents::on_writeable", [&] { events_.on_writeable(conn); }))
      kill(c);
  }
}

void WsServer::own_close_when_flushed(OwnConn* c) {
  if (c->rare && c->rare->writing) {
    c->close_when_flushed = true;
    return;
  }
  kill(c);
}

void WsServer::own_schedule(OwnConn* c) {
  if (c->due || c->closed) return;
  c->due = true;
  if (due_.empty() && due_idle_open_) uv_idle_start(&due_idle_, &WsServer::on_own_due);
  due_.push_back(c);
}

void WsServer::on_own_due(uv_idle_t* idle) {
  auto* self = static_cast<WsServer*>(idle->data);
  std::vector<OwnConn*> batch;
  batch.swap(self->due_);
  uv_idle_stop(idle);
  for (OwnConn* c : batch) {
    if (c->closed) continue;  // not freed before its close callback
    c->due = false;
    guarded(self->internal_errors(), "own transport", [&] {
      // Input held across a pause, now that reading resumed.
      if (c->throttled) {
        c->throttled = false;
        if (!c->paused && !c->killed && !c->peer_closed)
          uv_read_start(stream(&c->tcp), &WsServer::on_own_alloc, &WsServer::on_own_read);
      }
      if (!c->paused && c->rare && !c->rare->in.empty() && c->phase == OwnConn::Phase::kOpen && !c->killed) {
        std::string held = std::move(c->rare->in);
        c->rare->in.clear();
        self->own_frames(c, held.data(), held.size());
      }
      if (!c->closed && (!c->rare || !c->rare->writing)) self->own_flushed(c);
    });
  }
  // Reuse the batch's storage.
  if (self->due_.empty()) {
    batch.clear();
    self->due_.swap(batch);
  }
}

void WsServer::own_close(OwnConn* c) {
  if (c->closed) return;
  c->closed = true;
  // A link is in at most one list, and which one follows from the phase.
  (c->phase == OwnConn::Phase::kHandshake ? handshakes_ : keepalive_).remove(c);
  (c->all_prev ? c->all_prev->all_next : own_all_) = c->all_next;
  if (c->all_next) c->all_next->all_prev = c->all_prev;
  c->all_prev = c->all_next = nullptr;
  to_kill_.erase(std::remove(to_kill_.begin(), to_kill_.end(), static_cast<WsLink*>(c)), to_kill_.end());
  if (c->due) due_.erase(std::remove(due_.begin(), due_.end(), c), due_.end());
  if (void* conn = c->conn) {
    c->conn = nullptr;
    guarded(internal_errors(), "TransportEvents::on_closed", [&] { events_.on_closed(conn); });
  }
  // The handle's close callback frees the connection; a write in flight is
  // cancelled first (its callback sees closed).
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp),
           [](uv_handle_t* h) { delete static_cast<OwnConn*>(h->data); });
}

}  // namespace rtcore
