// Node liveness and fencing. Each node keeps {prefix}node:{node} alive with
// a TTL, holding an epoch drawn when the process started; survivors take a
// node whose key expired out of the cluster's presence. A heartbeat that
// finds the key gone (or holding another epoch), or the node no longer
// listed in {prefix}nodes, means the cluster declared this node dead: it
// stalled past its TTL (SIGSTOP, a long GC pause in a host, a VM migration)
// or Redis lost its keys. The node is then told to register again (fenced).
//
// Also the list of peers, from {prefix}nodes and the control channel's
// announcements, which the outage buffer waits for.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "backplane/redis_link.hpp"
#include "backplane/redis_script.hpp"
#include "backplane/wire.hpp"

namespace rtcore {

class NodeLiveness {
 public:
  struct Hooks {
    std::function<void()> fenced;              // declared dead meanwhile: register again
    std::function<void()> hung;                // Redis stopped answering: reset the links
    std::function<void()> beat;                // each heartbeat sent (reap, mark ready)
    std::function<void(const char*)> invalid;  // malformed input from Redis
  };

  NodeLiveness(uv_loop_t* loop, RedisLink& commands, std::string prefix, std::string node_id, uint32_t ttl_ms,
               Hooks hooks);
  ~NodeLiveness();
  NodeLiveness(const NodeLiveness&) = delete;
  NodeLiveness& operator=(const NodeLiveness&) = delete;

  void start();
  // Leaves the cluster: deletes the liveness key, says "gone".
  void shutdown();

  // The commands link came up (the owner reconciles by itself then, so the
  // first answer is not taken as a fence) / went down.
  void link_up();
  void link_down();
  void heartbeat();

  // Peers: reread {prefix}nodes; a message on the control channel.
  void refresh_peers();
  void on_control_message(std::string_view payload);
  // While frozen (the outage buffer drains) the list of peers stays as it
  // was: after a Redis restart the set fills again only as peers return.
  void freeze_peers(bool frozen) { frozen_ = frozen; }
  const std::vector<std::string>& peers() const { return peers_; }

  const std::string& epoch() const { return epoch_; }
  uint64_t fences() const { return fences_; }

 private:
  uv_loop_t* loop_;
  RedisLink& commands_;
  std::string prefix_;
  std::string node_id_;
  std::string key_;
  uint32_t ttl_ms_;
  Hooks hooks_;
  std::string epoch_;
  RedisScript script_;
  uv_timer_t* timer_ = nullptr;
  bool outstanding_ = false;
  uint64_t sent_ms_ = 0;
  // The first answer after the link came up says "not ours" on a fresh
  // Redis; the owner reconciles on link-up anyway.
  bool first_after_up_ = true;
  uint64_t fences_ = 0;
  bool frozen_ = false;
  bool shut_down_ = false;
  std::vector<std::string> peers_;
  std::unordered_map<std::string, uint64_t> announced_at_;  // node -> when it said "ready"
};

}  // namespace rtcore
