// Presence for a single node: its local connections are the cluster.
#pragma once

#include "presence/presence.hpp"

namespace rtcore {

class InProcessPresence final : public Presence {
 public:
  explicit InProcessPresence(PresenceSink& sink) : sink_(sink) {}

  std::string_view kind() const override { return "in-process"; }
  void local_user_online(std::string_view user) override;
  void local_user_offline(std::string_view user) override;
  void shutdown() override { shut_down_ = true; }

 private:
  PresenceSink& sink_;
  bool shut_down_ = false;
};

}  // namespace rtcore
