// Presence in Redis (see redis_presence_scripts.hpp for the keys): each
// node registers its users in sets changed by atomic scripts, so a
// transition is decided once per cluster; survivors reap the entries of a
// node whose liveness key expired. This node's local connections are the
// truth for its own entries, and reconcile() makes Redis match them again
// (after a reconnect, a Redis restart, or being declared dead while stalled).
//
// Runs on the engine's loop and sends through the backplane's commands link.
#pragma once

#include <functional>
#include <string>
#include <unordered_set>

#include "backplane/backplane_stats.hpp"
#include "backplane/redis_link.hpp"
#include "backplane/redis_script.hpp"
#include "presence/presence.hpp"
#include "presence/timestamp_cache.hpp"

namespace rtcore {

class RedisPresence final : public Presence {
 public:
  // invalid(what) is called for every malformed thing read from Redis.
  RedisPresence(RedisLink& commands, std::string prefix, std::string node_id, PresenceSink& sink,
                std::function<void(const char* what)> invalid);

  std::string_view kind() const override { return "redis"; }
  void local_user_online(std::string_view user) override;
  void local_user_offline(std::string_view user) override;
  void local_room_user_joined(std::string_view room, std::string_view user) override;
  void local_room_user_left(std::string_view room, std::string_view user, Written written = {}) override;
  void room_members(std::string_view room, size_t limit, MembersFn fn) override;
  void users_online(const std::vector<std::string>& users, OnlineFn fn) override;
  void shutdown() override;

  // Registers every local user and room member again and removes what
  // Redis lists for this node that is no longer here.
  void reconcile();
  // Takes dead nodes' users offline (any node may run it; it is atomic).
  void reap_dead_nodes();
  // A payload that arrived on the presence channel.
  void on_presence_message(std::string_view payload);
  // A payload that arrived on a room presence channel (wire::Channel).
  void on_room_presence_message(std::string_view room, std::string_view payload);
  std::string room_presence_channel(std::string_view room) const {
    return prefix_ + "room_presence:" + std::string(room);
  }

  const std::string& channel() const { return channel_; }
  size_t local_users() const { return local_users_.size(); }

 private:
  void run(bool online, std::string_view user);
  // pair: user "/" room (the keys' encoding, see redis_presence_scripts.hpp).
  void run_room(bool joined, const std::string& pair, Written written = {});
  void check_script_reply(redisReply* reply, const char* what);

  RedisLink& commands_;
  std::string prefix_;
  std::string node_id_;
  std::string channel_;
  std::string node_users_key_;
  PresenceSink& sink_;
  std::function<void(const char*)> invalid_;
  std::string node_rooms_key_;
  RedisScript online_, offline_, reap_, room_join_, room_leave_, room_members_, users_online_;
  // Users with a connection on this node, and (user "/" room) pairs.
  std::unordered_set<std::string> local_users_;
  std::unordered_set<std::string> local_room_pairs_;
  bool shut_down_ = false;
  TimestampCache clock_;
};

}  // namespace rtcore
