// Subscription bookkeeping on the subscriptions link: which channels this
// node needs, which Redis confirmed, which are in flight. Changes are batched
// per loop turn; after a reconnect everything wanted is subscribed again.
// Waiters learn when a channel's subscription is confirmed.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "backplane/backplane.hpp"
#include "backplane/redis_link.hpp"

namespace rtcore {

class RedisSubscriptions {
 public:
  using Message = std::function<void(std::string_view channel, std::string_view payload)>;
  using Confirmed = std::function<void(const std::string& channel)>;

  // always: channels subscribed whatever else is wanted (control, presence).
  RedisSubscriptions(uv_loop_t* loop, RedisLink& link, std::vector<std::string> always, Message on_message,
                     Confirmed on_confirmed, std::function<void(const char*)> invalid);
  ~RedisSubscriptions();
  RedisSubscriptions(const RedisSubscriptions&) = delete;
  RedisSubscriptions& operator=(const RedisSubscriptions&) = delete;

  void start();
  void shutdown();
  void want(std::string channel, bool wanted);
  // done(true) once other nodes' publications on channel reach this node;
  // done(false) if this backplane shuts down first.
  void when_ready(const std::string& channel, Backplane::Done done);
  // No SUBSCRIBE is waiting for its confirmation.
  bool settled() const { return sub_inflight_.empty(); }
  // Every wanted channel is subscribed: none queued, none in flight.
  bool confirmed() const { return sub_inflight_.empty() && queue_sub_.empty(); }
  size_t wanted() const { return wanted_count_; }
  // channel is wanted (want(channel, true) and not undone).
  bool wants(const std::string& channel) const { return has(channel, kWanted); }

  void link_up();
  void link_down();

 private:
  void schedule_flush();
  void flush();
  void on_reply(redisReply* reply);
  void run_waiters(const std::string& channel, bool ok);
  static void on_subscription(redisAsyncContext* ac, void* reply, void* privdata);

  // What this node wants and what Redis confirmed, in one entry per channel
  // (one copy of its name: a user's channel is one per connected user, so
  // two sets held two hash nodes and two heap strings per user).
  enum : uint8_t { kWanted = 1, kSubscribed = 2 };
  bool has(const std::string& channel, uint8_t flag) const {
    auto it = channels_.find(channel);
    return it != channels_.end() && (it->second & flag) != 0;
  }
  void set_flag(const std::string& channel, uint8_t flag);
  void clear_flag(const std::string& channel, uint8_t flag);
  void clear_subscribed();

  uv_loop_t* loop_;
  RedisLink& link_;
  std::vector<std::string> always_;
  Message on_message_;
  Confirmed on_confirmed_;
  std::function<void(const char*)> invalid_;
  bool shut_down_ = false;
  std::unordered_map<std::string, uint8_t> channels_;
  size_t wanted_count_ = 0;
  std::unordered_set<std::string> sub_inflight_, unsub_inflight_;
  std::unordered_set<std::string> queue_sub_, queue_unsub_;
  std::unordered_map<std::string, std::vector<Backplane::Done>> waiters_;
  uv_timer_t* flush_timer_ = nullptr;
};

}  // namespace rtcore
