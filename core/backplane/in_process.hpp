// The single-node backplane: there are no other nodes, so publishing reaches
// nobody else and this node's local presence is the cluster's presence.
#pragma once

#include "backplane/backplane.hpp"
#include "presence/in_process_presence.hpp"

namespace rtcore {

class InProcessBackplane final : public Backplane {
 public:
  explicit InProcessBackplane(BackplaneSink& sink) : presence_(sink) {}

  std::string_view kind() const override { return "in-process"; }
  void room_interest(std::string_view, bool) override {}
  void user_interest(std::string_view, bool) override {}
  void when_room_ready(std::string_view, Done done) override { finish(done); }
  void publish_to_room(std::string_view, const FramePtr&, Done done) override { finish(done); }
  void publish_to_user(std::string_view, const FramePtr&, Done done) override { finish(done); }
  void local_user_online(std::string_view user) override { presence_.local_user_online(user); }
  void local_user_offline(std::string_view user) override { presence_.local_user_offline(user); }
  void shutdown() override { presence_.shutdown(); }
  // Transitions are reported synchronously by the in-process presence.
  void room_presence_interest(std::string_view, bool) override {}
  void when_room_presence_ready(std::string_view, Done done) override { finish(done); }

  Presence& presence() override { return presence_; }

 private:
  static void finish(const Done& done) {
    if (done) done(true);
  }
  InProcessPresence presence_;
};

}  // namespace rtcore
