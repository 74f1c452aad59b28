// The Redis backplane's self-probe (GET /readyz, docs/protocol.md section
// 10): at most once a second the node publishes "probe NODE SEQ" on its own
// channel {prefix}probe:{node}, which it subscribes to like control and
// presence, and times the message's way back. Links that are up and
// subscriptions that are confirmed do not prove that publications flow (a
// stalled Redis keeps its sockets open); a recent round trip does.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "backplane/redis_link.hpp"

namespace rtcore {

class RoundTripProbe {
 public:
  // Probes are sent at most every kIntervalMs; the node counts as ready
  // while its last round trip completed within max_age_ms().
  static constexpr uint64_t kIntervalMs = 1000;

  // on_round_trip gets each round trip, in seconds.
  RoundTripProbe(RedisLink& commands, std::string channel, std::string node_id, uint32_t heartbeat_ms,
                 std::function<void(double)> on_round_trip);

  // Publishes a probe now, unless one went out less than kIntervalMs ago
  // (force: regardless) or the link is down.
  void send(bool force = false);
  // A payload from the probe channel; false if it is malformed (counted as
  // invalid by the caller). A probe this node no longer remembers (sent
  // long ago) is ignored.
  bool on_message(std::string_view channel_node, std::string_view payload);

  // Milliseconds since the last completed round trip, or since this object
  // was made if none completed yet.
  uint64_t age_ms() const;
  // max(3 s, 2 probe intervals).
  uint64_t max_age_ms() const { return max_age_ms_; }
  // A round trip completed, within max_age_ms(): publications flow.
  bool fresh() const { return completed_ && age_ms() <= max_age_ms_; }

 private:
  struct Sent {
    uint64_t seq = 0;
    uint64_t at_ns = 0;
  };

  RedisLink& commands_;
  std::string channel_;
  std::string node_id_;
  std::function<void(double)> on_round_trip_;
  uint64_t max_age_ms_;
  uint64_t next_seq_ = 1;
  uint64_t last_sent_ns_ = 0;
  uint64_t last_completed_ns_;
  bool completed_ = false;  // at least one round trip so far
  // The latest probes sent; a reply older than these is forgotten.
  std::array<Sent, 8> sent_{};
};

}  // namespace rtcore
