#include "hub/hub.hpp"

#include <algorithm>

namespace rtcore {
namespace {

const std::vector<ConnId> kNoConnections;

// A user's connections are few: a linear scan beats any index.
bool erase_member(std::vector<ConnId>& members, ConnId conn) {
  auto it = std::find(members.begin(), members.end(), conn);
  if (it == members.end()) return false;
  members.erase(it);
  return true;
}

}  // namespace

bool Hub::add_user_connection(std::string_view user, ConnId conn) {
  auto it = users_.find(user);
  if (it == users_.end()) it = users_.emplace(std::string(user), std::vector<ConnId>{}).first;
  it->second.push_back(conn);
  return it->second.size() == 1;
}

bool Hub::remove_user_connection(std::string_view user, ConnId conn) {
  auto it = users_.find(user);
  if (it == users_.end() || !erase_member(it->second, conn)) return false;
  if (!it->second.empty()) return false;
  users_.erase(it);
  return true;
}

bool Hub::is_user_connection(std::string_view user, ConnId conn) const {
  const auto& conns = user_connections(user);
  return std::find(conns.begin(), conns.end(), conn) != conns.end();
}

const std::vector<ConnId>& Hub::user_connections(std::string_view user) const {
  auto it = users_.find(user);
  return it == users_.end() ? kNoConnections : it->second;
}

bool Hub::join(std::string_view room, ConnId conn, bool* first_member, std::string_view user,
               bool* first_of_user) {
  if (first_of_user) *first_of_user = false;
  auto it = rooms_.find(room);
  if (it == rooms_.end()) it = rooms_.emplace(std::string(room), Room{}).first;
  Room& r = it->second;
  if (first_member) *first_member = r.members.empty();
  if (!r.slot.emplace(conn, static_cast<uint32_t>(r.members.size())).second) return false;
  r.members.push_back(conn);
  if (!user.empty()) {
    auto u = r.users.find(user);
    if (u == r.users.end()) u = r.users.emplace(std::string(user), 0).first;
    if (++u->second == 1 && first_of_user) *first_of_user = true;
  }
  return true;
}

bool Hub::leave(std::string_view room, ConnId conn, bool* last_member, std::string_view user,
                bool* last_of_user) {
  if (last_member) *last_member = false;
  if (last_of_user) *last_of_user = false;
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return false;
  Room& r = it->second;
  auto pos = r.slot.find(conn);
  if (pos == r.slot.end()) return false;
  if (!user.empty()) {
    if (auto u = r.users.find(user); u != r.users.end() && --u->second == 0) {
      r.users.erase(u);
      if (last_of_user) *last_of_user = true;
    }
  }
  if (!r.watchers.empty()) remove_watcher(r, conn);
  uint32_t index = pos->second;
  r.slot.erase(pos);
  if (index + 1 != r.members.size()) {
    ConnId moved = r.members.back();
    r.members[index] = moved;
    r.slot[moved] = index;
  }
  r.members.pop_back();
  if (r.members.empty()) {
    rooms_.erase(it);
    if (last_member) *last_member = true;
  }
  return true;
}

bool Hub::is_member(std::string_view room, ConnId conn) const {
  auto it = rooms_.find(room);
  return it != rooms_.end() && it->second.slot.count(conn) != 0;
}

bool Hub::watch(std::string_view room, ConnId conn, bool* first_watcher) {
  if (first_watcher) *first_watcher = false;
  auto it = rooms_.find(room);
  if (it == rooms_.end() || !it->second.slot.count(conn)) return false;  // members only
  Room& r = it->second;
  if (!r.watcher_slot.emplace(conn, static_cast<uint32_t>(r.watchers.size())).second) return false;
  if (first_watcher) *first_watcher = r.watchers.empty();
  r.watchers.push_back(conn);
  return true;
}

bool Hub::remove_watcher(Room& r, ConnId conn) {
  // As for members: swap with the last, O(1) in a room of any size.
  auto pos = r.watcher_slot.find(conn);
  if (pos == r.watcher_slot.end()) return false;
  uint32_t index = pos->second;
  r.watcher_slot.erase(pos);
  if (index + 1 != r.watchers.size()) {
    ConnId moved = r.watchers.back();
    r.watchers[index] = moved;
    r.watcher_slot[moved] = index;
  }
  r.watchers.pop_back();
  return true;
}

bool Hub::unwatch(std::string_view room, ConnId conn, bool* last_watcher) {
  if (last_watcher) *last_watcher = false;
  auto it = rooms_.find(room);
  if (it == rooms_.end() || !remove_watcher(it->second, conn)) return false;
  if (last_watcher) *last_watcher = it->second.watchers.empty();
  return true;
}

const std::vector<ConnId>& Hub::room_watchers(std::string_view room) const {
  auto it = rooms_.find(room);
  return it == rooms_.end() ? kNoConnections : it->second.watchers;
}

const std::vector<ConnId>& Hub::room_members(std::string_view room) const {
  auto it = rooms_.find(room);
  return it == rooms_.end() ? kNoConnections : it->second.members;
}

}  // namespace rtcore
