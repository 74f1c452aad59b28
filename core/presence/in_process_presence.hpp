// Presence for a single node: its local connections are the cluster.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>

#include "presence/presence.hpp"
#include "presence/timestamp_cache.hpp"

namespace rtcore {

class InProcessPresence final : public Presence {
 public:
  explicit InProcessPresence(PresenceSink& sink) : sink_(sink) {}

  std::string_view kind() const override { return "in-process"; }
  void local_user_online(std::string_view user) override;
  void local_user_offline(std::string_view user) override;
  void local_room_user_joined(std::string_view room, std::string_view user) override;
  void local_room_user_left(std::string_view room, std::string_view user, Written written = {}) override;
  void room_members(std::string_view room, size_t limit, MembersFn fn) override;
  void users_online(const std::vector<std::string>& users, OnlineFn fn) override;
  void shutdown() override { shut_down_ = true; }

 private:
  PresenceSink& sink_;
  bool shut_down_ = false;
  TimestampCache clock_;
  // What the engine reported: the node's users, and each room's users.
  std::unordered_set<std::string> online_;
  std::unordered_map<std::string, std::unordered_set<std::string>> rooms_;
};

}  // namespace rtcore
