#include "engine/engine_core.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "auth/credentials.hpp"
#include "backplane/in_process.hpp"
#include "backplane/redis_backplane.hpp"
#include "metrics/render.hpp"
#include "common/guard.hpp"
#include "common/log.hpp"
#include "protocol/server_message.hpp"
#include "protocol/timestamp.hpp"
#include "protocol/validate.hpp"

namespace rtcore {
namespace {

using protocol::ErrorCode;

// Frames coalesced into one socket write (see STACK-NOTES: frames per
// send() decide fan-out cost).
constexpr size_t kCoalesceBytes = 64 * 1024;
// The reassembly buffer keeps at most this much capacity between messages.
constexpr size_t kKeptRxCapacity = 64 * 1024;
// Longest a queued frame waits for more to coalesce with (see flush_dirty).
constexpr uint64_t kMaxFlushDelayNs = 2'000'000;
// A deferred on_connect decision must arrive within this time.
constexpr uint64_t kConnectDecisionTimeoutMs = 10000;
constexpr uint16_t kCloseDecisionTimeout = 4408;
// Messages kept for a connection still waiting for its decision.
constexpr size_t kMaxHeldMessages = 64;
// Rate-limit violations within this window that close the connection.
constexpr uint64_t kViolationWindowMs = 10000;
constexpr uint32_t kViolationsBeforeClose = 100;

uint16_t seconds_from_ms(uint32_t ms) {
  uint32_t s = (ms + 999) / 1000;
  return static_cast<uint16_t>(s == 0 ? 1 : (s > 65535 ? 65535 : s));
}

}  // namespace

EngineCore::EngineCore(uv_loop_t* loop, const EngineConfig& config, const EngineHooks& hooks,
                       EngineStats& stats)
    : loop_(loop), config_(config), hooks_(hooks), stats_(stats) {}

EngineCore::~EngineCore() = default;

int EngineCore::start() {
  jwt_policy_.secret = config_.jwt_secret;
  jwt_policy_.leeway_s = config_.jwt_leeway_s;
  jwt_policy_.audience = config_.jwt_audience;
  jwt_policy_.issuer = config_.jwt_issuer;
  if (config_.redis_url.empty()) {
    backplane_ = std::make_unique<InProcessBackplane>(*this);
    stats_.backplane.connected.set(1);  // nothing to be disconnected from
  } else {
    RedisBackplaneOptions ro;
    std::string error;
    auto address = parse_redis_url(config_.redis_url, &error);
    if (!address) return -2;  // validated before the engine was created
    ro.address = std::move(*address);
    ro.prefix = config_.redis_prefix;
    ro.node_id = config_.node_id;
    ro.node_ttl_ms = config_.node_ttl_ms;
    ro.buffer_bytes = config_.redis_buffer_bytes;
    ro.connect_timeout_ms = config_.redis_connect_timeout_ms;
    ro.log_level = config_.log_level;
    backplane_ = std::make_unique<RedisBackplane>(loop_, std::move(ro), *this, stats_.backplane);
    // Each self-probe round trip (GET /readyz) feeds the histogram
    // rtcore_backplane_round_trip_seconds.
    backplane_->on_round_trip = [this](double seconds) { stats_.backplane.round_trip.observe(seconds); };
  }
  WsServerOptions opts;
  opts.host = config_.host;
  opts.port = config_.port;
  opts.ping_interval_s = seconds_from_ms(config_.ping_interval_ms);
  opts.ping_timeout_s = seconds_from_ms(config_.ping_timeout_ms);
  opts.max_message_size = config_.max_message_size;
  opts.log_level = config_.log_level;
  opts.handshake_timeout_s = seconds_from_ms(config_.handshake_timeout_ms);
  opts.expose_stats = config_.expose_stats;
  opts.tls_cert_file = config_.tls_cert_file;
  opts.tls_key_file = config_.tls_key_file;
  opts.internal_errors = &stats_.internal_errors;
  opts.internal_listen = config_.internal_listen;
  opts.internal_host = config_.internal_host;
  opts.internal_port = config_.internal_port;
  server_ = std::make_unique<WsServer>(loop_, opts, *this);
  stop_timer_.data = this;
  uv_timer_init(loop_, &stop_timer_);
  housekeeping_timer_.data = this;
  uv_timer_init(loop_, &housekeeping_timer_);
  join_timer_.data = this;
  uv_timer_init(loop_, &join_timer_);
  flush_check_.data = this;
  uv_check_init(loop_, &flush_check_);
  uv_idle_init(loop_, &flush_idle_);
  uv_timer_start(&housekeeping_timer_, &EngineCore::on_housekeeping, 1000, 1000);
  int port = server_->listen();
  if (port >= 0) backplane_->start();
  if (port < 0) {
    server_->begin_destroy();
    uv_close(reinterpret_cast<uv_handle_t*>(&stop_timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&housekeeping_timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&join_timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&flush_check_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&flush_idle_), nullptr);
  }
  return port;
}

// ---------------------------------------------------------------- stopping

void EngineCore::begin_stop(uint32_t timeout_ms, std::function<void()> on_quiet) {
  if (stopping_) return;
  stopping_ = true;
  on_quiet_ = std::move(on_quiet);
  // The stop timer first: whatever fails below, the deadline still ends
  // the loop (a stop that never finishes would hang the joining thread).
  stop_deadline_ms_ = uv_now(loop_) + timeout_ms;
  uv_timer_start(&stop_timer_, &EngineCore::on_stop_timer, 0, 10);
  // No per-connection deadline here: lws keeps timeouts in a sorted list,
  // so setting one on each of N connections costs O(N^2) (seconds at 15k).
  // The stop timer is the one deadline for all of them.
  conns_.for_each([&](Connection& c) {
    guarded(stats_.internal_errors, "stop", [&] { begin_close(c, 1001, "server shutting down", 0); });
  });
}

void EngineCore::on_stop_timer(uv_timer_t* timer) {
  auto* self = static_cast<EngineCore*>(timer->data);
  if (self->conns_.size() != 0 && uv_now(self->loop_) < self->stop_deadline_ms_) return;
  uv_timer_stop(timer);
  uv_close(reinterpret_cast<uv_handle_t*>(timer), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&self->housekeeping_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&self->join_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&self->flush_check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&self->flush_idle_), nullptr);
  self->dirty_.clear();
  // Each step on its own: one that throws must not keep the others (and
  // so the end of the loop) from happening.
  Counter& errors = self->stats_.internal_errors;
  // Whatever is still open is dropped here; lws reports each as closed.
  guarded(errors, "stop: transport", [&] { self->server_->begin_destroy(); });
  guarded(errors, "stop: backplane", [&] { self->backplane_->shutdown(); });
  guarded(errors, "stop: on_quiet", [&] {
    if (self->on_quiet_) self->on_quiet_();
  });
}

// ------------------------------------------------------------- transport

namespace {

std::string_view header_value(const UpgradeRequest& request, std::string_view name) {
  for (const auto& [n, v] : request.headers)
    if (n == name) return v;
  return {};
}

}  // namespace

UpgradeDecision EngineCore::on_upgrade(const UpgradeRequest& request) {
  UpgradeDecision out;
  out.http_status = check_upgrade(request, out.user_id);
  if (out.http_status != 0) {
    stats_.rejected_upgrades.add();
    return out;
  }
  if (!hooks_.on_connect) {
    reserve_user_slot(out.user_id);  // until on_open registers it
    return out;
  }
  ConnectRequest req{request.path, request.query, out.user_id, &request.headers, ++next_request_id_};
  ConnectDecision decision;
  decision.user_id = out.user_id;
  hooks_.on_connect(req, decision);
  if (decision.defer) {
    out.deferred = true;
    out.request_id = req.request_id;
    awaiting_open_[req.request_id] = uv_now(loop_) + kConnectDecisionTimeoutMs;
  } else if (!decision.accept) {
    out.http_status = decision.http_status >= 400 && decision.http_status <= 599 ? decision.http_status : 403;
  } else if (!protocol::is_valid_user_id(decision.user_id)) {
    out.http_status = 500;
  } else if (decision.user_id != out.user_id && user_limit_reached(decision.user_id)) {
    // The hook named another user: the limit is that user's.
    stats_.user_limit_refusals.add();
    out.http_status = 429;
  } else {
    out.user_id = std::move(decision.user_id);
  }
  if (out.http_status != 0) {
    stats_.rejected_upgrades.add();
    return out;
  }
  reserve_user_slot(out.user_id);  // until on_open registers it, or its decision
  return out;
}

size_t EngineCore::user_load(const std::string& user) const {
  auto it = reserved_.find(user);
  return hub_.user_connections(user).size() + (it == reserved_.end() ? 0 : it->second);
}

bool EngineCore::user_limit_reached(const std::string& user) const {
  return config_.max_connections_per_user != 0 && user_load(user) >= config_.max_connections_per_user;
}

void EngineCore::reserve_user_slot(const std::string& user) { ++reserved_[user]; }

void EngineCore::release_user_slot(const std::string& user) {
  auto it = reserved_.find(user);
  if (it != reserved_.end() && --it->second == 0) reserved_.erase(it);
}

void EngineCore::end_pending(Connection& c) {
  c.pending = false;
  if (c.reserved) {
    c.reserved = false;
    release_user_slot(c.user_id);
  }
}

int EngineCore::check_upgrade(const UpgradeRequest& request, std::string& user) {
  static constexpr std::string_view kPrefix = "/ws/";
  if (stopping_) return 503;
  // Cross-site WebSocket hijacking: a browser always sends Origin, and a
  // page from another site must not ride on the user's cookies.
  std::string_view origin = header_value(request, "origin");
  if (!config_.allowed_origins.empty() && !origin.empty() &&
      std::find(config_.allowed_origins.begin(), config_.allowed_origins.end(), origin) ==
          config_.allowed_origins.end()) {
    stats_.origin_refusals.add();
    return 403;
  }
  std::string_view path_user;
  if (request.path.substr(0, kPrefix.size()) == kPrefix) {
    path_user = request.path.substr(kPrefix.size());
    if (!protocol::is_valid_user_id(path_user)) return 400;
  } else if (request.path != "/ws") {
    return 404;
  }
  if (config_.auth_mode == EngineConfig::AuthMode::kJwtHs256) {
    std::string token = auth::find_token(request.query, header_value(request, "authorization"),
                                         header_value(request, "sec-websocket-protocol"));
    auth::JwtResult jwt = auth::verify_hs256(token, jwt_policy_, std::time(nullptr));
    // The token must prove the path's user id when both are given.
    if (!jwt.ok || (!path_user.empty() && path_user != jwt.subject)) {
      stats_.auth_failures.add();
      // The reason is one of verify_hs256's fixed phrases: never the token.
      if (log::enabled(log::Level::kInfo)) {
        std::string_view why = jwt.ok ? "sub does not match the path" : std::string_view(jwt.error);
        log::write(log::Level::kInfo, "upgrade_refused", "upgrade refused (401): " + std::string(why),
                   {{"status", 401}, {"reason", why}});
      }
      return 401;
    }
    user = std::move(jwt.subject);
  } else if (path_user.empty()) {
    return 400;
  } else {
    user.assign(path_user);
  }
  if (config_.max_connections != 0 && conns_.size() >= config_.max_connections) {
    stats_.connection_limit_refusals.add();
    return 503;
  }
  if (user_limit_reached(user)) {
    stats_.user_limit_refusals.add();
    return 429;
  }
  return 0;
}

void* EngineCore::on_open(lws* wsi, UpgradeDecision accepted) {
  // If anything here throws (a host's on_open hook, bad_alloc), the
  // transport closes the socket but never calls on_closed for it, since it
  // got no object: what was set up is undone here before the rethrow (the
  // transport counts the exception).
  Connection* c = nullptr;
  try {
    auto owned = std::make_unique<Connection>();
    owned->wsi = wsi;
    owned->user_id = accepted.user_id;
    owned->pending = accepted.deferred;
    owned->reserved = accepted.deferred;  // the upgrade's reservation moves to it
    c = owned.get();
    c->id = conns_.insert(std::move(owned));
  } catch (...) {
    release_user_slot(accepted.user_id);
    if (accepted.deferred) {
      awaiting_open_.erase(accepted.request_id);
      early_resolutions_.erase(accepted.request_id);
    }
    throw;
  }
  try {
    if (!accepted.deferred) {
      release_user_slot(c->user_id);  // the hub counts it from here on
      register_connection(*c);
      return c;
    }
    awaiting_open_.erase(accepted.request_id);
    c->request_id = accepted.request_id;
    c->pending_since_ms = uv_now(loop_);
    if (auto it = early_resolutions_.find(accepted.request_id); it != early_resolutions_.end()) {
      Resolution r = std::move(it->second);
      early_resolutions_.erase(it);
      apply_resolution(*c, r.accept, r.http_status, std::move(r.user_id));
    } else {
      pending_[accepted.request_id] = c->id;
      server_->pause_reading(wsi, true);
    }
    return c;
  } catch (...) {
    // As if it had closed: out of the hub, its rooms and pending maps, the
    // host told if it saw on_open, the reservation released.
    guarded(stats_.internal_errors, "undoing a failed open", [&] { on_closed(c); });
    throw;
  }
}

void EngineCore::on_upgrade_abandoned(const UpgradeDecision& accepted) {
  release_user_slot(accepted.user_id);
  if (!accepted.deferred) return;
  awaiting_open_.erase(accepted.request_id);
  early_resolutions_.erase(accepted.request_id);
}

void EngineCore::register_connection(Connection& c) {
  stats_.connections_total.add();
  c.last_message_ms = uv_now(loop_);
  bool first = hub_.add_user_connection(c.user_id, c.id);
  update_gauges();
  if (hooks_.on_open) hooks_.on_open(c.id, c.user_id);
  if (first) {
    backplane_->user_interest(c.user_id, true);
    backplane_->local_user_online(c.user_id);
  }
}

void EngineCore::resolve_connect(uint64_t request_id, bool accept, int http_status, std::string user_id) {
  if (auto it = pending_.find(request_id); it != pending_.end()) {
    ConnId id = it->second;
    pending_.erase(it);
    if (Connection* c = conns_.find(id))
      for_connection(*c, "connect decision",
                     [&] { apply_resolution(*c, accept, http_status, std::move(user_id)); });
    return;
  }
  // Not established yet: keep the decision for on_open. Unknown ids (the
  // client left, or the id was never issued) are ignored.
  if (awaiting_open_.count(request_id))
    early_resolutions_[request_id] = Resolution{accept, http_status, std::move(user_id)};
}

void EngineCore::apply_resolution(Connection& c, bool accept, int http_status, std::string user_id) {
  if (!c.pending || c.close_code) return;
  end_pending(c);
  // Checked again now, for the user the decision names: while it was
  // pending, other connections (renamed to this user, or not deferred)
  // may have been registered. Only registered ones count here: they are
  // what the limit bounds, and pending ones are checked at their turn.
  const std::string& user = user_id.empty() ? c.user_id : user_id;
  if (accept && config_.max_connections_per_user != 0 &&
      hub_.user_connections(user).size() >= config_.max_connections_per_user) {
    stats_.user_limit_refusals.add();
    accept = false;
    http_status = 429;
  }
  if (!accept) {
    stats_.rejected_upgrades.add();
    int status = http_status >= 400 && http_status <= 599 ? http_status : 403;
    // Read again, or the client's close reply is never seen and the
    // socket lingers until the close deadline.
    server_->pause_reading(c.wsi, false);
    begin_close(c, static_cast<uint16_t>(4000 + status), "connection refused");
    return;
  }
  if (!user_id.empty()) c.user_id = std::move(user_id);
  register_connection(c);
  server_->pause_reading(c.wsi, false);
  std::vector<std::string> held = std::move(c.held);
  for (const std::string& m : held) {
    if (c.close_code) break;
    handle_message(c, m, false);
  }
}

void EngineCore::on_housekeeping(uv_timer_t* timer) {
  auto* self = static_cast<EngineCore*>(timer->data);
  guarded(self->stats_.internal_errors, "housekeeping", [self] { self->housekeeping(); });
}

void EngineCore::housekeeping() {
  EngineCore* self = this;
  uint64_t now = uv_now(self->loop_);
  // The queued-bytes gauge, sampled: keeping it exact would cost the send
  // path a counter update per frame written.
  uint64_t queued = 0;
  conns_.for_each([&](Connection& c) { queued += c.queue.bytes(); });
  stats_.queued_bytes.set(queued);
  // Deferred decisions that never came: close with 4408.
  std::vector<ConnId> expired;
  for (const auto& [rid, id] : self->pending_)
    if (Connection* c = self->conns_.find(id); c && now - c->pending_since_ms >= kConnectDecisionTimeoutMs)
      expired.push_back(id);
  for (ConnId id : expired) {
    Connection* c = self->conns_.find(id);
    self->pending_.erase(c->request_id);
    for_connection(*c, "connect decision timeout", [&] {
      self->end_pending(*c);
      self->server_->pause_reading(c->wsi, false);
      self->begin_close(*c, kCloseDecisionTimeout, "connect decision timed out");
    });
  }
  // Closing connections past their deadline are dropped.
  while (!self->close_deadlines_.empty() && self->close_deadlines_.front().first <= now) {
    ConnId id = self->close_deadlines_.front().second;
    self->close_deadlines_.pop_front();
    if (Connection* c = self->conns_.find(id); c && !c->killed) {
      c->killed = true;
      self->server_->kill(c->wsi);
    }
  }
  // Deferred authorizations never answered are refusals.
  std::vector<uint64_t> overdue;
  for (const auto& [rid, id] : self->authz_pending_)
    if (Connection* c = self->conns_.find(id); c && now - c->authz_since_ms >= kConnectDecisionTimeoutMs)
      overdue.push_back(rid);
  for (uint64_t rid : overdue) self->resolve_authorization(rid, false);
  if (self->config_.idle_timeout_ms != 0) {
    std::vector<Connection*> idle;
    self->conns_.for_each([&](Connection& c) {
      if (!c.pending && !c.close_code && now - c.last_message_ms >= self->config_.idle_timeout_ms) idle.push_back(&c);
    });
    for (Connection* c : idle) {
      self->stats_.idle_closes.add();
      for_connection(*c, "idle close", [&] { self->begin_close(*c, 1000, "idle timeout"); });
    }
  }
  for (auto it = self->awaiting_open_.begin(); it != self->awaiting_open_.end();) {
    if (now >= it->second) {
      self->early_resolutions_.erase(it->first);
      it = self->awaiting_open_.erase(it);
    } else {
      ++it;
    }
  }
}

void EngineCore::on_receive(void* conn, const char* data, size_t len, bool, bool final, bool binary,
                            size_t remaining) {
  auto& c = *static_cast<Connection*>(conn);
  if (c.close_code) return;  // closing: input no longer matters
  if (c.pending && final && !c.rx_in_message && c.held.size() < kMaxHeldMessages && !binary) {
    // Read before reading was paused: keep it for after the decision.
    c.held.emplace_back(data, len);
    return;
  }
  if (c.pending) {
    begin_close(c, 1008, "message before the connection was accepted");
    return;
  }
  if (!c.rx_in_message) {
    c.rx_in_message = true;
    c.rx_binary = binary;
    c.rx.clear();
  }
  if (c.rx.size() + len + remaining > config_.max_message_size) {
    stats_.oversize_closes.add();
    begin_close(c, 1009, "message too big");
    return;
  }
  if (final && c.rx.empty()) {
    // The common case: the whole message in one chunk, parsed in place.
    c.rx_in_message = false;
    handle_message(c, std::string_view(data, len), c.rx_binary);
    return;
  }
  c.rx.append(data, len);
  if (!final) return;
  c.rx_in_message = false;
  handle_message(c, c.rx, c.rx_binary);
  // handle_message may have closed c, but c lives until on_closed.
  c.rx.clear();
  if (c.rx.capacity() > kKeptRxCapacity) c.rx.shrink_to_fit();
}

void EngineCore::on_writeable(void* conn) {
  auto& c = *static_cast<Connection*>(conn);
  c.write_requested = false;
  write_queued(c);
  if (!c.queue.empty()) return request_writeable(c);
  finish_close(c);
}

void EngineCore::finish_close(Connection& c) {
  if (!c.close_code || c.killed) return;
  if (server_->partially_sent(c.wsi)) return request_writeable(c);
  if (!c.close_sent) {
    c.close_sent = true;
    if (!server_->send_close_frame(c.wsi, c.close_code, c.close_reason)) return request_writeable(c);
  }
  // The close frame is out. Now the client answers with its own and lws
  // ends the connection; dropping the socket at once would reset it while
  // the client may still be sending, and a reset can destroy our close frame
  // in the client's receive buffer. The close deadline catches clients that
  // never answer.
}

void EngineCore::write_queued(Connection& c) {
  // Whole frames only, so lws's own pings and close frames can only ever
  // fall between frames; stop once lws holds a partial write (the socket
  // is full) and let its writeable callback continue.
  while (!c.queue.empty() && !server_->partially_sent(c.wsi)) {
    size_t need = c.queue.next_copy_size(kCoalesceBytes);
    if (write_buf_.size() < WsServer::kWritePrefix + need) write_buf_.resize(WsServer::kWritePrefix + need);
    unsigned char* out = write_buf_.data() + WsServer::kWritePrefix;
    size_t n = c.queue.take_into(out, kCoalesceBytes);
    if (!server_->write_raw(c.wsi, out, n)) return;
    stats_.bytes_out.add(n);
  }
}

void EngineCore::mark_dirty(Connection& c) {
  if (c.dirty) return;
  c.dirty = true;
  if (dirty_.empty()) {
    dirty_since_ns_ = uv_hrtime();
    uv_check_start(&flush_check_, [](uv_check_t* h) {
      auto* self = static_cast<EngineCore*>(h->data);
      guarded(self->stats_.internal_errors, "flush", [self] { self->flush_dirty(); });
    });
    uv_idle_start(&flush_idle_, [](uv_idle_t*) {});
  }
  dirty_.push_back(c.id);
}

void EngineCore::flush_dirty() {
  // While client messages keep arriving turn after turn (a burst: lws hands
  // over about one receive buffer per turn), wait for the input to pause, so
  // each connection gets many frames per send(); but never longer than
  // kMaxFlushDelayNs, and a lone message (chat rate) goes out on the very
  // next turn.
  bool busy = messages_this_turn_ != 0;
  messages_this_turn_ = 0;
  if (busy && uv_hrtime() - dirty_since_ns_ < kMaxFlushDelayNs) return;
  uv_check_stop(&flush_check_);
  uv_idle_stop(&flush_idle_);
  backplane_->flush_publishes();
  std::vector<ConnId> batch;
  batch.swap(dirty_);
  for (ConnId id : batch) {
    Connection* c = conns_.find(id);
    if (!c) continue;
    c->dirty = false;
    if (c->killed) continue;
    // lws will call on_writeable anyway, or holds unsent bytes: leave it
    // the queue rather than write around it.
    for_connection(*c, "flush", [&] {
      if (c->write_requested || server_->partially_sent(c->wsi)) return request_writeable(*c);
      write_queued(*c);
      if (!c->queue.empty())
        request_writeable(*c);
      else
        finish_close(*c);
    });
  }
  // Reuse the batch's storage next turn.
  if (dirty_.empty()) {
    batch.clear();
    dirty_.swap(batch);
  }
}

void EngineCore::on_peer_close(void* conn, uint16_t code) { static_cast<Connection*>(conn)->peer_close_code = code; }

void EngineCore::on_closed(void* conn) {
  auto& c = *static_cast<Connection*>(conn);
  if (c.authz_request) authz_pending_.erase(c.authz_request);
  if (c.pending || !hub_.is_user_connection(c.user_id, c.id)) {
    // Never registered (still pending, or refused): nothing to undo, and
    // the host never saw it open.
    pending_.erase(c.request_id);
    end_pending(c);
    conns_.erase(c.id);
    return;
  }
  while (!c.rooms.empty()) leave_room(c, std::string(c.rooms.back()));
  bool last = hub_.remove_user_connection(c.user_id, c.id);
  uint16_t code = c.close_code ? c.close_code : (c.peer_close_code ? c.peer_close_code : 1006);
  if (!c.close_code) stats_.closes_by_code[metrics::kClientClose].add();
  std::string user = std::move(c.user_id);
  ConnId id = c.id;
  stats_.drops.add(c.queue.frames());
  conns_.erase(id);  // destroys c
  update_gauges();
  if (hooks_.on_disconnect) hooks_.on_disconnect(id, user, code);
  if (last) {
    backplane_->user_interest(user, false);
    backplane_->local_user_offline(user);
  }
}

// -------------------------------------------------------------- messages

void EngineCore::handle_message(Connection& c, std::string_view text, bool binary, bool preauthorized) {
  if (c.authz_request != 0 && !preauthorized) {
    // An earlier message waits for the host: keep the order, within the
    // same byte budget as the connection's send queue.
    c.last_message_ms = uv_now(loop_);
    if (c.authz_held_bytes + text.size() > config_.max_send_queue_bytes)
      return begin_close(c, 1008, "too many messages awaiting authorization");
    c.authz_held_bytes += text.size();
    c.authz_held.emplace_back(std::string(text), binary);
    return;
  }
  ++messages_this_turn_;
  if (!preauthorized) {
    stats_.messages_in.add();
    c.last_message_ms = uv_now(loop_);
  }
  protocol::ParseResult r;
  if (!binary) r = protocol::parse_client_message(text);
  if (!preauthorized)
    stats_.messages_by_type[r.ok ? metrics::message_type_index(r.message.type_name,
                                                                 r.message.type == protocol::MessageType::kCustom)
                                 : metrics::kInvalidMessage]
        .add();
  // Every frame counts against the rate, malformed ones too: answering
  // errors is work a flood must not get for free.
  if (!preauthorized && !within_rate_limit(c))
    return send_error(c, ErrorCode::kRateLimited, "message rate limit exceeded", r.ok ? r.message.id_json : r.id_json);
  if (binary) return send_error(c, ErrorCode::kBadJson, "binary frames are not JSON", {});
  if (!r.ok) return send_error(c, r.error, r.error_message, r.id_json);
  const protocol::ClientMessage& m = r.message;
  if (!preauthorized && hooks_.on_authorize && !authorize(c, m, text)) return;
  switch (m.type) {
    case protocol::MessageType::kJoinRoom: return handle_join(c, m);
    case protocol::MessageType::kLeaveRoom: return handle_leave(c, m);
    case protocol::MessageType::kRoomMessage: return handle_room_message(c, m);
    case protocol::MessageType::kDirectMessage: return handle_direct_message(c, m);
    case protocol::MessageType::kPresence: return handle_presence_query(c, m);
    case protocol::MessageType::kOnline: return handle_online_query(c, m);
    case protocol::MessageType::kCustom:
      if (!hooks_.on_message)
        return send_error(c, ErrorCode::kUnknownType, "unknown message type", m.id_json);
      hooks_.on_message(c.id, c.user_id, m.type_name, text);
      return;
  }
}

bool EngineCore::within_rate_limit(Connection& c) {
  if (config_.rate_limit_per_s == 0) return true;
  uint64_t now = uv_now(loop_);
  double burst = std::max<double>(config_.rate_limit_burst, 1);
  if (c.rate_refill_ms == 0) {
    c.rate_tokens = burst;
  } else {
    c.rate_tokens = std::min(burst, c.rate_tokens + (now - c.rate_refill_ms) * config_.rate_limit_per_s / 1000.0);
  }
  c.rate_refill_ms = now;
  if (c.rate_tokens >= 1) {
    c.rate_tokens -= 1;
    return true;
  }
  stats_.rate_limited.add();
  // Persistent abuse: too many refused messages within the window closes
  // the connection (docs/protocol.md section 4), so a flood cannot keep the
  // engine busy answering errors forever.
  if (now - c.violation_window_ms > kViolationWindowMs) {
    c.violation_window_ms = now;
    c.violations = 0;
  }
  if (++c.violations >= kViolationsBeforeClose) {
    stats_.rate_limit_closes.add();
    begin_close(c, 1008, "rate limit exceeded persistently");
  }
  return false;
}

bool EngineCore::authorize(Connection& c, const protocol::ClientMessage& m, std::string_view text) {
  Action action;
  std::string_view target;
  switch (m.type) {
    case protocol::MessageType::kJoinRoom: action = Action::kJoinRoom, target = m.room; break;
    case protocol::MessageType::kRoomMessage: action = Action::kRoomMessage, target = m.room; break;
    case protocol::MessageType::kDirectMessage: action = Action::kDirectMessage, target = m.to; break;
    case protocol::MessageType::kPresence: action = Action::kPresence, target = m.room; break;
    case protocol::MessageType::kOnline: action = Action::kOnline; break;
    default: return true;  // leaving is always allowed; custom types go to the host anyway
  }
  uint64_t request_id = ++next_request_id_;
  switch (hooks_.on_authorize(c.id, c.user_id, action, target, request_id)) {
    case Verdict::kAllow: return true;
    case Verdict::kDeny:
      stats_.forbidden.add();
      send_error(c, ErrorCode::kForbidden, "not allowed", m.id_json);
      return false;
    case Verdict::kDefer: break;
  }
  c.authz_request = request_id;
  c.authz_since_ms = uv_now(loop_);
  c.authz_message.assign(text);
  authz_pending_[request_id] = c.id;
  return false;
}

void EngineCore::resolve_authorization(uint64_t request_id, bool allow) {
  auto it = authz_pending_.find(request_id);
  if (it == authz_pending_.end()) return;  // answered already, or the client left
  Connection* c = conns_.find(it->second);
  authz_pending_.erase(it);
  if (!c || c->authz_request != request_id) return;
  c->authz_request = 0;
  std::string message = std::move(c->authz_message);
  for_connection(*c, "authorization decision", [&] {
    if (!c->close_code) {
      if (allow) {
        handle_message(*c, message, false, /*preauthorized=*/true);
      } else {
        stats_.forbidden.add();
        send_error(*c, ErrorCode::kForbidden, "not allowed", protocol::parse_client_message(message).message.id_json);
      }
    }
    release_held_messages(*c);
  });
}

void EngineCore::release_held_messages(Connection& c) {
  while (c.authz_request == 0 && !c.authz_held.empty() && !c.close_code) {
    auto [text, binary] = std::move(c.authz_held.front());
    c.authz_held.pop_front();
    c.authz_held_bytes -= text.size();
    handle_message(c, text, binary);
  }
}

void EngineCore::handle_join(Connection& c, const protocol::ClientMessage& m) {
  if (!c.in_room(m.room) && config_.max_rooms_per_connection != 0 &&
      c.rooms.size() >= config_.max_rooms_per_connection)
    return send_error(c, ErrorCode::kTooManyRooms, "room limit reached for this connection", m.id_json);
  join_room(c, m.room);
  if (m.presence != protocol::ClientMessage::PresenceFlag::kAbsent)
    set_watching(c, m.room, m.presence == protocol::ClientMessage::PresenceFlag::kOn);
  // A watcher's ack also waits for the room's presence events to reach us,
  // so that every transition after the ack is seen.
  bool watching = m.presence == protocol::ClientMessage::PresenceFlag::kOn;
  auto when_ready = [this, watching, room = m.room](Backplane::Done done) {
    if (!watching) return backplane_->when_room_ready(room, std::move(done));
    backplane_->when_room_ready(room, [this, room, done = std::move(done)](bool ok) mutable {
      if (!ok) {
        if (done) done(false);
        return;
      }
      backplane_->when_room_presence_ready(room, std::move(done));
    });
  };
  // The ack waits until other nodes' messages to the room reach us too,
  // but not without bound: a Redis that stops answering must not leave the
  // client waiting forever. Past join_timeout_ms the answer is
  // `unavailable`; the membership stays (the subscription is still wanted
  // and takes effect when Redis confirms it), and that late confirmation
  // sends nothing more: exactly one answer per id.
  if (m.id_json.empty()) return;
  if (config_.join_timeout_ms == 0) return when_ready(ack_later(c.id, m.id_json));
  uint64_t token = ++next_join_token_;
  pending_joins_.emplace(token, PendingJoin{c.id, std::string(m.id_json)});
  when_ready([this, token](bool ok) { finish_join(token, ok, false); });
  if (!pending_joins_.count(token)) return;  // answered at once (already subscribed)
  join_deadlines_.emplace_back(uv_now(loop_) + config_.join_timeout_ms, token);
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&join_timer_))) arm_join_timer();
}

void EngineCore::finish_join(uint64_t token, bool ok, bool timed_out) {
  auto it = pending_joins_.find(token);
  if (it == pending_joins_.end()) return;  // answered already
  PendingJoin p = std::move(it->second);
  pending_joins_.erase(it);
  Connection* c = conns_.find(p.conn);
  if (!c) return;
  for_connection(*c, "join answer", [&] {
    if (ok)
      enqueue(*c, make_text_frame(protocol::encode_ack(p.id_json)), metrics::FrameKind::kAck);
    else if (timed_out)
      send_error(*c, ErrorCode::kUnavailable,
                 "the backplane did not confirm the room in time; the join takes effect when it does",
                 p.id_json);
    else
      send_error(*c, ErrorCode::kUnavailable, "the backplane could not subscribe to the room", p.id_json);
  });
}

void EngineCore::arm_join_timer() {
  if (join_deadlines_.empty() || stopping_) return;
  uint64_t now = uv_now(loop_), when = join_deadlines_.front().first;
  uv_timer_start(&join_timer_, &EngineCore::on_join_timer, when > now ? when - now : 0, 0);
}

void EngineCore::on_join_timer(uv_timer_t* timer) {
  auto* self = static_cast<EngineCore*>(timer->data);
  guarded(self->stats_.internal_errors, "join timeout", [self] {
    uint64_t now = uv_now(self->loop_);
    // Every deadline is join_timeout_ms after its join, so the deque is in
    // time order; tokens answered meanwhile are simply skipped.
    while (!self->join_deadlines_.empty() && self->join_deadlines_.front().first <= now) {
      uint64_t token = self->join_deadlines_.front().second;
      self->join_deadlines_.pop_front();
      self->finish_join(token, false, true);
    }
    self->arm_join_timer();
  });
}

void EngineCore::handle_leave(Connection& c, const protocol::ClientMessage& m) {
  leave_room(c, m.room);
  if (auto ack = ack_later(c.id, m.id_json)) ack(true);
}

void EngineCore::handle_room_message(Connection& c, const protocol::ClientMessage& m) {
  if (!config_.allow_post_without_join && !c.in_room(m.room))
    return send_error(c, ErrorCode::kNotInRoom, "join the room before posting to it", m.id_json);
  FramePtr frame = make_text_frame(
      protocol::encode_room_message(m.room, c.user_id, m.content_json, protocol::now_timestamp()));
  deliver_local_room(m.room, frame);
  backplane_->publish_to_room(m.room, frame, ack_later(c.id, m.id_json));
}

void EngineCore::handle_direct_message(Connection& c, const protocol::ClientMessage& m) {
  FramePtr frame =
      make_text_frame(protocol::encode_direct_message(c.user_id, m.content_json, protocol::now_timestamp()));
  deliver_local_user(m.to, frame);
  backplane_->publish_to_user(m.to, frame, ack_later(c.id, m.id_json));
}

void EngineCore::handle_presence_query(Connection& c, const protocol::ClientMessage& m) {
  // Members only: who is in a room is the room's business.
  if (!hub_.is_member(m.room, c.id))
    return send_error(c, ErrorCode::kForbidden, "join the room to see who is in it", m.id_json);
  room_members(m.room, 0, [this, conn = c.id, id = m.id_json, room = m.room](bool ok, std::vector<std::string> users,
                                                                             bool truncated) {
    Connection* c = conns_.find(conn);
    if (!c) return;
    for_connection(*c, "presence answer", [&] {
      if (!ok) return send_error(*c, ErrorCode::kUnavailable, "the backplane could not answer", id);
      enqueue(*c, make_text_frame(protocol::encode_presence_answer(id, room, users, truncated)));
    });
  });
}

void EngineCore::handle_online_query(Connection& c, const protocol::ClientMessage& m) {
  users_online(m.users, [this, conn = c.id, id = m.id_json, users = m.users](bool ok, std::vector<bool> online) {
    Connection* c = conns_.find(conn);
    if (!c) return;
    for_connection(*c, "online answer", [&] {
      if (!ok) return send_error(*c, ErrorCode::kUnavailable, "the backplane could not answer", id);
      enqueue(*c, make_text_frame(protocol::encode_online_answer(id, users, online)));
    });
  });
}

void EngineCore::room_members(std::string_view room, size_t limit, Presence::MembersFn fn) {
  backplane_->presence().room_members(room, limit ? limit : std::max<uint32_t>(config_.presence_limit, 1),
                                      std::move(fn));
}

void EngineCore::users_online(const std::vector<std::string>& users, Presence::OnlineFn fn) {
  backplane_->presence().users_online(users, std::move(fn));
}

// ---------------------------------------------------------------- rooms

bool EngineCore::join_room(Connection& c, std::string_view room) {
  bool first_member = false, first_of_user = false;
  if (!hub_.join(room, c.id, &first_member, c.user_id, &first_of_user)) return false;
  c.rooms.emplace_back(room);
  update_gauges();
  if (first_member) backplane_->room_interest(room, true);
  if (first_of_user) backplane_->presence().local_room_user_joined(room, c.user_id);
  return true;
}

void EngineCore::set_watching(Connection& c, std::string_view room, bool on) {
  bool edge = false;
  if (on ? hub_.watch(room, c.id, &edge) : hub_.unwatch(room, c.id, &edge))
    if (edge) backplane_->room_presence_interest(room, on);
}

void EngineCore::leave_room(Connection& c, std::string_view room) {
  set_watching(c, room, false);
  bool last_member = false, last_of_user = false;
  if (!hub_.leave(room, c.id, &last_member, c.user_id, &last_of_user)) return;
  if (last_of_user) backplane_->presence().local_room_user_left(room, c.user_id);
  for (auto it = c.rooms.begin(); it != c.rooms.end(); ++it) {
    if (*it == room) {
      c.rooms.erase(it);
      break;
    }
  }
  update_gauges();
  if (last_member) backplane_->room_interest(room, false);
}

void EngineCore::deliver_local_room(std::string_view room, const FramePtr& frame, metrics::FrameKind kind) {
  // Per recipient: a failure to queue for one (bad_alloc) closes that one,
  // the others still get the frame. No cost unless something throws.
  for (ConnId id : hub_.room_members(room))
    if (Connection* c = conns_.find(id)) for_connection(*c, "room delivery", [&] { enqueue(*c, frame, kind); });
}

void EngineCore::deliver_local_user(std::string_view user, const FramePtr& frame, metrics::FrameKind kind) {
  for (ConnId id : hub_.user_connections(user))
    if (Connection* c = conns_.find(id)) for_connection(*c, "user delivery", [&] { enqueue(*c, frame, kind); });
}

// ------------------------------------------------------------- sending

void EngineCore::enqueue(Connection& c, const FramePtr& frame, metrics::FrameKind kind) {
  if (c.close_code) {
    stats_.drops.add();
    return;
  }
  if (frame->size() > config_.max_send_queue_bytes) {
    // No queue could ever take it: the frame is dropped for this
    // recipient, which is not at fault and stays connected. (The C API
    // refuses such host sends with RTC_ETOOBIG; this catches the rest, e.g.
    // a client message under max_message_size but over this limit.)
    stats_.drops.add();
    return;
  }
  if (c.queue.bytes() + frame->size() > config_.max_send_queue_bytes) {
    // A slow consumer: drop what it has not taken and close it, so one
    // client never grows the server's memory or stalls the room.
    stats_.drops.add(c.queue.frames() + 1);
    stats_.slow_consumer_closes.add();
    begin_close(c, 1008, "slow consumer");
    return;
  }
  c.queue.push(frame);
  stats_.messages_out.add();
  stats_.frames_by_kind[static_cast<size_t>(kind)].add();
  mark_dirty(c);
}

void EngineCore::request_writeable(Connection& c) {
  if (c.write_requested) return;
  c.write_requested = true;
  server_->request_writeable(c.wsi);
}

void EngineCore::send_error(Connection& c, ErrorCode code, std::string_view message, std::string_view id_json) {
  stats_.errors_sent.add();
  enqueue(c, make_text_frame(protocol::encode_error(protocol::error_code_name(code), message, id_json)),
          metrics::FrameKind::kError);
}

Backplane::Done EngineCore::ack_later(ConnId conn, std::string_view id_json) {
  if (id_json.empty()) return {};
  return [this, conn, id = std::string(id_json)](bool ok) {
    Connection* c = conns_.find(conn);
    if (!c) return;
    if (ok)
      enqueue(*c, make_text_frame(protocol::encode_ack(id)), metrics::FrameKind::kAck);
    else
      send_error(*c, ErrorCode::kUnavailable, "the backplane could not take the message", id);
  };
}

void EngineCore::begin_close(Connection& c, uint16_t code, const char* reason, int deadline_s) {
  if (c.close_code) return;
  c.close_code = code;
  c.close_reason = reason;
  stats_.closes_by_code[metrics::close_code_index(code)].add();
  if (code == 1008 || code == 1009) c.queue.clear();  // abuse: do not flush
  c.rx.clear();
  c.rx.shrink_to_fit();
  mark_dirty(c);
  // A peer that never lets us write again, or never answers the close, is
  // dropped all the same. Our own queue, not lws's timeouts: all deadlines
  // are equally long, so the queue stays in time order at O(1) a close.
  if (deadline_s > 0) close_deadlines_.emplace_back(uv_now(loop_) + static_cast<uint64_t>(deadline_s) * 1000, c.id);
}

void EngineCore::fail_connection(Connection& c) noexcept {
  // Close code 1011: the server hit an unexpected condition. If even that
  // cannot be queued, the socket is dropped.
  if (!guarded(stats_.internal_errors, "closing after an internal error",
               [&] { begin_close(c, 1011, "internal error"); }) &&
      !c.killed) {
    c.killed = true;
    server_->kill(c.wsi);
  }
}

std::string EngineCore::stats_json() { return metrics::render_stats_json(stats_); }

std::string EngineCore::metrics_text() {
  return metrics::render_prometheus(stats_, metrics::Context{config_.node_id, backplane_ ? backplane_->kind() : ""});
}

ReadyState EngineCore::readiness() {
  // Answered by the listener itself, so "listening" holds here.
  if (stopping_) return {false, "stopping"};
  Readiness r = backplane_ ? backplane_->readiness() : Readiness{false, "starting"};
  return {r.ready, std::move(r.reason)};
}

void EngineCore::update_gauges() {
  stats_.connections.set(conns_.size());
  stats_.users.set(hub_.user_count());
  stats_.rooms.set(hub_.room_count());
}

// ------------------------------------------------------ server-side API

void EngineCore::send_to_user(std::string_view user, const FramePtr& frame) {
  deliver_local_user(user, frame, metrics::FrameKind::kHost);
  backplane_->publish_to_user(user, frame, {});
}

void EngineCore::send_error_frame(ConnId conn, const FramePtr& frame) {
  if (conns_.find(conn)) stats_.errors_sent.add();
  send_to_connection(conn, frame);
}

void EngineCore::send_to_connection(ConnId conn, const FramePtr& frame) {
  if (Connection* c = conns_.find(conn))
    enqueue(*c, frame);
  else
    stats_.drops.add();
}

void EngineCore::broadcast(std::string_view room, const FramePtr& frame) {
  deliver_local_room(room, frame, metrics::FrameKind::kHost);
  backplane_->publish_to_room(room, frame, {});
}

void EngineCore::join(ConnId conn, std::string_view room) {
  Connection* c = conns_.find(conn);
  if (!c || c->close_code || c->in_room(room)) return;
  join_room(*c, room);
}

void EngineCore::leave(ConnId conn, std::string_view room) {
  if (Connection* c = conns_.find(conn)) leave_room(*c, room);
}

void EngineCore::disconnect(ConnId conn, uint16_t code) {
  if (Connection* c = conns_.find(conn)) begin_close(*c, code, "closed by server");
}

void EngineCore::disconnect_user(std::string_view user, uint16_t code) {
  for (ConnId id : std::vector<ConnId>(hub_.user_connections(user))) disconnect(id, code);
}

// ------------------------------------------------------------- backplane

void EngineCore::deliver_to_room(std::string_view room, FramePtr frame) {
  ++messages_this_turn_;
  deliver_local_room(room, frame);
}

void EngineCore::deliver_to_user(std::string_view user, FramePtr frame) {
  ++messages_this_turn_;  // like deliver_to_room: a stream of them is coalesced too
  deliver_local_user(user, frame);
}

void EngineCore::presence_changed(std::string_view user, bool online, std::string_view timestamp) {
  if (hooks_.on_presence) hooks_.on_presence(user, online, timestamp);
}

void EngineCore::room_presence_changed(std::string_view room, std::string_view user, bool joined,
                                       std::string_view timestamp) {
  const std::vector<ConnId>& watchers = hub_.room_watchers(room);
  if (watchers.empty()) return;
  ++messages_this_turn_;
  // One frame per event, shared by every watcher. A connection is not told
  // about its own user: it knows, and its own join's event may be published
  // before its subscription is in place, which would make it arrive or not.
  FramePtr frame = make_text_frame(protocol::encode_room_presence_event(room, user, joined, timestamp));
  for (ConnId id : watchers)
    if (Connection* c = conns_.find(id); c && c->user_id != user)
      for_connection(*c, "room presence delivery", [&] { enqueue(*c, frame); });
}

}  // namespace rtcore
