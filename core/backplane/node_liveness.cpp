#include "backplane/node_liveness.hpp"

#include <algorithm>
#include <random>

#include "backplane/redis_reply.hpp"
#include "common/guard.hpp"
#include "common/log.hpp"
#include "loop/heap_timer.hpp"
#include "presence/redis_presence_scripts.hpp"

namespace rtcore {
namespace {

// How long an announcement counts even if {prefix}nodes does not list the
// node yet (a SMEMBERS reply may predate it: it arrived on the other link).
constexpr uint64_t kAnnouncementMemoryMs = 5000;

std::string random_epoch() {
  std::random_device rd;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x%08x%08x", rd(), rd(), rd());
  return buf;
}

}  // namespace

NodeLiveness::NodeLiveness(uv_loop_t* loop, RedisLink& commands, std::string prefix, std::string node_id,
                           uint32_t ttl_ms, Hooks hooks)
    : loop_(loop),
      commands_(commands),
      prefix_(std::move(prefix)),
      node_id_(std::move(node_id)),
      key_(prefix_ + "node:" + node_id_),
      ttl_ms_(ttl_ms),
      hooks_(std::move(hooks)),
      epoch_(random_epoch()),
      script_(presence_scripts::kHeartbeat) {}

NodeLiveness::~NodeLiveness() {
  close_heap_timer(timer_);
}

void NodeLiveness::start() {
  timer_ = new_heap_timer(loop_, this);
  // Beat at least every second: the liveness key needs a third of the TTL,
  // and the list of peers (for holding publishes over an outage) should be
  // fresh.
  uint32_t period = std::clamp<uint32_t>(ttl_ms_ / 3, 100, 1000);
  uv_timer_start(
      timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<NodeLiveness*>(t->data);
        guarded(self->commands_.errors(), "the heartbeat timer", [&] { self->heartbeat(); });
      },
      period, period);
}

void NodeLiveness::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  close_heap_timer(timer_);
  if (!commands_.up()) return;
  commands_.command({"DEL", key_, prefix_ + "ready:" + node_id_}, RedisLink::ReplyFn{});
  commands_.command({"SREM", prefix_ + "nodes", node_id_}, RedisLink::ReplyFn{});
  commands_.command(
      {"PUBLISH", prefix_ + "control", wire::encode_control(wire::ControlKind::kGone, node_id_)},
      RedisLink::ReplyFn{});
}

void NodeLiveness::link_up() {
  outstanding_ = false;
  first_after_up_ = true;
  heartbeat();
}

void NodeLiveness::link_down() {
  outstanding_ = false;
}

void NodeLiveness::heartbeat() {
  if (shut_down_ || !commands_.up()) return;
  if (outstanding_) {
    // No answer to a heartbeat for a third of the TTL: Redis is hung or the
    // path to it is. Start over rather than queue forever.
    if (uv_now(loop_) - sent_ms_ < ttl_ms_ / 3) return;
    outstanding_ = false;
    if (hooks_.hung) hooks_.hung();
    return;
  }
  outstanding_ = true;
  sent_ms_ = uv_now(loop_);
  script_.run(commands_, {key_, prefix_ + "nodes"}, {epoch_, std::to_string(ttl_ms_), node_id_},
              [this](redisReply* reply) {
                if (!reply) return;  // link gone: link_down() follows
                outstanding_ = false;
                bool first = first_after_up_;
                first_after_up_ = false;
                auto r = redis_reply::script_result(reply);
                if (!r) {
                  if (hooks_.invalid) hooks_.invalid("the heartbeat script's reply");
                  return;
                }
                for (long long i = 0; i < r->repaired; ++i)
                  if (hooks_.invalid) hooks_.invalid("a liveness key of the wrong type (deleted)");
                if (r->result == 1 || first || shut_down_) return;
                ++fences_;
                log::write(log::Level::kWarn, "node_fenced",
                           "node " + node_id_ +
                               " was declared dead by the cluster (liveness key expired or lost); "
                               "registering its users again");
                if (hooks_.fenced) hooks_.fenced();
              });
  if (hooks_.beat) hooks_.beat();
}

void NodeLiveness::refresh_peers() {
  if (shut_down_ || !commands_.up()) return;
  commands_.command({"SMEMBERS", prefix_ + "nodes"}, [this](redisReply* reply) {
    if (!reply || frozen_ || shut_down_) return;
    if (reply->type != REDIS_REPLY_ARRAY) {
      if (reply->type == REDIS_REPLY_ERROR && hooks_.invalid) hooks_.invalid("the node set is not a set");
      return;
    }
    uint64_t now = uv_now(loop_);
    peers_.clear();
    for (size_t i = 0; i < reply->elements; ++i) {
      std::string_view node = redis_reply::text(reply->element[i]);
      if (!redis_reply::is_string(reply->element[i]) || !wire::is_valid_node_id(node)) {
        if (hooks_.invalid) hooks_.invalid("an invalid node id in the node set");
        continue;
      }
      if (node != node_id_) peers_.emplace_back(node);
    }
    for (auto it = announced_at_.begin(); it != announced_at_.end();) {
      if (now - it->second > kAnnouncementMemoryMs) {
        it = announced_at_.erase(it);
        continue;
      }
      if (std::find(peers_.begin(), peers_.end(), it->first) == peers_.end()) peers_.push_back(it->first);
      ++it;
    }
  });
}

void NodeLiveness::on_control_message(std::string_view payload) {
  std::optional<wire::ControlMessage> m = wire::decode_control(payload);
  if (!m) {
    if (hooks_.invalid) hooks_.invalid("a malformed control message");
    return;
  }
  if (m->node == node_id_ || frozen_) return;
  auto it = std::find(peers_.begin(), peers_.end(), m->node);
  if (m->kind == wire::ControlKind::kReady) {
    if (it == peers_.end()) peers_.push_back(m->node);
    // Bounded: a flood of made-up ids is forgotten after a few seconds.
    if (announced_at_.size() < 4096 || announced_at_.count(m->node)) announced_at_[m->node] = uv_now(loop_);
  } else {
    if (it != peers_.end()) peers_.erase(it);
    announced_at_.erase(m->node);
  }
}

}  // namespace rtcore
