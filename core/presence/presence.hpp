// Presence: which users are online, cluster-wide (docs/protocol.md section 6),
// and which users are in which room (section 9). Implementations:
// in-process (one node; the default) and Redis, side by side, as for the
// backplane.
//
// Guarantees (all implementations): one `online` event when a user's first
// connection in the cluster appears and one `offline` when the last one
// goes, decided once per cluster; likewise one room `joined` event when a
// user's first connection in the cluster joins a room and one `left` when
// their last one leaves it. With Redis, a node that dies is taken out by
// the survivors after its TTL (offline / left for what it alone had), and a
// node that was declared dead while it was only stalled (or whose keys
// Redis lost) notices and registers its users and room members again
// (online / joined for what the cluster had taken out).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace rtcore {

// Where presence transitions are reported (on the engine thread).
class PresenceSink {
 public:
  virtual ~PresenceSink() = default;
  virtual void presence_changed(std::string_view user, bool online, std::string_view timestamp) = 0;
  // A user's first connection in the cluster joined room (joined), or their
  // last one left it. With Redis, only for rooms this node asked for with
  // Backplane::room_presence_interest.
  virtual void room_presence_changed(std::string_view room, std::string_view user, bool joined,
                                     std::string_view timestamp) = 0;
};

class Presence {
 public:
  // ok is false when the answer could not be had (Redis unreachable, the
  // engine stopping); users are then empty. Called exactly once, on the
  // engine thread, possibly before the query call returns.
  using MembersFn = std::function<void(bool ok, std::vector<std::string> users, bool truncated)>;
  // online[i] answers users[i] of the query.
  using OnlineFn = std::function<void(bool ok, std::vector<bool> online)>;

  virtual ~Presence() = default;
  virtual std::string_view kind() const = 0;
  // The user's first / last connection on this node.
  virtual void local_user_online(std::string_view user) = 0;
  virtual void local_user_offline(std::string_view user) = 0;
  // The user's first / last connection in room on this node.
  virtual void local_room_user_joined(std::string_view room, std::string_view user) = 0;
  // written (optional) runs once the leave is what every node's queries
  // see, or once it cannot be written (link down: it is then gone with
  // this node's keys); the engine acks a leave_room then.
  using Written = std::function<void()>;
  virtual void local_room_user_left(std::string_view room, std::string_view user, Written written = {}) = 0;
  // The distinct users with a connection in room on any node: at most
  // limit of them, truncated when there are more (which ones is then
  // unspecified). Bounded work for any room size.
  virtual void room_members(std::string_view room, size_t limit, MembersFn fn) = 0;
  // Whether each user has a connection on any node.
  virtual void users_online(const std::vector<std::string>& users, OnlineFn fn) = 0;
  // Leaves the cluster's presence (best effort); no sink call afterwards.
  virtual void shutdown() = 0;
};

}  // namespace rtcore
