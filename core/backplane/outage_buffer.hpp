// Publishes kept while Redis is unreachable, in order and within a byte
// bound (beyond it they are dropped and their acks fail). A held item is a
// plain PUBLISH or any other send (a history append script): a thunk that
// sends it later, and one that fails it. When the link
// returns they are held a little longer, until the peers known before the
// outage have resubscribed ({prefix}ready:{node}) or kMaxDrainWaitMs passed:
// publishing earlier would reach nodes not listening yet and be lost.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "backplane/backplane.hpp"
#include "backplane/backplane_stats.hpp"
#include "backplane/node_liveness.hpp"
#include "backplane/redis_link.hpp"

namespace rtcore {

class OutageBuffer {
 public:
  using Send =
      std::function<void(const std::string& channel, const std::string& payload, Backplane::Done done)>;

  OutageBuffer(uv_loop_t* loop, RedisLink& commands, std::string prefix, size_t max_bytes,
               BackplaneStats& stats, NodeLiveness& liveness, Send send);
  ~OutageBuffer();
  OutageBuffer(const OutageBuffer&) = delete;
  OutageBuffer& operator=(const OutageBuffer&) = delete;

  void start();
  // True while publishes must queue here rather than go out directly.
  bool holding() const { return !outbox_.empty() || draining_; }
  // Keeps a publish; when it does not fit, done(false) at once.
  void hold(std::string channel, std::string payload, Backplane::Done done);
  // Keeps any send of `bytes` bytes: send() runs when the outbox drains,
  // fail() instead if it does not fit (at once) or at shutdown. Exactly one
  // of them runs, once.
  void hold_send(size_t bytes, std::function<void()> send, std::function<void()> fail);
  void link_up();
  void link_down();
  // Fails every held publish.
  void shutdown();

 private:
  struct Pending {
    size_t bytes;
    std::function<void()> send;
    std::function<void()> fail;
  };
  void start_drain();
  void check_peers_ready();
  void flush();

  uv_loop_t* loop_;
  RedisLink& commands_;
  std::string prefix_;
  size_t max_bytes_;
  BackplaneStats& stats_;
  NodeLiveness& liveness_;
  Send send_;
  std::deque<Pending> outbox_;
  size_t bytes_ = 0;
  bool draining_ = false;
  uint64_t drain_started_ms_ = 0;
  bool ready_check_outstanding_ = false;
  uv_timer_t* timer_ = nullptr;
};

}  // namespace rtcore
