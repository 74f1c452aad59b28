#include "engine/engine_core.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include <unistd.h>

#include "auth/credentials.hpp"
#include "backplane/in_process.hpp"
#include "backplane/redis_backplane.hpp"
#include "common/guard.hpp"
#include "common/log.hpp"
#include "engine/engine_internal.hpp"
#include "metrics/render.hpp"
#include "protocol/server_message.hpp"
#include "protocol/timestamp.hpp"
#include "protocol/validate.hpp"

namespace rtcore {

using namespace engine_detail;

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

void EngineCore::reserve_user_slot(const std::string& user) {
  ++reserved_[user];
}

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

bool EngineCore::adopt_socket(int fd, std::string_view head) {
  if (server_) return server_->adopt(fd, head);
  ::close(fd);
  return false;
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

void* EngineCore::on_open(WsLink* link, UpgradeDecision accepted) {
  // If anything here throws (a host's on_open hook, bad_alloc), the
  // transport closes the socket but never calls on_closed for it, since it
  // got no object: what was set up is undone here before the rethrow (the
  // transport counts the exception).
  Connection* c = nullptr;
  try {
    auto owned = std::make_unique<Connection>();
    owned->link = link;
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
      server_->pause_reading(link, true);
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
  if (first) {
    backplane_->user_interest(c.user_id, true);
    follow_stream(StreamKind::kUser, c.user_id);
    backplane_->local_user_online(c.user_id);
  }
  // The host hook last: if it throws, on_open's undo takes the user offline
  // again, and that offline then follows an online that was announced.
  if (hooks_.on_open) hooks_.on_open(c.id, c.user_id);
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
    server_->pause_reading(c.link, false);
    begin_close(c, static_cast<uint16_t>(4000 + status), "connection refused");
    return;
  }
  if (!user_id.empty()) c.user_id = std::move(user_id);
  register_connection(c);
  server_->pause_reading(c.link, false);
  std::vector<std::string> held = std::move(c.held);
  for (const std::string& m : held) {
    if (c.close_code) break;
    handle_message(c, m, false);
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

void EngineCore::on_peer_close(void* conn, uint16_t code) {
  static_cast<Connection*>(conn)->peer_close_code = code;
}

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
  if (c.queue.frames()) count_drops(metrics::DropReason::kUnsentAtClose, c.queue.frames());
  conns_.erase(id);  // destroys c
  update_gauges();
  if (hooks_.on_disconnect) hooks_.on_disconnect(id, user, code);
  if (last) {
    backplane_->user_interest(user, false);
    unfollow_stream(StreamKind::kUser, user);
    backplane_->local_user_offline(user);
  }
}

}  // namespace rtcore
