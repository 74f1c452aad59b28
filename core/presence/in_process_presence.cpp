#include "presence/in_process_presence.hpp"

#include <algorithm>

namespace rtcore {

void InProcessPresence::local_user_online(std::string_view user) {
  online_.emplace(user);
  if (!shut_down_) sink_.presence_changed(user, true, clock_.now());
}

void InProcessPresence::local_user_offline(std::string_view user) {
  online_.erase(std::string(user));
  if (!shut_down_) sink_.presence_changed(user, false, clock_.now());
}

void InProcessPresence::local_room_user_joined(std::string_view room, std::string_view user) {
  rooms_[std::string(room)].emplace(user);
  if (!shut_down_) sink_.room_presence_changed(room, user, true, clock_.now());
}

void InProcessPresence::local_room_user_left(std::string_view room, std::string_view user, Written written) {
  auto it = rooms_.find(std::string(room));
  if (it != rooms_.end()) {
    it->second.erase(std::string(user));
    if (it->second.empty()) rooms_.erase(it);
  }
  if (!shut_down_) sink_.room_presence_changed(room, user, false, clock_.now());
  if (written) written();
}

void InProcessPresence::room_members(std::string_view room, size_t limit, MembersFn fn) {
  std::vector<std::string> users;
  bool truncated = false;
  auto it = rooms_.find(std::string(room));
  if (it != rooms_.end()) {
    users.reserve(std::min(limit, it->second.size()));
    for (const auto& u : it->second) {
      if (users.size() == limit) {
        truncated = true;
        break;
      }
      users.push_back(u);
    }
  }
  fn(!shut_down_, shut_down_ ? std::vector<std::string>{} : std::move(users), truncated && !shut_down_);
}

void InProcessPresence::users_online(const std::vector<std::string>& users, OnlineFn fn) {
  std::vector<bool> online;
  online.reserve(users.size());
  for (const auto& u : users) online.push_back(online_.count(u) != 0);
  fn(!shut_down_, std::move(online));
}

}  // namespace rtcore
