#include "backplane/redis_subscriptions.hpp"

#include <hiredis/async.h>

#include "backplane/redis_reply.hpp"
#include "common/guard.hpp"
#include "loop/heap_timer.hpp"

namespace rtcore {
namespace {

// Channels per SUBSCRIBE command when resubscribing everything.
constexpr size_t kChannelsPerCommand = 512;

}  // namespace

RedisSubscriptions::RedisSubscriptions(uv_loop_t* loop, RedisLink& link, std::vector<std::string> always,
                                       Message on_message, Confirmed on_confirmed,
                                       std::function<void(const char*)> invalid)
    : loop_(loop),
      link_(link),
      always_(std::move(always)),
      on_message_(std::move(on_message)),
      on_confirmed_(std::move(on_confirmed)),
      invalid_(std::move(invalid)) {}

RedisSubscriptions::~RedisSubscriptions() {
  close_heap_timer(flush_timer_);
}

void RedisSubscriptions::start() {
  flush_timer_ = new_heap_timer(loop_, this);
}

void RedisSubscriptions::shutdown() {
  shut_down_ = true;
  close_heap_timer(flush_timer_);
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& [ch, list] : waiters)
    for (auto& d : list)
      if (d) d(false);
}

void RedisSubscriptions::set_flag(const std::string& channel, uint8_t flag) {
  uint8_t& f = channels_[channel];
  if (flag == kWanted && !(f & kWanted)) ++wanted_count_;
  f |= flag;
}

void RedisSubscriptions::clear_flag(const std::string& channel, uint8_t flag) {
  auto it = channels_.find(channel);
  if (it == channels_.end() || !(it->second & flag)) return;
  if (flag == kWanted) --wanted_count_;
  it->second &= static_cast<uint8_t>(~flag);
  if (!it->second) channels_.erase(it);
}

void RedisSubscriptions::clear_subscribed() {
  for (auto it = channels_.begin(); it != channels_.end();) {
    it->second &= static_cast<uint8_t>(~kSubscribed);
    it = it->second ? std::next(it) : channels_.erase(it);
  }
}

void RedisSubscriptions::want(std::string channel, bool wanted) {
  if (shut_down_) return;
  if (wanted) {
    queue_unsub_.erase(channel);
    if (!has(channel, kSubscribed) && !sub_inflight_.count(channel) && !unsub_inflight_.count(channel))
      queue_sub_.insert(channel);
    set_flag(channel, kWanted);
  } else {
    queue_sub_.erase(channel);
    if (has(channel, kSubscribed) || sub_inflight_.count(channel)) queue_unsub_.insert(channel);
    // A join undone before Redis confirmed it has nothing left to wait for.
    run_waiters(channel, true);
    clear_flag(channel, kWanted);
  }
  schedule_flush();
}

void RedisSubscriptions::when_ready(const std::string& channel, Backplane::Done done) {
  if (has(channel, kSubscribed) || shut_down_) {
    if (done) done(!shut_down_);
    return;
  }
  waiters_[channel].push_back(std::move(done));
}

void RedisSubscriptions::run_waiters(const std::string& channel, bool ok) {
  auto it = waiters_.find(channel);
  if (it == waiters_.end()) return;
  std::vector<Backplane::Done> list = std::move(it->second);
  waiters_.erase(it);
  for (auto& d : list)
    if (d) d(ok);
}

void RedisSubscriptions::schedule_flush() {
  // Batched per loop turn: a 0 ms timer runs once after everything this
  // turn has queued.
  if (flush_timer_ && !uv_is_active(reinterpret_cast<uv_handle_t*>(flush_timer_)))
    uv_timer_start(
        flush_timer_,
        [](uv_timer_t* t) {
          auto* self = static_cast<RedisSubscriptions*>(t->data);
          guarded(self->link_.errors(), "the subscription flush", [&] { self->flush(); });
        },
        0, 0);
}

void RedisSubscriptions::flush() {
  if (!link_.up()) return;  // everything wanted is sent on reconnect
  auto send = [&](const char* verb, std::unordered_set<std::string>& queue,
                  std::unordered_set<std::string>& inflight) {
    std::vector<std::string_view> argv{verb};
    auto flush_batch = [&] {
      if (argv.size() > 1) link_.command(argv, &RedisSubscriptions::on_subscription, this);
      argv.resize(1);
    };
    for (const auto& ch : queue) {
      inflight.insert(ch);
      argv.push_back(*inflight.find(ch));
      if (argv.size() > kChannelsPerCommand) flush_batch();
    }
    flush_batch();
    queue.clear();
  };
  send("SUBSCRIBE", queue_sub_, sub_inflight_);
  send("UNSUBSCRIBE", queue_unsub_, unsub_inflight_);
}

void RedisSubscriptions::on_subscription(redisAsyncContext* ac, void* reply, void* privdata) {
  // hiredis calls this for every message on every channel subscribed with
  // it, so it is not a one-shot ReplyFn; the guard is the same.
  auto* self = static_cast<RedisSubscriptions*>(privdata);
  if (!guarded(self->link_.errors(), "a subscription message handler",
               [&] { self->on_reply(static_cast<redisReply*>(reply)); }) &&
      ac && ac->data)
    self->link_.reset_soon("internal error in a subscription handler");
}

void RedisSubscriptions::on_reply(redisReply* reply) {
  if (!reply || shut_down_) return;
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3)
    return invalid_("a malformed subscription reply");
  std::string_view kind = redis_reply::text(reply->element[0]);
  if (kind == "message") {
    // Every publication from another node arrives here: no copy of the
    // channel name (a heap string for most channels, once per message).
    if (!redis_reply::is_string(reply->element[2]))
      return invalid_("a published message that is not a string");
    on_message_(redis_reply::text(reply->element[1]), redis_reply::text(reply->element[2]));
    return;
  }
  std::string channel(redis_reply::text(reply->element[1]));
  if (kind == "subscribe") {
    sub_inflight_.erase(channel);
    set_flag(channel, kSubscribed);
    run_waiters(channel, true);
    on_confirmed_(channel);
  } else if (kind == "unsubscribe") {
    unsub_inflight_.erase(channel);
    clear_flag(channel, kSubscribed);
    // Wanted again while the unsubscribe was in flight: subscribe now
    // (hiredis forgets the channel's callback when this reply arrives).
    if (has(channel, kWanted)) {
      queue_sub_.insert(channel);
      schedule_flush();
    }
  }
}

void RedisSubscriptions::link_up() {
  clear_subscribed();
  sub_inflight_.clear();
  unsub_inflight_.clear();
  queue_unsub_.clear();
  queue_sub_.clear();
  for (const auto& [ch, flags] : channels_)
    if (flags & kWanted) queue_sub_.insert(ch);
  for (const auto& ch : always_) queue_sub_.insert(ch);
  flush();
}

void RedisSubscriptions::link_down() {
  clear_subscribed();
  sub_inflight_.clear();
  unsub_inflight_.clear();
}

}  // namespace rtcore
