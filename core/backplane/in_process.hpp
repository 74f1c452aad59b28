// The single-node backplane: there are no other nodes, so publishing reaches
// nobody else and this node's local presence is the cluster's presence.
// With history on (limits.size > 0) it owns an InProcessHistory.
#pragma once

#include <memory>

#include "backplane/backplane.hpp"
#include "backplane/backplane_stats.hpp"
#include "history/in_process_history.hpp"
#include "presence/in_process_presence.hpp"

namespace rtcore {

class InProcessBackplane final : public Backplane {
 public:
  explicit InProcessBackplane(BackplaneSink& sink) : presence_(sink) {}
  // History on when limits.size > 0: loop drives its expiry sweep (may be
  // null), stats (not owned, outlives this) gets its counters.
  InProcessBackplane(BackplaneSink& sink, uv_loop_t* loop, HistoryLimits limits, BackplaneStats& stats,
                     size_t history_budget_bytes = InProcessHistory::kDefaultBudgetBytes)
      : presence_(sink) {
    if (limits.size > 0)
      history_ = std::make_unique<InProcessHistory>(sink, loop, limits, stats, history_budget_bytes);
  }

  std::string_view kind() const override { return "in-process"; }
  void room_interest(std::string_view, bool) override {}
  void user_interest(std::string_view, bool) override {}
  void when_room_ready(std::string_view, Done done) override { finish(done); }
  void publish_to_room(std::string_view, const FramePtr&, Done done) override { finish(done); }
  void publish_to_user(std::string_view, const FramePtr&, Done done) override { finish(done); }
  void local_user_online(std::string_view user) override { presence_.local_user_online(user); }
  void local_user_offline(std::string_view user) override { presence_.local_user_offline(user); }
  void shutdown() override {
    presence_.shutdown();
    if (history_) history_->shutdown();
  }
  // Transitions are reported synchronously by the in-process presence.
  void room_presence_interest(std::string_view, bool) override {}
  void when_room_presence_ready(std::string_view, Done done) override { finish(done); }

  Presence& presence() override { return presence_; }
  History* history() override { return history_.get(); }

 private:
  static void finish(const Done& done) {
    if (done) done(true);
  }
  InProcessPresence presence_;
  std::unique_ptr<InProcessHistory> history_;
};

}  // namespace rtcore
