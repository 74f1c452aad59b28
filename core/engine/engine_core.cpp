#include "engine/engine_core.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "auth/credentials.hpp"
#include "backplane/in_process.hpp"
#include "backplane/redis_backplane.hpp"
#include "common/guard.hpp"
#include "common/log.hpp"
#include "engine/engine_internal.hpp"
#include "loop/descriptor_table.hpp"
#include "metrics/render.hpp"
#include "protocol/server_message.hpp"
#include "protocol/timestamp.hpp"
#include "protocol/validate.hpp"

namespace rtcore {

using namespace engine_detail;

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
    backplane_ = std::make_unique<InProcessBackplane>(
        *this, loop_, HistoryLimits{config_.history_size, config_.history_ttl_s}, stats_.backplane);
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
    ro.history = HistoryLimits{config_.history_size, config_.history_ttl_s};
    backplane_ = std::make_unique<RedisBackplane>(loop_, std::move(ro), *this, stats_.backplane);
    // Each self-probe round trip (GET /readyz) feeds the histogram
    // rtcore_backplane_round_trip_seconds.
    backplane_->on_round_trip = [this](double seconds) { stats_.backplane.round_trip.observe(seconds); };
  }
  history_ = backplane_->history();
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
  opts.own_transport = !config_.lws_transport;
  // As many descriptors as the node may hold connections: none of them
  // then waits for the table to grow (loop/descriptor_table.hpp).
  if (config_.max_connections)
    opts.descriptor_reserve = size_t{config_.max_connections} + kDescriptorHeadroom;
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
      self->server_->pause_reading(c->link, false);
      self->begin_close(*c, kCloseDecisionTimeout, "connect decision timed out");
    });
  }
  expire_stream_acks(now);
  // Closing connections past their deadline are dropped.
  while (!self->close_deadlines_.empty() && self->close_deadlines_.front().first <= now) {
    ConnId id = self->close_deadlines_.front().second;
    self->close_deadlines_.pop_front();
    if (Connection* c = self->conns_.find(id); c && !c->killed) {
      c->killed = true;
      self->server_->kill(c->link);
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
      if (!c.pending && !c.close_code && now - c.last_message_ms >= self->config_.idle_timeout_ms)
        idle.push_back(&c);
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

std::string EngineCore::stats_json() {
  return metrics::render_stats_json(stats_);
}

std::string EngineCore::metrics_text() {
  return metrics::render_prometheus(stats_,
                                    metrics::Context{config_.node_id, backplane_ ? backplane_->kind() : ""});
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

}  // namespace rtcore
