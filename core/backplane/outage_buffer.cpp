#include "backplane/outage_buffer.hpp"

#include "backplane/redis_reply.hpp"
#include "common/guard.hpp"
#include "loop/heap_timer.hpp"

namespace rtcore {
namespace {

// Longest wait for peers to resubscribe before the outbox is sent anyway
// (a peer that died meanwhile never will).
constexpr uint64_t kMaxDrainWaitMs = 3000;
constexpr uint64_t kDrainPollMs = 25;

}  // namespace

OutageBuffer::OutageBuffer(uv_loop_t* loop, RedisLink& commands, std::string prefix, size_t max_bytes,
                           BackplaneStats& stats, NodeLiveness& liveness, Send send)
    : loop_(loop),
      commands_(commands),
      prefix_(std::move(prefix)),
      max_bytes_(max_bytes),
      stats_(stats),
      liveness_(liveness),
      send_(std::move(send)) {}

OutageBuffer::~OutageBuffer() {
  close_heap_timer(timer_);
}

void OutageBuffer::start() {
  timer_ = new_heap_timer(loop_, this);
}

void OutageBuffer::hold(std::string channel, std::string payload, Backplane::Done done) {
  size_t bytes = payload.size();
  auto fail = [done] {
    if (done) done(false);
  };
  hold_send(
      bytes,
      [this, channel = std::move(channel), payload = std::move(payload), done = std::move(done)]() mutable {
        send_(channel, payload, std::move(done));
      },
      std::move(fail));
}

void OutageBuffer::hold_send(size_t bytes, std::function<void()> send, std::function<void()> fail) {
  if (bytes_ + bytes > max_bytes_) {
    stats_.dropped.add();
    if (fail) fail();
    return;
  }
  bytes_ += bytes;
  stats_.buffered_bytes.set(bytes_);
  outbox_.push_back(Pending{bytes, std::move(send), std::move(fail)});
}

void OutageBuffer::link_up() {
  if (!outbox_.empty()) start_drain();
}

void OutageBuffer::link_down() {
  ready_check_outstanding_ = false;
  if (timer_) uv_timer_stop(timer_);
}

void OutageBuffer::shutdown() {
  close_heap_timer(timer_);
  std::deque<Pending> failed;
  failed.swap(outbox_);
  bytes_ = 0;
  draining_ = false;
  stats_.buffered_bytes.set(0);
  for (auto& p : failed)
    if (p.fail) p.fail();
}

void OutageBuffer::start_drain() {
  if (!timer_) return;
  draining_ = true;
  liveness_.freeze_peers(true);
  drain_started_ms_ = uv_now(loop_);
  ready_check_outstanding_ = false;
  uv_timer_start(
      timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<OutageBuffer*>(t->data);
        guarded(self->commands_.errors(), "the outage buffer's timer", [&] { self->check_peers_ready(); });
      },
      0, kDrainPollMs);
}

void OutageBuffer::check_peers_ready() {
  if (!commands_.up() || ready_check_outstanding_) return;
  const auto& peers = liveness_.peers();
  if (peers.empty() || uv_now(loop_) - drain_started_ms_ >= kMaxDrainWaitMs) return flush();
  std::vector<std::string> keys;
  keys.reserve(peers.size());
  for (const auto& p : peers) keys.push_back(prefix_ + "ready:" + p);
  std::vector<std::string_view> argv{"MGET"};
  for (const auto& k : keys) argv.push_back(k);
  ready_check_outstanding_ = true;
  commands_.command(argv, [this](redisReply* reply) {
    if (!reply) return;
    ready_check_outstanding_ = false;
    if (reply->type != REDIS_REPLY_ARRAY || !draining_) return;
    for (size_t i = 0; i < reply->elements; ++i)
      if (!reply->element[i] || reply->element[i]->type == REDIS_REPLY_NIL) return;
    flush();
  });
}

void OutageBuffer::flush() {
  uv_timer_stop(timer_);
  draining_ = false;
  liveness_.freeze_peers(false);
  // Publishes held during the outage go out first, in order.
  while (!outbox_.empty() && commands_.up()) {
    Pending p = std::move(outbox_.front());
    outbox_.pop_front();
    bytes_ -= p.bytes;
    if (p.send) p.send();
  }
  stats_.buffered_bytes.set(bytes_);
  if (!outbox_.empty()) draining_ = true;  // the link fell again: next time
}

}  // namespace rtcore
