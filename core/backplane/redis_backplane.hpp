// The Redis backplane: nodes sharing one Redis act as one (docs/protocol.md
// sections 6-7). Pub/sub carries frames between nodes; presence lives in
// Redis (presence/redis_presence.hpp); node liveness keys with a TTL let
// survivors repair the presence of a node that died, and let a node that
// was declared dead notice it (backplane/node_liveness.hpp).
//
// This file only wires the parts: two links (commands and publishes;
// subscriptions), the subscription bookkeeping, the outage buffer, liveness
// and fencing, presence, and the decoding of what arrives (backplane/wire).
// Everything Redis hands us is validated there; what is malformed is
// dropped, counted (backplane_invalid) and logged at most once per interval.
// Everything runs on the engine's loop (hiredis async, our libuv adapter).
//
// With history on, appends go through RedisHistory's script, which
// publishes envelopes carrying "ep"/"off"; those are delivered here with
// deliver_stream even when this node published them (the single ordered
// source per stream); plain publications from this node are still skipped.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "backplane/backplane.hpp"
#include "backplane/backplane_stats.hpp"
#include "backplane/envelope.hpp"
#include "backplane/node_liveness.hpp"
#include "backplane/outage_buffer.hpp"
#include "backplane/probe.hpp"
#include "backplane/redis_link.hpp"
#include "backplane/redis_subscriptions.hpp"
#include "backplane/redis_url.hpp"
#include "common/guard.hpp"
#include "history/redis_history.hpp"
#include "presence/redis_presence.hpp"

namespace rtcore {

struct RedisBackplaneOptions {
  RedisAddress address;
  std::string prefix = "rtcore:";
  std::string node_id;
  // A node whose liveness key is older than this is dead; survivors then
  // take its users offline. Refreshed every third of it.
  uint32_t node_ttl_ms = 15000;
  // Publishes kept (in order) while Redis is unreachable; beyond: dropped.
  size_t buffer_bytes = 8 << 20;
  uint32_t connect_timeout_ms = 2000;
  int log_level = 1;
  // History (history/redis_history.hpp): size 0 = off, history() is null.
  HistoryLimits history;
};

class RedisBackplane final : public Backplane {
 public:
  RedisBackplane(uv_loop_t* loop, RedisBackplaneOptions options, BackplaneSink& sink, BackplaneStats& stats);
  ~RedisBackplane() override;

  std::string_view kind() const override { return "redis"; }
  void start() override;
  void room_interest(std::string_view room, bool wanted) override;
  void user_interest(std::string_view user, bool wanted) override;
  void when_room_ready(std::string_view room, Done done) override;
  void publish_to_room(std::string_view room, const FramePtr& frame, Done done) override;
  void publish_to_user(std::string_view user, const FramePtr& frame, Done done) override;
  void local_user_online(std::string_view user) override { presence_.local_user_online(user); }
  void local_user_offline(std::string_view user) override { presence_.local_user_offline(user); }
  void flush_publishes() override;
  void shutdown() override;
  // Both links up, every wanted channel confirmed, and a recent self-probe
  // round trip (backplane/probe.hpp).
  Readiness readiness() const override;

  Presence& presence() override { return presence_; }
  void room_presence_interest(std::string_view room, bool wanted) override;
  void when_room_presence_ready(std::string_view room, Done done) override;
  History* history() override { return history_.get(); }

 private:
  std::string room_channel(std::string_view room) const;
  std::string user_channel(std::string_view user) const;
  void publish(std::string channel, std::string payload, Done done);
  void send_publish(const std::string& channel, const std::string& payload, Done done);
  // publish_to_room / publish_to_user: with the link up and nothing held,
  // the PUBLISH is written as RESP into resp_ with the envelope encoded in
  // place (no channel, payload or argv strings); else as publish().
  void publish_envelope(EnvelopeKind kind, std::string_view target, std::string_view frame, Done done);
  void send_resp(Done done);  // resp_, as send_publish sends
  void mark_ready();
  void on_message(std::string_view channel, std::string_view payload);
  void on_confirmed(const std::string& channel);
  void invalid(const char* what);

  void commands_up();
  void commands_down(const std::string& why);
  void subscriptions_up();
  void subscriptions_down(const std::string& why);
  void update_state();
  void log(int level, const char* fmt, ...) const;

  uv_loop_t* loop_;
  RedisBackplaneOptions opts_;
  BackplaneSink& sink_;
  BackplaneStats& stats_;
  std::string control_channel_;
  std::string probe_channel_;  // {prefix}probe:{node}
  RedisLink commands_;
  RedisLink subscriptions_;
  NodeLiveness liveness_;
  RedisPresence presence_;
  OutageBuffer outbox_;
  RedisSubscriptions subs_;
  RoundTripProbe probe_;
  std::unique_ptr<RedisHistory> history_;  // null when history is off
  IntervalLog invalid_log_{10000};
  bool was_connected_ = false;
  bool ever_connected_ = false;
  bool shut_down_ = false;
  bool started_ = false;
  bool publishes_unflushed_ = false;
  std::string resp_;        // the PUBLISH being written (reused: no allocation per publish)
  bool announced_ = false;  // "ready" published since the last resubscribe
};

}  // namespace rtcore
