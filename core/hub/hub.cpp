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

bool Hub::join(std::string_view room, ConnId conn, bool* first_member) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) it = rooms_.emplace(std::string(room), Room{}).first;
  Room& r = it->second;
  if (first_member) *first_member = r.members.empty();
  if (!r.slot.emplace(conn, static_cast<uint32_t>(r.members.size())).second) return false;
  r.members.push_back(conn);
  return true;
}

bool Hub::leave(std::string_view room, ConnId conn, bool* last_member) {
  if (last_member) *last_member = false;
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return false;
  Room& r = it->second;
  auto pos = r.slot.find(conn);
  if (pos == r.slot.end()) return false;
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

const std::vector<ConnId>& Hub::room_members(std::string_view room) const {
  auto it = rooms_.find(room);
  return it == rooms_.end() ? kNoConnections : it->second.members;
}

}  // namespace rtcore
