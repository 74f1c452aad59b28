// The Redis backplane: nodes sharing one Redis act as one (PROTOCOL.md
// sections 6-7). Pub/sub carries frames between nodes; presence lives in
// Redis sets changed by Lua scripts, so transitions are decided atomically
// once per cluster; node liveness keys with a TTL let survivors repair the
// presence of a node that died.
//
// Everything runs on the engine's loop (hiredis async, our libuv adapter).
// Two connections: one for commands and publishes, one for subscriptions.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "backplane/backplane.hpp"
#include "backplane/backplane_stats.hpp"
#include "backplane/redis_link.hpp"
#include "backplane/redis_url.hpp"

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
  void local_user_online(std::string_view user) override;
  void local_user_offline(std::string_view user) override;
  void flush_publishes() override;
  void shutdown() override;

 private:
  struct Pending {
    std::string channel;
    std::string payload;
    Done done;
  };

  std::string room_channel(std::string_view room) const;
  std::string user_channel(std::string_view user) const;
  void want(std::string channel, bool wanted);
  void schedule_flush();
  void flush_subscriptions();
  void publish(std::string channel, std::string payload, Done done);
  void send_publish(const std::string& channel, const std::string& payload, Done done);
  void run_presence_script(bool online, std::string_view user);
  void heartbeat();
  void mark_ready();
  void refresh_peers();
  void reap_dead_nodes();
  void reconcile_presence();
  void start_drain();
  void check_peers_ready();
  void flush_outbox();

  void commands_up();
  void commands_down(const std::string& why);
  void subscriptions_up();
  void subscriptions_down(const std::string& why);
  void update_state();
  void on_subscription_reply(void* reply);
  void on_channel_message(std::string_view channel, std::string_view payload);
  void run_waiters(const std::string& channel, bool ok);
  void log(int level, const char* fmt, ...) const;

  static void on_subscription(redisAsyncContext* ac, void* reply, void* privdata);

  uv_loop_t* loop_;
  RedisBackplaneOptions opts_;
  BackplaneSink& sink_;
  BackplaneStats& stats_;
  std::string presence_channel_;
  // Nodes announce "ready NODE" / "gone NODE" here, so peers learn of each
  // other at once rather than at the next heartbeat.
  std::string control_channel_;
  RedisLink commands_;
  RedisLink subscriptions_;
  bool was_connected_ = false;
  bool ever_connected_ = false;
  bool shut_down_ = false;

  // Channels this node needs, those Redis confirmed, and those in flight.
  std::unordered_set<std::string> wanted_, subscribed_, sub_inflight_, unsub_inflight_;
  std::unordered_set<std::string> queue_sub_, queue_unsub_;
  std::unordered_map<std::string, std::vector<Done>> waiters_;

  // Publishes waiting for Redis, oldest first.
  std::deque<Pending> outbox_;
  size_t outbox_bytes_ = 0;

  // After an outage the outbox is held until the peers known before it have
  // resubscribed ({prefix}ready:{node}), or kMaxDrainWaitMs passed:
  // publishing earlier would reach nodes not listening yet and be lost.
  std::vector<std::string> known_peers_;
  std::unordered_map<std::string, uint64_t> announced_at_;  // node -> when it said "ready"
  bool draining_ = false;
  uint64_t drain_started_ms_ = 0;
  bool ready_check_outstanding_ = false;

  // Users with a connection on this node: this node's truth for presence.
  std::unordered_set<std::string> local_users_;
  bool publishes_unflushed_ = false;
  bool announced_ = false;  // "ready" published since the last resubscribe
  bool heartbeat_outstanding_ = false;
  uint64_t heartbeat_sent_ms_ = 0;

  // Heap-allocated handles: they outlive this object until closed.
  uv_timer_t* flush_timer_ = nullptr;
  uv_timer_t* heartbeat_timer_ = nullptr;
  uv_timer_t* drain_timer_ = nullptr;
};

}  // namespace rtcore
