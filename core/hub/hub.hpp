// Local state of one node: which connections are in which rooms and belong
// to which users. State only: no I/O, no transport types (Centrifuge's hub).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hub/conn_id.hpp"

namespace rtcore {

class Hub {
 public:
  // Transparent hashing, so lookups by string_view do not allocate.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

  // Adds conn to user's connections; true if it is the user's first here.
  bool add_user_connection(std::string_view user, ConnId conn);
  // Removes conn from user; true if it was the user's last one here.
  bool remove_user_connection(std::string_view user, ConnId conn);
  bool is_user_connection(std::string_view user, ConnId conn) const;
  // The user's local connections (empty if none).
  const std::vector<ConnId>& user_connections(std::string_view user) const;

  // Adds conn to room; true if it was not yet a member. first_member is set
  // when the room had no member before.
  // With a user, first_of_user is set when conn is that user's first
  // connection in the room on this node (room presence counts users).
  bool join(std::string_view room, ConnId conn, bool* first_member = nullptr, std::string_view user = {},
            bool* first_of_user = nullptr);
  // Removes conn from room; true if it was a member. last_member is set
  // when the room has no member left (and is gone); last_of_user when conn
  // was the last connection of user (as given to join) in the room here.
  bool leave(std::string_view room, ConnId conn, bool* last_member = nullptr, std::string_view user = {},
             bool* last_of_user = nullptr);
  bool is_member(std::string_view room, ConnId conn) const;
  // Members, in no particular order (empty if the room does not exist).
  const std::vector<ConnId>& room_members(std::string_view room) const;

  // The distinct users (given to join) with a connection in room here.
  template <typename F>
  void for_each_room_user(std::string_view room, F&& f) const {
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return;
    for (const auto& [user, n] : it->second.users) f(user);
  }
  size_t room_user_count(std::string_view room) const {
    auto it = rooms_.find(room);
    return it == rooms_.end() ? 0 : it->second.users.size();
  }

  // Room presence subscribers ("presence": true on join_room): members that
  // get user_joined / user_left. watch() is true when conn was not yet one;
  // first_watcher when the room had none. Leaving the room unwatches.
  bool watch(std::string_view room, ConnId conn, bool* first_watcher = nullptr);
  bool unwatch(std::string_view room, ConnId conn, bool* last_watcher = nullptr);
  const std::vector<ConnId>& room_watchers(std::string_view room) const;

  size_t user_count() const { return users_.size(); }
  size_t room_count() const { return rooms_.size(); }

 private:
  // A room: a dense array to fan out over, and each member's slot in it, so
  // leaving is O(1) (swap with the last) even in a room of 100k members.
  // users and watchers change only on join / leave (O(1) each) and are
  // never touched by the message fan-out, which reads members alone.
  struct Room {
    std::vector<ConnId> members;
    std::unordered_map<ConnId, uint32_t> slot;
    StringMap<uint32_t> users;  // user -> connections in the room
    std::vector<ConnId> watchers;
    std::unordered_map<ConnId, uint32_t> watcher_slot;
  };
  static bool remove_watcher(Room& r, ConnId conn);
  StringMap<std::vector<ConnId>> users_;
  StringMap<Room> rooms_;
};

}  // namespace rtcore
