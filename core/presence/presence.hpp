// Presence: which users are online, cluster-wide (docs/protocol.md section 6).
// Implementations: in-process (one node; the default) and Redis, side by
// side, as for the backplane.
//
// Guarantees (all implementations): one `online` event when a user's first
// connection in the cluster appears and one `offline` when the last one
// goes, decided once per cluster. With Redis, a node that dies is taken out
// by the survivors after its TTL (offline for the users it alone had), and
// a node that was declared dead while it was only stalled (or whose keys
// Redis lost) notices and registers its users again (online for the users
// the cluster had taken offline).
#pragma once

#include <string_view>

namespace rtcore {

// Where presence transitions are reported (on the engine thread).
class PresenceSink {
 public:
  virtual ~PresenceSink() = default;
  virtual void presence_changed(std::string_view user, bool online, std::string_view timestamp) = 0;
};

class Presence {
 public:
  virtual ~Presence() = default;
  virtual std::string_view kind() const = 0;
  // The user's first / last connection on this node.
  virtual void local_user_online(std::string_view user) = 0;
  virtual void local_user_offline(std::string_view user) = 0;
  // Leaves the cluster's presence (best effort); no sink call afterwards.
  virtual void shutdown() = 0;
};

}  // namespace rtcore
