#include "backplane/probe.hpp"

#include <algorithm>

#include "backplane/wire.hpp"

namespace rtcore {

RoundTripProbe::RoundTripProbe(RedisLink& commands, std::string channel, std::string node_id,
                               uint32_t heartbeat_ms, std::function<void(double)> on_round_trip)
    : commands_(commands),
      channel_(std::move(channel)),
      node_id_(std::move(node_id)),
      on_round_trip_(std::move(on_round_trip)),
      max_age_ms_(std::max<uint64_t>(3000, 2 * std::max<uint64_t>(kIntervalMs, heartbeat_ms))),
      last_completed_ns_(uv_hrtime()) {}

void RoundTripProbe::send(bool force) {
  if (!commands_.up()) return;
  uint64_t now = uv_hrtime();
  if (!force && last_sent_ns_ != 0 && now - last_sent_ns_ < kIntervalMs * 1000000) return;
  last_sent_ns_ = now;
  uint64_t seq = next_seq_++;
  sent_[seq % sent_.size()] = Sent{seq, now};
  commands_.command({"PUBLISH", channel_, wire::encode_probe(node_id_, seq)}, RedisLink::ReplyFn{});
  commands_.write_now();
}

bool RoundTripProbe::on_message(std::string_view channel_node, std::string_view payload) {
  std::optional<wire::ProbeMessage> m = wire::decode_probe(channel_node, payload);
  if (!m || m->node != node_id_) return false;
  Sent& s = sent_[m->seq % sent_.size()];
  if (s.seq != m->seq || s.at_ns == 0) return true;
  uint64_t now = uv_hrtime();
  double seconds = static_cast<double>(now - s.at_ns) / 1e9;
  s = Sent{};
  last_completed_ns_ = now;
  completed_ = true;
  if (on_round_trip_) on_round_trip_(seconds);
  return true;
}

uint64_t RoundTripProbe::age_ms() const {
  return (uv_hrtime() - last_completed_ns_) / 1000000;
}

}  // namespace rtcore
