#include "transport/ws_server.hpp"

#include <libwebsockets.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <climits>
#include <cstring>
#include <mutex>

#include <unistd.h>

#include "common/guard.hpp"
#include "common/log.hpp"
#include "loop/descriptor_table.hpp"
#include "transport/upgrade_request.hpp"
#include "transport/upgrade_rules.hpp"
#include "transport/ws_internal.hpp"

namespace rtcore {

const size_t WsServer::kWritePrefix = LWS_PRE;

namespace {

// Sends are coalesced up to this size; lws caps each send() at the
// protocol's tx_packet_size, so both must agree (STACK-NOTES).
constexpr size_t kTxPacketSize = 64 * 1024;
// lws allocates an rx buffer of this size for every connection, idle or
// not: it was most of an idle connection's memory at 4 KiB. Larger messages
// simply arrive in more chunks (the engine reassembles them).
constexpr size_t kRxBufferSize = 512;

}  // namespace

namespace {

std::string copy_header(lws* wsi, lws_token_indexes token) {
  int len = lws_hdr_total_length(wsi, token);
  if (len <= 0) return {};
  std::string out(static_cast<size_t>(len) + 1, '\0');
  int n = lws_hdr_copy(wsi, out.data(), len + 1, token);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

// lws decodes the query and keeps each argument as a fragment, so the raw
// text is gone. Rebuild an equivalent query: each name and value
// percent-encoded again (unreserved characters kept), joined with '&', so a
// decoded '&' or '=' inside a value cannot split it.
using transport::append_query_part;

std::string copy_query(lws* wsi) {
  std::string out;
  char buf[4096];
  for (int i = 0;; ++i) {
    int n = lws_hdr_copy_fragment(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0) break;
    std::string_view arg(buf, static_cast<size_t>(n));
    if (!out.empty()) out.push_back('&');
    size_t eq = arg.find('=');
    append_query_part(out, arg.substr(0, eq));
    if (eq != std::string_view::npos) {
      out.push_back('=');
      append_query_part(out, arg.substr(eq + 1));
    }
  }
  return out;
}

// lws's tokens for transport::kForwardedHeaders, in the same order.
constexpr lws_token_indexes kForwardedTokens[] = {
    WSI_TOKEN_HOST,
    WSI_TOKEN_ORIGIN,
    WSI_TOKEN_HTTP_AUTHORIZATION,
    WSI_TOKEN_HTTP_COOKIE,
    WSI_TOKEN_HTTP_USER_AGENT,
    WSI_TOKEN_PROTOCOL,
    WSI_TOKEN_X_FORWARDED_FOR,
};
static_assert(std::size(kForwardedTokens) == transport::kForwardedHeaders.size());

// Exceptions caught at callbacks of a server whose options name no counter,
// or of a wsi that has no server.
Counter g_unowned_internal_errors;
// guarded()'s result when the callback threw; no callback returns it.
constexpr int kThrew = INT_MIN;

// libwebsockets' emit callback. lws logs on the thread that called into
// it, which is always an engine thread (lws runs only on engine loops), so
// the line reaches that engine's logger (common/log.hpp), whichever engine
// installed the callback; lines are scrubbed of anything like a credential
// first (lws may print URIs, headers or peer data at its verbose levels).
void emit_lws_line(int level, const char* line) {
  // lws 4.1.6 reports every readbuf adoption (WsServer::adopt) at error
  // level ("adopt_socket_readbuf: calling service"): routine, not an error.
  if ((level & LLL_ERR) && line && std::strstr(line, "adopt_socket_readbuf: ")) level = LLL_DEBUG;
  log::Level l = (level & LLL_ERR)      ? log::Level::kError
                 : (level & LLL_WARN)   ? log::Level::kWarn
                 : (level & LLL_NOTICE) ? log::Level::kInfo
                                        : log::Level::kDebug;
  const log::Logger& logger = log::Logger::current();
  if (!logger.enabled(l) || !line) return;
  try {
    std::string clean = log::redact(line);
    // Plain text to stderr keeps lws's own format (its timestamp prefix).
    if (logger.plain_stderr())
      lwsl_emit_stderr(level, clean.c_str());
    else
      logger.write(l, "lws", clean);
  } catch (...) {
  }
}

// lws's log mask is process-wide (STACK-NOTES): it is the union of what
// every engine of the process asked for; each engine's logger then drops
// what is above its own level.
void install_lws_logging(int log_level) {
  static constexpr int kLwsLevels[] = {LLL_ERR, LLL_ERR | LLL_WARN, LLL_ERR | LLL_WARN | LLL_NOTICE,
                                       LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO};
  static std::mutex mu;
  static int mask = 0;
  std::lock_guard lock(mu);
  mask |= kLwsLevels[std::clamp(log_level, 0, 3)];
  lws_set_log_level(mask, &emit_lws_line);
}

int lws_trampoline(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  return WsServer::callback(wsi, reason, user, in, len);
}

// Loads the certificate and key into a scratch context first, so a bad
// file is reported as such rather than as a failure to listen.
bool tls_files_load(const std::string& cert, const std::string& key) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return false;
  bool ok = SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) == 1 &&
            SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) == 1 &&
            SSL_CTX_check_private_key(ctx) == 1;
  SSL_CTX_free(ctx);
  return ok;
}

}  // namespace

WsServer::WsServer(uv_loop_t* loop, WsServerOptions options, TransportEvents& events)
    : loop_(loop), options_(std::move(options)), events_(events) {}

WsServer::~WsServer() {
  // Second pass (STACK-NOTES): after uv_run returned, finish the context.
  if (context_) lws_context_destroy(context_);
}

int WsServer::listen() {
  static const lws_protocols kProtocols[] = {
      {"rtcore.v1", &lws_trampoline, sizeof(Session), kRxBufferSize, 0, nullptr, kTxPacketSize},
      {nullptr, nullptr, 0, 0, 0, nullptr, 0},
  };
  // lws's own keepalive is off (a hangup of 0 disables its validity timers):
  // keepalive_sweep() does it, without lws's O(connections) timer inserts.
  retry_ = std::make_unique<lws_retry_bo_t>();
  retry_->secs_since_valid_ping = 0;
  retry_->secs_since_valid_hangup = 0;

  // Debian's build would log every connection at INFO otherwise.
  install_lws_logging(options_.log_level);
  // Before the first accept: no 10-15 ms stall per doubling of the
  // descriptor table under a connection storm (loop/descriptor_table.hpp).
  if (options_.descriptor_reserve) reserve_descriptor_table(options_.descriptor_reserve);

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  void* loops[] = {loop_};
  // No LWS_SERVER_OPTION_VALIDATE_UTF8: lws would close with 1007, while
  // the protocol answers invalid UTF-8 with bad_json and keeps the socket.
  // Explicit vhosts: when the default vhost fails to bind inside
  // lws_create_context, lws frees the context while its libuv handles are
  // still open on our loop (a use-after-free in uv_run). Creating the vhost
  // ourselves leaves a valid context to tear down in the usual two passes.
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  info.foreign_loops = loops;
  info.port = options_.port;
  info.iface = options_.host.c_str();
  info.protocols = kProtocols;
  info.user = this;
  info.retry_and_idle_policy = retry_.get();
  // lws sizes its fd table from `ulimit -n`, which an embedding host may
  // have raised to millions; give it a bound of our own.
  info.fd_limit_per_thread = 1u << 18;
  // Bounds the HTTP phase (request headers, upgrade) of every connection:
  // a client that opens a socket and sends nothing is dropped.
  info.timeout_secs = options_.handshake_timeout_s;
  // A connection that has sent nothing (or a partial request) holds a
  // header table; this is the deadline that actually drops it.
  info.timeout_secs_ah_idle = options_.handshake_timeout_s;
  if (!options_.tls_cert_file.empty()) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = options_.tls_cert_file.c_str();
    info.ssl_private_key_filepath = options_.tls_key_file.c_str();
    // TLS 1.2 and newer only, and for TLS 1.2 forward-secret AEAD suites
    // only (TLS 1.3 suites are all of that kind already).
    info.ssl_options_set = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
    info.ssl_cipher_list =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
    if (!tls_files_load(options_.tls_cert_file, options_.tls_key_file)) return -3;
  }
  info.pt_serv_buf_size = 16 * 1024;
  kill_timer_.data = this;
  uv_timer_init(loop_, &kill_timer_);
  kill_timer_open_ = true;
  sweep_timer_.data = this;
  uv_timer_init(loop_, &sweep_timer_);
  sweep_timer_open_ = true;
  // The own path serves the public port where it can: plain TCP on an IPv4
  // address (lws also takes interface names, and serves TLS).
  sockaddr_in own_addr{};
  const bool own = options_.own_transport && options_.tls_cert_file.empty() &&
                   uv_ip4_addr(options_.host.c_str(), options_.port, &own_addr) == 0;
  // A quarter of the ping interval (at most 1 s): pings go out at most that
  // late, and a silent peer is closed at most that late. The own path's
  // handshake deadline needs the sweep too.
  if (options_.ping_interval_s > 0 || own) {
    uint64_t period = options_.ping_interval_s > 0
                          ? std::clamp<uint64_t>(options_.ping_interval_s * 250ull, 100, 1000)
                          : 1000;
    uv_timer_start(&sweep_timer_, &WsServer::on_sweep_timer, period, period);
  }
  context_ = lws_create_context(&info);
  if (!context_) return -1;
  int port = -1;
  if (own) {
    // lws still gets the public vhost, without a socket of its own: the
    // own path hands it what it does not serve itself (and adopt() uses it).
    lws_context_creation_info no_listen = info;
    no_listen.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    no_listen.iface = nullptr;
    vhost_ = lws_create_vhost(context_, &no_listen);
    if (!vhost_) return -1;
    port = listen_own(own_addr);
  } else {
    vhost_ = lws_create_vhost(context_, &info);
    port = vhost_ ? lws_get_vhost_listen_port(vhost_) : -1;
  }
  if (port <= 0) return -1;
  if (options_.internal_listen) {
    // Same context and loop, its own port; plain HTTP even when the public
    // port is TLS (it is meant for a private network or loopback).
    lws_context_creation_info internal = info;
    internal.port = options_.internal_port;
    internal.iface = options_.internal_host.c_str();
    internal.vhost_name = "rtcore-internal";
    internal.options &= ~static_cast<uint64_t>(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT);
    internal.ssl_cert_filepath = nullptr;
    internal.ssl_private_key_filepath = nullptr;
    internal.ssl_cipher_list = nullptr;
    internal.ssl_options_set = 0;
    internal_vhost_ = lws_create_vhost(context_, &internal);
    int internal_port = internal_vhost_ ? lws_get_vhost_listen_port(internal_vhost_) : -1;
    if (internal_port <= 0) return -1;
    internal_port_ = static_cast<uint16_t>(internal_port);
  }
  return port;
}

bool WsServer::on_internal_vhost(lws* wsi) const {
  return internal_vhost_ && lws_get_vhost(wsi) == internal_vhost_;
}

void WsServer::LinkList::push_back(WsLink* l) {
  l->prev = tail;
  l->next = nullptr;
  (tail ? tail->next : head) = l;
  tail = l;
  l->linked = true;
}

void WsServer::LinkList::remove(WsLink* l) {
  if (!l->linked) return;
  (l->prev ? l->prev->next : head) = l->next;
  (l->next ? l->next->prev : tail) = l->prev;
  l->prev = l->next = nullptr;
  l->linked = false;
}

void WsServer::request_writeable(WsLink* link) {
  if (!link->own) return void(lws_callback_on_writable(static_cast<Session*>(link)->wsi));
  auto* c = static_cast<OwnConn*>(link);
  if (c->closed || c->killed) return;
  c->write_wanted = true;
  // Once the socket took what is in flight, or on the next loop turn.
  if (!c->rare || !c->rare->writing) own_schedule(c);
}

bool WsServer::partially_sent(WsLink* link) const {
  if (!link->own) return lws_partial_buffered(static_cast<Session*>(link)->wsi) != 0;
  auto* c = static_cast<OwnConn*>(link);
  return c->rare && c->rare->writing;
}

bool WsServer::write_raw(WsLink* link, unsigned char* buf, size_t len) {
  // Ready-made, unmasked frames go out unchanged in one send(); the unsent
  // rest is kept and flushed before the next writeable callback.
  if (link->own) return own_write(static_cast<OwnConn*>(link), reinterpret_cast<const char*>(buf), len);
  return lws_write(static_cast<Session*>(link)->wsi, buf, len, LWS_WRITE_RAW) >= 0;
}

void WsServer::keepalive_touch(WsLink* l) {
  l->heard_ms = uv_now(loop_);
  l->pinged = false;
  if (l->linked && l != keepalive_.tail) {
    keepalive_.remove(l);
    keepalive_.push_back(l);
  }
}

void WsServer::send_ping(WsLink* l) {
  // With a payload: lws passes a pong to LWS_CALLBACK_RECEIVE_PONG only
  // when it carries one (an empty pong never reaches us).
  if (!l->own) {
    l->ping_due = true;
    lws_callback_on_writable(static_cast<Session*>(l)->wsi);
    return;
  }
  auto* c = static_cast<OwnConn*>(l);
  // Between whole frames: after whatever is in flight.
  if (c->rare && c->rare->writing) {
    c->ping_due = true;
  } else {
    own_write_control(c, transport::kOpPing, "ka", 2);
  }
}

void WsServer::sweep() {
  const uint64_t now = uv_now(loop_);
  // The own path's handshakes, oldest first: a client that sends no
  // complete request in time is dropped without an answer (as lws does).
  const uint64_t handshake_ms = options_.handshake_timeout_s * 1000ull;
  while (handshakes_.head && now - handshakes_.head->heard_ms >= handshake_ms)
    own_close(static_cast<OwnConn*>(handshakes_.head));
  if (options_.ping_interval_s == 0) return;
  const uint64_t ping_ms = options_.ping_interval_s * 1000ull;
  const uint64_t hangup_ms = ping_ms + options_.ping_timeout_s * 1000ull;
  // Front to back is oldest to newest heard_ms: stop at the first one that
  // needs nothing yet. Those pinged and waiting stay at the front until they
  // answer or time out.
  for (WsLink* l = keepalive_.head; l;) {
    WsLink* next = l->next;
    uint64_t silent = now - l->heard_ms;
    if (silent < ping_ms) break;
    if (silent >= hangup_ms) {
      // Silent through ping and timeout: dropped without a close frame (the
      // peer is gone), as lws's own keepalive did.
      keepalive_.remove(l);
      kill(l);
    } else if (!l->pinged && !l->closing) {
      l->pinged = true;
      send_ping(l);
    }
    l = next;
  }
}

void WsServer::on_sweep_timer(uv_timer_t* timer) {
  auto* self = static_cast<WsServer*>(timer->data);
  guarded(self->internal_errors(), "keepalive timer", [&] { self->sweep(); });
}

bool WsServer::send_close_frame(WsLink* link, uint16_t code, std::string_view reason) {
  // We write the close frame ourselves, like any other frame. Asking lws to
  // (lws_close_reason) makes it arm a close-send and a close-ack timeout per
  // connection, and lws keeps timeouts in a sorted list: closing 15k
  // connections at shutdown took seconds.
  reason = reason.substr(0, 123);  // a control frame carries at most 125 bytes
  unsigned char buf[LWS_PRE + 2 + 125];
  unsigned char* frame = buf + LWS_PRE;
  frame[0] = 0x88;  // FIN + close
  frame[1] = static_cast<unsigned char>(2 + reason.size());
  frame[2] = static_cast<unsigned char>(code >> 8);
  frame[3] = static_cast<unsigned char>(code & 0xFF);
  std::memcpy(frame + 4, reason.data(), reason.size());
  if (!write_raw(link, frame, 4 + reason.size())) return false;
  // Nothing may follow a close frame, pings included.
  link->closing = true;
  return !partially_sent(link);
}

void WsServer::kill(WsLink* link) {
  // From a 0 ms timer, never from inside a callback (STACK-NOTES: a close
  // started inside one runs twice on this build; and the engine's object
  // must outlive the call it is in). With no close reason stored, lws
  // closes at once instead of sending a frame of its own.
  if (link->own) {
    auto* c = static_cast<OwnConn*>(link);
    if (c->closed || c->killed) return;
    c->killed = true;
  }
  to_kill_.push_back(link);
  if (kill_timer_open_) uv_timer_start(&kill_timer_, &WsServer::on_kill_timer, 0, 0);
}

bool WsServer::adopt(int fd, std::string_view head) {
  // An adopted socket is plain TCP: a TLS vhost would start a TLS handshake
  // on it. The public vhost only: the internal one serves no upgrades.
  if (!options_.tls_cert_file.empty()) {
    ::close(fd);
    return false;
  }
  return adopt_into_lws(fd, head);
}

bool WsServer::adopt_into_lws(int fd, std::string_view head) {
  if (!context_ || !vhost_ || destroying_) {
    ::close(fd);
    return false;
  }
  // lws 4.1.6 (lib/core-net/adopt.c) queues head on the wsi's buflist,
  // which is read before the socket, attaches a header table and services
  // the wsi at once (with libuv nothing else would: no new bytes may ever
  // arrive). The upgrade callbacks may therefore run inside this call. On
  // any failure lws closes fd itself; a NULL result also means that the
  // request was answered and closed already (a refusal), which the
  // callbacks have counted.
  lws* wsi = lws_adopt_socket_vhost_readbuf(vhost_, fd, head.data(), head.size());
  return wsi != nullptr;
}

void WsServer::pause_reading(WsLink* link, bool paused) {
  if (!link->own) return void(lws_rx_flow_control(static_cast<Session*>(link)->wsi, paused ? 0 : 1));
  auto* c = static_cast<OwnConn*>(link);
  if (c->closed || c->paused == paused) return;
  c->paused = paused;
  if (paused) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
    return;
  }
  if (c->killed || c->peer_closed) return;
  if (c->throttled) return;  // reading restarts from the idle handle next turn
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), &WsServer::on_own_alloc, &WsServer::on_own_read);
  // What was read before the pause is handed on from the idle handle, not
  // from inside the engine's call.
  if (c->rare && !c->rare->in.empty()) own_schedule(c);
}

void WsServer::on_kill_timer(uv_timer_t* timer) {
  auto* self = static_cast<WsServer*>(timer->data);
  // A libuv callback: nothing may unwind into libuv either.
  guarded(self->internal_errors(), "kill timer", [&] {
    std::vector<WsLink*> batch;
    batch.swap(self->to_kill_);
    for (WsLink* l : batch) {
      if (l->own)
        self->own_close(static_cast<OwnConn*>(l));
      else
        lws_set_timeout(static_cast<Session*>(l)->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
    }
  });
}

void WsServer::begin_destroy() {
  destroying_ = true;
  if (kill_timer_open_) {
    kill_timer_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&kill_timer_), nullptr);
  }
  if (sweep_timer_open_) {
    sweep_timer_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&sweep_timer_), nullptr);
  }
  // The own path: no new connections; every open one is reported closed,
  // as lws does for its own below.
  if (listener_open_) {
    listener_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  }
  while (own_all_) own_close(own_all_);
  if (due_idle_open_) {
    due_idle_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&due_idle_), nullptr);
  }
  to_kill_.clear();
  if (context_) lws_context_destroy(context_);
}

void WsServer::refuse(lws* wsi, int status, std::string_view reason) noexcept {
  // Fixed buffers only: this also answers for a callback that threw, where
  // the cause may have been a failed allocation.
  unsigned char buf[LWS_PRE + 1024];
  unsigned char* start = buf + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = buf + sizeof buf - 1;
  char status_line[64];
  int n = snprintf(status_line, sizeof status_line, "HTTP/1.1 %d %s", status,
                   transport::http_status_text(status));
  // The body says why, so a client library that only shows the response
  // (or a developer with curl) sees what to change.
  char body[640];
  int body_len = static_cast<int>(transport::format_refusal_body(body, sizeof body, status, reason));
  char length[16];
  int length_len = snprintf(length, sizeof length, "%d", body_len);
  // lws_add_http_header_status would write HTTP/1.0 here: write our own
  // status line as a header with no name (STACK-NOTES).
  if (lws_add_http_header_by_name(wsi, nullptr, reinterpret_cast<unsigned char*>(status_line), n, &p, end) ||
      lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>("content-type:"),
                                  reinterpret_cast<const unsigned char*>("text/plain"), 10, &p, end) ||
      lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>("content-length:"),
                                  reinterpret_cast<unsigned char*>(length), length_len, &p, end) ||
      lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>("connection:"),
                                  reinterpret_cast<const unsigned char*>("close"), 5, &p, end) ||
      lws_finalize_http_header(wsi, &p, end) || end - p < body_len)
    return;
  std::memcpy(p, body, static_cast<size_t>(body_len));
  p += body_len;
  lws_write(wsi, start, static_cast<size_t>(p - start), LWS_WRITE_HTTP);
}

int WsServer::on_confirm_upgrade(lws* wsi) {
  // The internal listener serves HTTP only.
  if (on_internal_vhost(wsi)) {
    refuse(wsi, 404, "no WebSocket on the internal listener");
    events_.on_transport_refusal(404);
    return -1;
  }
  // lws ends the URI at a percent-decoded CR and skips the rest of the
  // request line, so "/ws/a%0Db" would arrive as "/ws/a". Such a request
  // line has no HTTP version token left: refuse it as a bad user id.
  if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP) <= 0) {
    refuse(wsi, 400, "a percent-encoded CR or LF in the path");
    events_.on_transport_refusal(400);
    return -1;
  }
  std::string path = copy_header(wsi, WSI_TOKEN_GET_URI);
  // Checked here, before the engine reads the user id: lws already turned
  // a '+' into a space and kept no raw path (upgrade_rules.hpp).
  if (std::string_view why = transport::ambiguous_path_user(path); !why.empty()) {
    refuse(wsi, 400, why);
    events_.on_transport_refusal(400);
    return -1;
  }
  // lws checks the subprotocol list only after this callback, and answers a
  // list it cannot take by closing the socket without a word: refuse it
  // here with a status and the way out instead.
  std::string subprotocols = copy_header(wsi, WSI_TOKEN_PROTOCOL);
  if (std::string_view why = transport::subprotocol_problem(subprotocols); !why.empty()) {
    refuse(wsi, 400, why);
    events_.on_transport_refusal(400);
    return -1;
  }
  std::string query = copy_query(wsi);
  std::vector<std::string> values;
  values.reserve(std::size(kForwardedTokens));
  UpgradeRequest req;
  req.path = path;
  req.query = query;
  for (size_t i = 0; i < std::size(kForwardedTokens); ++i) {
    values.push_back(copy_header(wsi, kForwardedTokens[i]));
    if (!values.back().empty()) req.headers.emplace_back(transport::kForwardedHeaders[i], values.back());
  }
  UpgradeDecision decision = events_.on_upgrade(req);
  if (decision.http_status != 0) {
    refuse(wsi, decision.http_status);
    return -1;  // refused: lws closes the socket after the response
  }
  accepted_[wsi] = std::move(decision);
  return 0;
}

int WsServer::on_http(lws* wsi, const char* uri) {
  std::string_view path = uri ? uri : "";
  if (path == "/healthz") return respond(wsi, HTTP_STATUS_OK, "text/plain", "ok\n");
  // With an internal listener, /readyz, /metrics and /stats live there
  // only; without one, on the public port (/stats only when exposed).
  bool internal = on_internal_vhost(wsi);
  if (internal || !options_.internal_listen) {
    if (path == "/readyz") {
      ReadyState r = events_.readiness();
      return r.ready ? respond(wsi, HTTP_STATUS_OK, "text/plain", "ready\n")
                     : respond(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "text/plain", r.reason + "\n");
    }
    if (path == "/metrics") {
      std::string text = events_.metrics_text();
      if (!text.empty())
        return respond(wsi, HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", text);
    }
    if (path == "/stats" && (internal || options_.expose_stats))
      return respond(wsi, HTTP_STATUS_OK, "application/json", events_.stats_json());
  }
  lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, nullptr);
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int WsServer::respond(lws* wsi, int status, const char* content_type, std::string_view body) {
  std::vector<unsigned char> buf(LWS_PRE + 512 + body.size());
  unsigned char* start = buf.data() + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = buf.data() + buf.size() - 1;
  if (lws_add_http_common_headers(wsi, static_cast<unsigned int>(status), content_type, body.size(), &p,
                                  end) ||
      lws_finalize_http_header(wsi, &p, end))
    return -1;
  std::memcpy(p, body.data(), body.size());
  p += body.size();
  if (lws_write(wsi, start, static_cast<size_t>(p - start), LWS_WRITE_HTTP_FINAL) < 0) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

Counter& WsServer::internal_errors() noexcept {
  return options_.internal_errors ? *options_.internal_errors : g_unowned_internal_errors;
}

int WsServer::callback(lws* wsi, int reason, void* user, void* in, size_t len) {
  lws_context* ctx = lws_get_context(wsi);
  auto* self = ctx ? static_cast<WsServer*>(lws_context_user(ctx)) : nullptr;
  Counter& errors = self ? self->internal_errors() : g_unowned_internal_errors;
  // No exception may unwind into lws (common/guard.hpp).
  int result = guarded(errors, "libwebsockets callback", kThrew,
                       [&] { return dispatch(self, wsi, reason, user, in, len); });
  return result != kThrew ? result : (self ? self->after_exception(wsi, reason) : -1);
}

int WsServer::after_exception(lws* wsi, int reason) noexcept {
  switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      // Nothing was written yet (each refusal returns right after its
      // response) and nothing was kept for this wsi: answer, then close.
      refuse(wsi, 500, "internal error");
      return -1;
    case LWS_CALLBACK_HTTP:
      // on_http writes only once its body is complete, so nothing went out.
      lws_return_http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, nullptr);
      return -1;
    case LWS_CALLBACK_ESTABLISHED:
      // on_open threw, so it returned no object and lws will have none to
      // pass to on_closed: the events may still hold state for wsi.
      guarded(internal_errors(), "TransportEvents::on_open_failed", [&] {
        if (auto* slot = static_cast<Session*>(lws_wsi_user(wsi))) events_.on_open_failed(slot);
      });
      return -1;
    default:
      // A connection's callback: -1 makes lws close only that connection,
      // and LWS_CALLBACK_CLOSED then hands its object to on_closed.
      return -1;
  }
}

int WsServer::dispatch(WsServer* self, lws* wsi, int reason, void* user, void* in, size_t len) {
  auto* slot = static_cast<Session*>(user);
  switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      if (!self || !in || std::strcmp(static_cast<const char*>(in), "websocket") != 0) return -1;
      return self->on_confirm_upgrade(wsi);

    case LWS_CALLBACK_HTTP: return self ? self->on_http(wsi, static_cast<const char*>(in)) : -1;

    case LWS_CALLBACK_ESTABLISHED: {
      if (!self || !slot) return -1;
      auto it = self->accepted_.find(wsi);
      if (it == self->accepted_.end()) return -1;
      UpgradeDecision accepted = std::move(it->second);
      self->accepted_.erase(it);
      slot->wsi = wsi;
      slot->conn = self->events_.on_open(slot, std::move(accepted));
      if (!slot->conn) return -1;
      slot->heard_ms = uv_now(self->loop_);
      self->keepalive_.push_back(slot);
      return 0;
    }

    case LWS_CALLBACK_RECEIVE_PONG:
      if (self && slot && slot->conn) self->keepalive_touch(slot);
      return 0;

    case LWS_CALLBACK_RECEIVE:
      if (self && slot && slot->conn) self->keepalive_touch(slot);
      if (self && slot && slot->conn)
        self->events_.on_receive(slot->conn, static_cast<const char*>(in), len, lws_is_first_fragment(wsi),
                                 lws_is_final_fragment(wsi), lws_frame_is_binary(wsi),
                                 lws_remaining_packet_payload(wsi));
      return 0;

    case LWS_CALLBACK_SERVER_WRITEABLE:
      if (self && slot && slot->conn && slot->ping_due && !slot->closing) {
        // Between whole frames (the engine writes only whole ones), once
        // lws has nothing of an earlier write left; otherwise next time.
        if (lws_partial_buffered(wsi)) {
          lws_callback_on_writable(wsi);
        } else {
          // With a payload: lws passes a pong to LWS_CALLBACK_RECEIVE_PONG
          // only when it carries one (an empty pong never reaches us).
          unsigned char ping[LWS_PRE + 4] = {};
          ping[LWS_PRE] = 0x89;  // FIN + ping
          ping[LWS_PRE + 1] = 2;
          ping[LWS_PRE + 2] = 'k';
          ping[LWS_PRE + 3] = 'a';
          slot->ping_due = false;
          if (lws_write(wsi, ping + LWS_PRE, 4, LWS_WRITE_RAW) < 0) return -1;
        }
      }
      if (self && slot && slot->conn) self->events_.on_writeable(slot->conn);
      return 0;

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (self && slot && slot->conn && len >= 2) {
        auto* b = static_cast<const unsigned char*>(in);
        self->events_.on_peer_close(slot->conn, static_cast<uint16_t>((b[0] << 8) | b[1]));
      }
      return 0;

    case LWS_CALLBACK_CLOSED:
      if (self && slot) self->keepalive_.remove(slot);
      if (self && slot && slot->conn) {
        void* conn = slot->conn;
        slot->conn = nullptr;
        self->events_.on_closed(conn);
      }
      return 0;

    case LWS_CALLBACK_WSI_DESTROY:
      if (self && slot) self->keepalive_.remove(slot);
      if (self) {
        // First, so that a throwing event below cannot leave a dangling
        // link for the kill timer.
        auto& k = self->to_kill_;
        if (slot) k.erase(std::remove(k.begin(), k.end(), static_cast<WsLink*>(slot)), k.end());
        if (auto it = self->accepted_.find(wsi); it != self->accepted_.end()) {
          UpgradeDecision abandoned = std::move(it->second);
          self->accepted_.erase(it);
          self->events_.on_upgrade_abandoned(abandoned);
        }
      }
      return 0;

    default: return lws_callback_http_dummy(wsi, static_cast<lws_callback_reasons>(reason), user, in, len);
  }
}

}  // namespace rtcore
